# The engine's monitor facade (what the desktop app is built on) and the action preview.
keepflow_add_test(tst_monitor SOURCES tst_monitor.cpp harness.h LIBS Keepflow::Engine)
