# The store's runs-list queries (paging, filters, search, step counts).
keepflow_add_test(tst_runqueries SOURCES tst_runqueries.cpp LIBS Keepflow::Engine)
