# The runs list: lazy model, filters, live updates and its view.
keepflow_add_test(tst_runsmodel SOURCES tst_runsmodel.cpp LIBS Keepflow::Ui)
