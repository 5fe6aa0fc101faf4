#!/usr/bin/env bash
# Runs the example flows against a demo database and shows what happened.
# The headless demo: keepflowctl printing live progress (the desktop demo is `keepflow --demo`).
set -uo pipefail
build_dir=${1:-build/release}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ctl="$here/$build_dir/app/keepflowctl/keepflowctl"
home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
db=${KEEPFLOW_DEMO_DB:-${XDG_DATA_HOME:-$home/.local/share}/keepflow/demo.db}
mkdir -p "$(dirname "$db")"
echo "== Keepflow demo (database: $db)"
for flow in nightly-pipeline incident-runbook; do
  echo
  echo "== keepflowctl run resources/examples/$flow.flow.json"
  "$ctl" run "$here/resources/examples/$flow.flow.json" --db "$db"
  echo "(exit code $?: 0 succeeded, 2 completed with failures, 3 failed, 4 waiting for an operator)"
done
echo
echo "== keepflowctl list"
"$ctl" list --db "$db"
