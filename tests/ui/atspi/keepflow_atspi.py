"""What the AT-SPI scripts beside this file share: finding Keepflow and its widgets on the
accessibility bus, waiting for a condition, pressing an accessible. Uses python3-pyatspi."""
import time

import pyatspi


def find(root, predicate, depth=0):
    if root is None or depth > 40:
        return None
    try:
        if predicate(root):
            return root
        for i in range(root.childCount):
            found = find(root.getChildAtIndex(i), predicate, depth + 1)
            if found is not None:
                return found
    except Exception:
        pass
    return None


def wait_for(what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.25)
    return None


def app():
    desktop = pyatspi.Registry.getDesktop(0)
    for i in range(desktop.childCount):
        a = desktop.getChildAtIndex(i)
        if a is not None and a.name.lower() == "keepflow":
            return a
    return None


def main_window():
    """Keepflow's main window once it is on the bus (waits), or None when it never comes."""
    application = wait_for(app)
    if application is None:
        print("keepflow is not on the accessibility bus")
        return None
    return wait_for(lambda: find(application, lambda o: o.getRole() == pyatspi.ROLE_FRAME))


def press(accessible, wanted=("press", "click", "activate")):
    action = accessible.queryAction()
    for i in range(action.nActions):
        if action.getName(i) in wanted:
            return action.doAction(i)
    return action.doAction(0)


def role_named(role, name):
    return lambda o: o.getRole() == role and o.name == name
