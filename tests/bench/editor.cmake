# The editor's document model at 1,000 steps: remove and its undo, save, validate, merged moves.
# Prints figures; not a ctest test.
add_executable(bench_editor bench_editor.cpp)
target_link_libraries(bench_editor PRIVATE Keepflow::Ui Keepflow::Warnings)
# Dragging 100 of 1,000 steps in the editor's canvas: frames per second and time per move.
add_executable(bench_canvas bench_canvas.cpp)
target_link_libraries(bench_canvas PRIVATE Keepflow::Ui Qt6::Test Keepflow::Warnings)
