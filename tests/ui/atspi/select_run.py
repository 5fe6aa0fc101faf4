#!/usr/bin/python3
"""Selects a row of Keepflow's runs list through AT-SPI, as a screen reader's "select" does,
and checks that the run opened (the window title names it and the Steps table changes).

Run it with the app under the real accessibility bus (see README.md beside this file). Uses
Debian's python3-pyatspi. Exit status 0: the run opened; 1: it did not; 2: not found.
"""
import sys

import pyatspi

from keepflow_atspi import find, main_window, wait_for


def main():
    frame = main_window()
    if frame is None:
        return 2
    runs = wait_for(lambda: find(frame, lambda o: o.name == "Runs" and
                                 o.getRole() == pyatspi.ROLE_TABLE))
    steps_table = find(frame, lambda o: o.name == "Steps" and o.getRole() == pyatspi.ROLE_TABLE)
    if runs is None or steps_table is None:
        print("runs list or step table not found")
        return 2
    table = runs.queryTable()
    wait_for(lambda: table.nRows >= 2)
    columns = [table.getColumnHeader(c).name if table.getColumnHeader(c) else ""
               for c in range(table.nColumns)]
    run_column = columns.index("Run") if "Run" in columns else 2

    def run_at(row):
        return table.getAccessibleAt(row, run_column).name.replace("Run: ", "")

    def step_names():
        t = steps_table.queryTable()
        return [t.getAccessibleAt(r, 1).name for r in range(t.nRows)]

    print("window title before:", frame.name)
    print("runs listed:", table.nRows, "- steps shown before:", step_names())
    # A row that is not open now (the title names the open run).
    row = next(r for r in range(table.nRows) if run_at(r) not in frame.name)
    target = run_at(row)
    print("selecting row %d (run %s)" % (row, target))
    try:
        selection = runs.querySelection()
        child = row * table.nColumns + run_column
        ok = selection.selectChild(child)
        how = "Selection.selectChild(%d)" % child
    except NotImplementedError:
        # Qt 6.4 exposes no Selection interface on item views (QAccessibleSelectionInterface
        # came with Qt 6.5); its Table interface's row selection is what clients use there.
        ok = table.addRowSelection(row)
        how = ("Selection interface not exposed by this Qt; "
               "Table.addRowSelection(%d)" % row)
    print("%s returned %s" % (how, ok))
    opened = wait_for(lambda: target in frame.name, timeout=10.0)
    print("window title after:", frame.name)
    print("steps shown after:", step_names())
    print("row selected:", table.isRowSelected(row))
    if opened:
        print("PASS: run %s opened" % target)
        return 0
    print("FAIL: run %s did not open" % target)
    return 1


if __name__ == "__main__":
    sys.exit(main())
