# The runs list over 100,000 runs: store queries, first paint, scrolling to the end, memory.
# Prints figures; not run by ctest. Usage: bench_runs [--runs N] [--extra-index]
add_executable(bench_runs bench_runs.cpp)
target_link_libraries(bench_runs PRIVATE Keepflow::Ui Keepflow::EngineInternals Keepflow::Warnings)
