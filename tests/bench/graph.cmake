# The run graph under load: first paint, repaint rate under a stream of state changes, memory,
# scene index and item cache comparisons. Prints figures; not a ctest test.
add_executable(bench_graph bench_graph.cpp)
target_link_libraries(bench_graph PRIVATE Keepflow::Ui Keepflow::Warnings)

# Time travel over a run of 1,000 steps and 50,000 events: the replay alone, and with the
# graph and step table redrawn. Prints figures; not a ctest test.
add_executable(bench_replay bench_replay.cpp)
target_link_libraries(bench_replay PRIVATE Keepflow::Ui Keepflow::Warnings)
