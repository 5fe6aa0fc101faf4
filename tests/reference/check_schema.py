#!/usr/bin/python3
"""The flow file JSON Schema against the engine's validator.

  check_schema.py --schema FILE --keepflowctl PATH --flows DIR [--also DIR]... [--page FILE]

- every *.flow.json under --also (the shipped examples and demo flows) names the schema in
  "$schema", is valid against it and passes `keepflowctl validate` without a warning;
- DIR/valid, and every whole flow (a literal block holding "keepflow") in the EXAMPLES of the
  scdoc --page:
  both accept, without a warning from keepflowctl;
- DIR/invalid: both refuse (validate exits 1), and they name the same place (one JSON pointer
  equal to or inside the other): the same problem, not two different ones;
- DIR/warning: keepflowctl accepts with a warning about an unknown key (it keeps such keys), the
  schema refuses the key so that editors flag the typo;
- DIR/engine-only: rules the schema cannot express (cycles, references, templates, ranges of
  durations): keepflowctl refuses, the schema accepts. Listed as "engine only"; a file the schema
  starts to refuse moves to invalid/.

Exits 1 naming every disagreement.
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    sys.exit("check_schema: the Python module jsonschema is missing: apt-get install "
             "python3-jsonschema (packaging/setup.sh installs it)")


def pointer(path):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def engine(keepflowctl, file):
    """validate's exit code and its problems (severity, JSON pointer, message)."""
    done = subprocess.run([keepflowctl, "validate", "--json", str(file)],
                          capture_output=True, text=True, check=False)
    try:
        report = json.loads(done.stdout)[0]
    except (ValueError, IndexError) as error:
        raise SystemExit(f"check_schema: keepflowctl validate --json {file}: unreadable output "
                         f"({error}): {done.stdout!r} {done.stderr!r}")
    return done.returncode, report["problems"]


def schema_errors(validator, file):
    instance = json.loads(file.read_text(encoding="utf-8"))
    return sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))


def describe(errors):
    return "; ".join(f"{pointer(e.path) or '/'}: {e.message[:160]}" for e in errors)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--schema", required=True, type=pathlib.Path)
    parser.add_argument("--keepflowctl", required=True)
    parser.add_argument("--flows", required=True, type=pathlib.Path)
    parser.add_argument("--also", action="append", default=[], type=pathlib.Path)
    parser.add_argument("--page", type=pathlib.Path)
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()

    schema = json.loads(args.schema.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []
    counts = {}

    def fail(file, why):
        failures.append(f"{file}: {why}")

    def files(folder):
        found = sorted(folder.glob("*.flow.json"))
        if not found:
            fail(folder, "no *.flow.json here")
        counts[folder] = len(found)
        return found

    shipped = [f for folder in args.also for f in files(folder)]
    documented = []
    if args.page:
        examples = args.page.read_text(encoding="utf-8").partition("\n# EXAMPLES\n")[2]
        examples = re.split(r"^# ", examples, flags=re.M)[0]
        blocks = re.findall(r"^```\n(.*?)^```", examples, re.S | re.M)
        for n, text in enumerate(b for b in blocks if '"keepflow"' in b):
            documented.append(pathlib.Path(scratch.name) / f"{args.page.name}-{n + 1}.flow.json")
            documented[-1].write_text(text, encoding="utf-8")
        if not documented:
            fail(args.page, "no example flow (a literal block holding \"keepflow\")")
        counts[args.page] = len(documented)
    for file in shipped + documented + files(args.flows / "valid"):
        errors = schema_errors(validator, file)
        if errors:
            fail(file, "the schema refuses it: " + describe(errors))
        code, problems = engine(args.keepflowctl, file)
        if code != 0 or problems:
            fail(file, f"keepflowctl validate exits {code}: {problems}")
    for file in shipped:
        named = json.loads(file.read_text(encoding="utf-8")).get("$schema")
        if named != schema["$id"]:
            fail(file, f'"$schema" is {named!r}, not the schema\'s $id {schema["$id"]!r}')

    for file in files(args.flows / "invalid"):
        errors = schema_errors(validator, file)
        code, problems = engine(args.keepflowctl, file)
        if not errors:
            fail(file, "the schema accepts it; keepflowctl validate says: "
                 + "; ".join(p["message"] for p in problems))
        if code != 1:
            fail(file, f"keepflowctl validate exits {code}, not 1 (schema: {describe(errors)})")
            continue
        engine_paths = [p["path"] for p in problems if p["severity"] == "error"]
        schema_paths = [pointer(e.path) for e in errors]
        def related(a, b):  # the same value, or one inside the other
            return a == b or a.startswith(b + "/") or b.startswith(a + "/")
        if errors and not any(related(e, s) for e in engine_paths for s in schema_paths):
            fail(file, f"different problems: keepflowctl at {engine_paths}, the schema at "
                 f"{schema_paths} ({describe(errors)})")

    for file in files(args.flows / "warning"):
        errors = schema_errors(validator, file)
        code, problems = engine(args.keepflowctl, file)
        warnings = [p for p in problems if p["severity"] == "warning"
                    and "unknown key" in p["message"]]
        if code != 0 or not warnings or len(warnings) != len(problems):
            fail(file, f"keepflowctl validate should accept it with one unknown-key warning: "
                 f"exit {code}, {problems}")
        if not errors:
            fail(file, "the schema accepts the unknown key")

    engine_only = []
    for file in files(args.flows / "engine-only"):
        errors = schema_errors(validator, file)
        code, problems = engine(args.keepflowctl, file)
        if code != 1:
            fail(file, f"keepflowctl validate exits {code}, not 1")
        if errors:
            fail(file, "the schema refuses it too: move it to invalid/ (" + describe(errors) + ")")
        engine_only.append(f"  {file.name}: "
                           + "; ".join(p["message"] for p in problems if p["severity"] == "error"))

    for folder, n in counts.items():
        print(f"{folder}: {n} files")
    print("engine only (keepflowctl validate refuses, the schema cannot say):")
    print("\n".join(engine_only))
    if failures:
        print(f"\n{len(failures)} disagreement(s):", file=sys.stderr)
        print("\n".join(failures), file=sys.stderr)
        return 1
    print("schema and keepflowctl validate agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
