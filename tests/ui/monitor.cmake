# The desktop monitor's main window driven as an operator would (offscreen).
keepflow_add_test(tst_mainwindow SOURCES tst_mainwindow.cpp LIBS Keepflow::Ui)
# A lost connection to a shared database, on PostgreSQL only.
keepflow_test_on_postgresql(tst_mainwindow lostConnectionIsSaidAndNothingTypedIsLost)
keepflow_add_test(tst_theme SOURCES tst_theme.cpp LIBS Keepflow::Ui)
keepflow_add_test(tst_secretsdialog SOURCES tst_secretsdialog.cpp LIBS Keepflow::Ui)
# The window on a small laptop's screen: Qt's offscreen platform with one 1280x720 screen.
add_test(NAME tst_mainwindow_1280x720
         COMMAND tst_mainwindow savedGeometryIsClampedToASmallScreen windowFitsItsScreenAndTheGraphLeads)
set_tests_properties(tst_mainwindow_1280x720 PROPERTIES TIMEOUT 120 ENVIRONMENT
    "QT_QPA_PLATFORM=offscreen:configfile=${CMAKE_CURRENT_SOURCE_DIR}/offscreen-1280x720.json")
