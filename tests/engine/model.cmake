# Flow model, validation and templating tests.
keepflow_add_test(tst_flowfile SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_flowfile.cpp
                  LIBS Keepflow::Engine)
# The examples must stay canonical: tst_flowfile reads every file in this folder.
target_compile_definitions(tst_flowfile PRIVATE
    KEEPFLOW_EXAMPLES_DIR="${CMAKE_CURRENT_LIST_DIR}/../../resources/examples")
keepflow_add_test(tst_validation SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_validation.cpp
                  LIBS Keepflow::Engine)
keepflow_add_test(tst_template SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_template.cpp
                  LIBS Keepflow::Engine)
