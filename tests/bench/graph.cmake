# The run graph under load: first paint, repaint rate under a stream of state changes, memory,
# scene index and item cache comparisons. Prints figures; not a ctest test.
add_executable(bench_graph bench_graph.cpp)
target_link_libraries(bench_graph PRIVATE Keepflow::Ui Keepflow::Warnings)
