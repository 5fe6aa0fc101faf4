# The desktop monitor's main window driven as an operator would (offscreen).
keepflow_add_test(tst_mainwindow SOURCES tst_mainwindow.cpp LIBS Keepflow::Ui)
# A lost connection to a shared database, on PostgreSQL only.
keepflow_test_on_postgresql(tst_mainwindow lostConnectionIsSaidAndNothingTypedIsLost)
keepflow_add_test(tst_theme SOURCES tst_theme.cpp LIBS Keepflow::Ui)
keepflow_add_test(tst_secretsdialog SOURCES tst_secretsdialog.cpp LIBS Keepflow::Ui)
