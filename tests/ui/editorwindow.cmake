# The editor window driven as a flow author would (offscreen).
keepflow_add_test(tst_editorwindow SOURCES tst_editorwindow.cpp LIBS Keepflow::Ui)
target_compile_definitions(tst_editorwindow PRIVATE KEEPFLOW_RESOURCES="${CMAKE_SOURCE_DIR}/resources")
# "Apply to run…": the upgrade plan dialog and applying it to a run (offscreen).
keepflow_add_test(tst_upgradedialog SOURCES tst_upgradedialog.cpp LIBS Keepflow::Ui)
