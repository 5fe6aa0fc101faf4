# The engine's monitor facade (what the desktop app is built on) and the action preview.
keepflow_add_test(tst_monitor SOURCES tst_monitor.cpp harness.h LIBS Keepflow::Engine)
# Reconnecting after a lost connection, on PostgreSQL only (the restart drill starts a server of
# its own with pgserver.sh).
target_compile_definitions(tst_monitor PRIVATE
    KEEPFLOW_PGSERVER="${CMAKE_SOURCE_DIR}/tests/support/pgserver.sh")
keepflow_test_on_postgresql(tst_monitor reconnectsAfterItsConnectionIsKilled
                            reconnectsAfterTheServerRestarts)
