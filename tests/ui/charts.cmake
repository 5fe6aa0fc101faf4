# The run timeline, the resources panel and the latency tracker (ui/charts).
keepflow_add_test(tst_charts SOURCES tst_charts.cpp LIBS Keepflow::Ui)
