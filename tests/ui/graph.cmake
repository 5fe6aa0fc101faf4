# The run graph: scene, items, layout, view, minimap and legend.
keepflow_add_test(tst_graphscene SOURCES tst_graphscene.cpp LIBS Keepflow::Ui)
