# The flow editor: document model with undo (tst_flowdocument).
keepflow_add_test(tst_flowdocument SOURCES tst_flowdocument.cpp LIBS Keepflow::Ui)
target_compile_definitions(tst_flowdocument PRIVATE
    KEEPFLOW_EXAMPLES="${CMAKE_SOURCE_DIR}/resources/examples"
    KEEPFLOW_DEMO="${CMAKE_SOURCE_DIR}/resources/demo")
keepflow_add_test(tst_propertyeditor SOURCES tst_propertyeditor.cpp LIBS Keepflow::Ui)
keepflow_add_test(tst_editorcanvas SOURCES tst_editorcanvas.cpp LIBS Keepflow::Ui)
