#!/usr/bin/python3
"""The man pages against the programs' own help.

  check_manpage.py --keepflowctl PATH --keepflowctl-page FILE.scd
                   [--keepflow PATH --keepflow-page FILE.scd]

keepflowctl: every command `keepflowctl --help` lists has a section (## COMMAND, or a heading
naming several commands, "## approve, reject") in the page and every section names a command
there is; every option `keepflowctl COMMAND --help` prints under "options:" appears in that
command's section, and every global option in GLOBAL OPTIONS. Also what the help promises:
--help and --version exit 0, no command or an option the command does not take exit 1.
keepflow: every option `keepflow --help` prints appears in the page's OPTIONS.

The pages are read in their scdoc source, so the check does not need scdoc. Exits 1 naming every
command or option missing from a page.
"""

import argparse
import re
import subprocess
import sys


def run(*argv):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


def sections(page):
    """The text under each "# HEADING" of an scdoc page, and under each "## HEADING" by the
    "# HEADING" it is in: ({top: text}, {top: {sub: text}}). Literal blocks are text."""
    top, sub = {}, {}
    current, current_sub = None, None
    literal = False
    for line in page.splitlines():
        if line.startswith("```"):
            literal = not literal
        match = None if literal else re.match(r"^(#{1,2}) (.*)$", line)
        if match and len(match.group(1)) == 1:
            current, current_sub = match.group(2).strip(), None
            top[current] = ""
            continue
        if match and current is not None:
            current_sub = match.group(2).strip()
            sub.setdefault(current, {})[current_sub] = ""
            continue
        if current is not None:
            top[current] += line + "\n"
            if current_sub is not None:
                sub[current][current_sub] += line + "\n"
    return top, sub


def block(text, title):
    """The option names of the lines of a help text's block ("options:")."""
    names = []
    inside = False
    for line in text.splitlines():
        if line == title:
            inside = True
        elif inside and not line.strip():
            break
        elif inside and line.startswith("  -"):
            names += re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", line.split("  ")[1])
    return names


def mentions(text, option):
    return re.search(r"(?<![\w-])" + re.escape(option) + r"(?![\w-])", text) is not None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keepflowctl", required=True)
    parser.add_argument("--keepflowctl-page", required=True)
    parser.add_argument("--keepflow")
    parser.add_argument("--keepflow-page")
    args = parser.parse_args()
    problems = []

    with open(args.keepflowctl_page, encoding="utf-8") as f:
        page = f.read()
    top, sub = sections(page)
    by_command = {}
    for heading, text in sub.get("COMMANDS", {}).items():
        for name in heading.split(","):
            by_command[name.strip()] = text
    if not by_command:
        problems.append(f"{args.keepflowctl_page}: no ## sections under # COMMANDS")

    code, overview, err = run(args.keepflowctl, "--help")
    if code != 0 or not overview.startswith("usage: keepflowctl COMMAND"):
        problems.append(f"keepflowctl --help: exit {code}, {overview[:80]!r} {err[:200]!r}")
    listed = []
    inside = False
    for line in overview.splitlines():
        if line == "commands:":
            inside = True
        elif inside and not line.strip():
            break
        elif inside and re.match(r"^  [a-z]", line):
            listed.append(line.split()[0])
    if len(listed) < 20:
        problems.append(f"keepflowctl --help lists only {listed}")

    for command in listed:
        if command not in by_command:
            problems.append(f"{args.keepflowctl_page}: no section for the command {command} "
                            f"(## {command} under # COMMANDS)")
        code, help_text, err = run(args.keepflowctl, command, "--help")
        if code != 0 or not help_text.startswith(f"usage: keepflowctl {command}"):
            problems.append(f"keepflowctl {command} --help: exit {code}, {help_text[:80]!r} "
                            f"{err[:200]!r}")
            continue
        for option in block(help_text, "options:"):
            if not mentions(by_command.get(command, ""), option):
                problems.append(f"{args.keepflowctl_page}: the section of {command} does not "
                                f"document {option} (keepflowctl {command} --help lists it)")
        for option in block(help_text, "global options:"):
            if not mentions(top.get("GLOBAL OPTIONS", ""), option):
                problems.append(f"{args.keepflowctl_page}: GLOBAL OPTIONS does not document "
                                f"{option} (keepflowctl {command} --help lists it)")
    for command in by_command:
        if command not in listed:
            problems.append(f"{args.keepflowctl_page}: a section for {command!r}, which "
                            f"keepflowctl --help does not list")

    # What the help says about itself.
    code, out, err = run(args.keepflowctl)
    if code != 1 or not err.startswith("usage: keepflowctl COMMAND") or out:
        problems.append(f"keepflowctl without a command: exit {code} (not 1), stdout {out[:60]!r}")
    code, out, err = run(args.keepflowctl, "list", "--detach")
    if code != 1 or "list" not in err or "detach" not in err:
        problems.append(f"keepflowctl list --detach (run's option): exit {code}, {err[:200]!r}")
    code, out, err = run(args.keepflowctl, "--version")
    if code != 0 or not re.match(r"^keepflowctl [0-9]+\.[0-9]+\.[0-9]+\n$", out):
        problems.append(f"keepflowctl --version: exit {code}, {out!r}")

    if args.keepflow:
        with open(args.keepflow_page, encoding="utf-8") as f:
            options_text = sections(f.read())[0].get("OPTIONS", "")
        code, help_text, err = run(args.keepflow, "--help")
        options = block(help_text, "options:")
        if code != 0 or len(options) < 8:
            problems.append(f"keepflow --help: exit {code}, options {options}, {err[:200]!r}")
        for option in options:
            if not mentions(options_text, option):
                problems.append(f"{args.keepflow_page}: OPTIONS does not document {option} "
                                f"(keepflow --help lists it)")

    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"keepflowctl(1) documents {len(listed)} commands and their options"
          + (", keepflow(1) every option" if args.keepflow else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
