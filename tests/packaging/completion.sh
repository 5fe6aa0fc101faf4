#!/usr/bin/env bash
# Bash completion of keepflowctl: sources packaging/completion/keepflowctl with bash-completion
# and checks what it offers for a command, an option, and the run and step ids of a database
# named by --db, by KEEPFLOW_DB, and none from another database.
# Usage: completion.sh KEEPFLOWCTL COMPLETION_FILE. Exit 77 (skipped) without bash-completion.
set -euo pipefail
ctl=$1
completion=$2
bash_completion=/usr/share/bash-completion/bash_completion
if [ ! -r "$bash_completion" ]; then
  echo "SKIP: $bash_completion is missing (Debian package bash-completion)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset KEEPFLOW_DB
export HOME=$work # keepflowctl's default database, should the completion fall back to it

cat >"$work/two.flow.json" <<'FLOW'
{ "keepflow": 1, "name": "two", "steps": [ { "id": "fetch", "kind": "noop" },
  { "id": "publish", "kind": "noop", "after": ["fetch"] } ] }
FLOW
db=$work/runs.db
run=$("$ctl" submit "$work/two.flow.json" --db "$db")
[ -n "$run" ] || { echo "FAIL: submit printed no run id"; exit 1; }

# bash-completion's own set-up expects an interactive shell's lax settings.
set +eu
# shellcheck disable=SC1090
source "$bash_completion"
# shellcheck disable=SC1090
source "$completion"

failures=0
# complete WORD...: COMPREPLY for the last word, as if typed after "$ctl".
complete_line() {
  COMP_WORDS=("$ctl" "$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _keepflowctl
}
# expect DESCRIPTION WANTED [present|absent]: whether WANTED is among COMPREPLY.
expect() {
  local what=$1 wanted=$2 mode=${3:-present} found=absent reply
  for reply in "${COMPREPLY[@]}"; do
    [ "$reply" = "$wanted" ] && found=present
  done
  if [ "$found" = "$mode" ]; then
    echo "ok: $what"
  else
    echo "FAIL: $what: '$wanted' is $found in: ${COMPREPLY[*]}"
    failures=$((failures + 1))
  fi
}

complete_line sta
expect "a command" status
expect "only commands that start with the word" list absent
complete_line list --st
expect "an option of list" --state
complete_line retry --fail
expect "an option of retry" --failed-items
complete_line list --state fa
expect "a run state" failed
complete_line status --db "$db" ""
expect "a run id from --db" "$run"
complete_line status "--db=$db" ""
expect "a run id from --db=" "$run"
complete_line diff --db "$db" "$run" ""
expect "the other run of diff" "$run"
complete_line retry --db "$db" "$run" ""
expect "a step id of the run" publish
expect "a step id of the run" fetch
complete_line status --db "$db" "$run" --a
expect "an option of status" --at
first_event=$("$ctl" events "$run" --json --db "$db" | sed -n 's/^        "id": \([0-9]*\),\{0,1\}$/\1/p' | head -1)
complete_line status --db "$db" "$run" --at ""
expect "an event id of the run for --at" "$first_event"
KEEPFLOW_DB=$db
export KEEPFLOW_DB
complete_line cancel ""
expect "a run id from KEEPFLOW_DB" "$run"
complete_line cancel --db "$work/other.db" ""
expect "--db wins over KEEPFLOW_DB" "$run" absent
unset KEEPFLOW_DB
complete_line status ""
expect "no run id from the default database" "$run" absent

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
