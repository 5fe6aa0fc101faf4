# Triage across runs in the desktop: the Failures tab, the runs list's filters, the bulk dialog.
keepflow_add_test(tst_triageui SOURCES tst_triageui.cpp LIBS Keepflow::Ui)
