#!/usr/bin/env bash
# systemd-analyze verify on the worker's units, as configured for this build (ExecStart names
# the keepflowctl built here, so that the check that it exists is meaningful). Any message —
# an unknown key, a value systemd cannot parse, a program that is missing — fails, since
# systemd-analyze reports those and still exits 0. Exit 77 (skipped) without systemd-analyze.
# Usage: verify-units.sh USER_UNIT TEMPLATE_UNIT
set -euo pipefail
user_unit=$1
template=$2
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() {
  local status=0 said
  said=$("$@" 2>&1) || status=$?
  if [ "$status" -ne 0 ] || [ -n "$said" ]; then
    printf '%s\n' "$said"
    echo "FAIL: $* exited $status"
    failures=$((failures + 1))
  else
    echo "ok: $*"
  fi
}
# The user manager's view needs a runtime folder of its own.
mkdir -m 0700 "$work/runtime"
cp "$user_unit" "$work/keepflow-worker.service"
check env XDG_RUNTIME_DIR="$work/runtime" systemd-analyze --user verify \
  "$work/keepflow-worker.service"
# A template is verified as an instance of it.
cp "$template" "$work/keepflow-worker@keepflow.service"
check systemd-analyze verify "$work/keepflow-worker@keepflow.service"
[ "$failures" -eq 0 ]
