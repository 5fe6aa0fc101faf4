#!/usr/bin/python3
"""keepflow --version and --help answer without a display.

  check_desktop_cli.py --keepflow PATH --version X.Y.Z

Runs them with DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM unset (as on a server, or in a
package build): each must exit 0 with its text on stdout. Before the application object was
created first, Qt aborted there ("could not connect to display").
"""

import argparse
import os
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keepflow", required=True)
    parser.add_argument("--version", required=True)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    problems = []

    def run(*argv):
        return subprocess.run([args.keepflow, *argv], capture_output=True, text=True, env=env,
                              timeout=60, check=False)

    done = run("--version")
    if done.returncode != 0 or done.stdout != f"keepflow {args.version}\n":
        problems.append(f"keepflow --version: exit {done.returncode}, stdout {done.stdout!r}, "
                        f"stderr {done.stderr[:300]!r}")
    for flag in ("--help", "-h"):
        done = run(flag)
        if (done.returncode != 0 or not done.stdout.startswith("usage: keepflow")
                or "--version" not in done.stdout or "--db PATH" not in done.stdout):
            problems.append(f"keepflow {flag}: exit {done.returncode}, stdout "
                            f"{done.stdout[:200]!r}, stderr {done.stderr[:300]!r}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print("keepflow --version and --help answer without a display")
    return 0


if __name__ == "__main__":
    sys.exit(main())
