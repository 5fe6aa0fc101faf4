#!/usr/bin/python3
"""Drives Keepflow's run page through AT-SPI as an assistive client does: opens the demo's
nightly-pipeline run, selects its failed step from the graph (not the table), opens what the
step's attempt printed (the inspector's Logs tab) and retries the step with a reason, then checks
that a new attempt was made.

Run it with the app under the real accessibility bus (see README.md beside this file). Uses
Debian's python3-pyatspi. Exit status 0: every stage passed; 1: a stage failed; 2: not found.
"""
import sys

import pyatspi

from keepflow_atspi import find, main_window, wait_for, press, role_named


def main():
    frame = main_window()
    if frame is None:
        return 2
    application = frame.getApplication()  # dialogs are its children, beside the frame
    runs = wait_for(lambda: find(frame, role_named(pyatspi.ROLE_TABLE, "Runs")))
    if runs is None:
        print("runs list not found")
        return 2
    table = runs.queryTable()
    wait_for(lambda: table.nRows >= 3)

    # 1. Open the nightly pipeline's run (the demo starts three runs).
    def row_of_flow(flow):
        for r in range(table.nRows):
            for c in range(table.nColumns):
                cell = table.getAccessibleAt(r, c)
                if cell is not None and flow in cell.name:
                    return r
        return None
    found = wait_for(lambda: (lambda r: (r,) if r is not None else None)(
        row_of_flow("nightly-pipeline")))  # a tuple: row 0 is a find too
    row = found[0] if found else None
    if row is None:
        print("no nightly-pipeline run listed")
        return 2
    table.addRowSelection(row)
    if not wait_for(lambda: "nightly-pipeline" in frame.name, timeout=10):
        print("FAIL: selecting the run's row did not open it (title: %s)" % frame.name)
        return 1
    print("opened:", frame.name)

    # 2. The failed step, found among the graph's accessible children, selected by its action.
    graph = wait_for(lambda: find(frame, role_named(pyatspi.ROLE_LIST, "Run graph")))
    if graph is None:
        print("run graph not found")
        return 2

    def failed_node():
        for i in range(graph.childCount):
            node = graph.getChildAtIndex(i)
            if node is not None and node.description.endswith(": Failed"):
                return node
        return None
    node = wait_for(failed_node, timeout=60)
    if node is None:
        print("FAIL: no failed step among the graph's %d nodes" % graph.childCount)
        return 1
    step = node.name
    print("graph node:", step, "-", node.description)
    press(node)
    title = wait_for(lambda: find(frame, lambda o: o.getRole() == pyatspi.ROLE_LABEL and
                                  o.name.startswith(step + "  (")), timeout=10)
    if title is None:
        print("FAIL: pressing the node did not show %s in the inspector" % step)
        return 1
    print("inspector shows:", title.name)

    # 3. Its output: the Logs tab, selected as a client selects a page tab.
    tabs = find(frame, lambda o: o.getRole() == pyatspi.ROLE_PAGE_TAB_LIST and
                find(o, role_named(pyatspi.ROLE_PAGE_TAB, "Logs"), 0) is not None)
    if tabs is None:
        print("FAIL: no Logs tab")
        return 1
    index = next(i for i in range(tabs.childCount) if tabs.getChildAtIndex(i).name == "Logs")
    try:
        tabs.querySelection().selectChild(index)
    except NotImplementedError:
        # Qt 6.4 gives tab bars no Selection interface; their tabs have a press action.
        press(tabs.getChildAtIndex(index))
    output = wait_for(lambda: find(frame, role_named(pyatspi.ROLE_TEXT, "Printed output")))
    if output is None:
        print("FAIL: the Logs tab shows no output text")
        return 1
    text = output.queryText()
    print("Logs tab:", repr(text.getText(0, -1)[:200]))
    attempts = find(frame, role_named(pyatspi.ROLE_TABLE, "Attempts"))
    before = attempts.queryTable().nRows if attempts is not None else -1

    # 4. Retry it with a reason, through the inspector's button and the dialog.
    retry = find(frame, lambda o: o.getRole() == pyatspi.ROLE_PUSH_BUTTON and o.name == "Retry")
    if retry is None:
        print("FAIL: no Retry button")
        return 1
    press(retry)
    dialog = wait_for(lambda: find(application, lambda o: o.getRole() == pyatspi.ROLE_DIALOG and
                                   o.name.startswith("Retry")), timeout=10)
    if dialog is None:
        print("FAIL: no Retry dialog")
        return 1
    reason = find(dialog, lambda o: o.name == "Reason" and o.getRole() in
                  (pyatspi.ROLE_TEXT, pyatspi.ROLE_ENTRY))
    if reason is not None:
        reason.queryEditableText().setTextContents("search cluster restarted")
    confirm = find(dialog, lambda o: o.getRole() == pyatspi.ROLE_PUSH_BUTTON and
                   o.name not in ("Cancel", "") and o.name.startswith("Retry"))
    if confirm is None:
        print("FAIL: the dialog has no confirm button")
        return 1
    print("dialog:", dialog.name, "- confirming with", repr(confirm.name))
    press(confirm)
    made = wait_for(lambda: attempts is not None and attempts.queryTable().nRows > before,
                    timeout=20)
    print("attempts of %s: %d before, %d after" %
          (step, before, attempts.queryTable().nRows if attempts is not None else -1))
    if not made:
        print("FAIL: the retry made no new attempt")
        return 1
    print("PASS: %s selected from the graph, its output read, retried" % step)
    return 0


if __name__ == "__main__":
    sys.exit(main())
