# Step kinds that talk to the outside world: http against a loopback server, sql against SQLite.
keepflow_add_test(tst_httpstep SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_httpstep.cpp
                  LIBS Keepflow::Engine keepflow_test_support)
keepflow_add_test(tst_sqlstep SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_sqlstep.cpp
                  LIBS Keepflow::Engine keepflow_test_support)
keepflow_add_test(tst_resources_http SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_resources_http.cpp
                  ${CMAKE_CURRENT_LIST_DIR}/harness.h LIBS Keepflow::Engine keepflow_test_support)
