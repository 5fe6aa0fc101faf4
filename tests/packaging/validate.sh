#!/usr/bin/env bash
# Runs a validator (desktop-file-validate, appstreamcli …) on a file; passes when it exits 0
# and, with --silent, also says nothing (desktop-file-validate exits 0 after hints and
# warnings). Exit 77 (skipped) when the validator is not installed.
# Usage: validate.sh [--silent] PROGRAM [ARGUMENT]... FILE
set -euo pipefail
silent=false
if [ "${1-}" = --silent ]; then
  silent=true
  shift
fi
program=$1
if ! command -v "$program" >/dev/null; then
  echo "SKIP: $program is not installed"
  exit 77
fi
status=0
said=$("$@" 2>&1) || status=$?
printf '%s\n' "$said"
if [ "$status" -ne 0 ] || { $silent && [ -n "$said" ]; }; then
  echo "FAIL: $* exited $status${said:+ and said the above}"
  exit 1
fi
echo "ok: $*"
