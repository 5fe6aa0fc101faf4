#!/usr/bin/env bash
# Keepflow against DBOS Transact on one throw-away PostgreSQL server, in one run, next to
# PostgreSQL's own durable commit rate (pgbench). See README.md next to this file.
#   tests/bench/peers/run.sh [--keepflowctl PATH] [--seconds N] [--json FILE]
# Exit status: 0 when every part ran or was skipped for a reason it prints
# (`peers: SKIPPED ...`), 1 when a part failed (`peers: FAILED ...`), 2 on a usage error.
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME and printf with a decimal point

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)

usage() {
  echo "usage: tests/bench/peers/run.sh [--keepflowctl PATH] [--seconds N] [--json FILE]" >&2
  exit 2
}

keepflowctl=""
seconds=10
json_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --keepflowctl) [ $# -ge 2 ] || usage; keepflowctl=$2; shift 2 ;;
    --seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
    --json) [ $# -ge 2 ] || usage; json_out=$2; shift 2 ;;
    -h | --help) usage ;;
    *) echo "peers: unknown argument $1" >&2; usage ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "peers: --seconds takes a whole number of seconds > 0, not \"$seconds\"" >&2; exit 2; }
if [ -n "$json_out" ]; then
  json_dir=$(dirname "$json_out")
  [ -d "$json_dir" ] || { echo "peers: --json $json_out: folder $json_dir does not exist" >&2; exit 2; }
  json_out="$(cd "$json_dir" && pwd)/$(basename "$json_out")"
fi

say() { echo "peers: $*"; }
failed=0
fail() { say "FAILED $*"; failed=1; }

# The workloads: the same shapes on both engines.
chain_steps=1000 # (a) one run / workflow of this many sequential steps
runs=1000        # (b) this many runs / workflows ...
run_steps=10     # ... of this many sequential steps each
poll_deadline=600 # seconds the 1000-run workload may take before it counts as stuck

pgserver="$repo/tests/support/pgserver.sh"
[ -f "$pgserver" ] || { echo "peers: $pgserver is missing (it starts the throw-away PostgreSQL server)" >&2; exit 1; }
# The newest PostgreSQL's binaries, as pgserver.sh picks them.
pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if ! [ -x "$pg_bin/pgbench" ] || ! [ -x "$pg_bin/psql" ]; then
  echo "peers: no PostgreSQL binaries with pgbench and psql under /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
  exit 1
fi

# The postgres account runs the server when we are root; it must be able to traverse the temp dir.
tmp=$(mktemp -d /tmp/keepflow-peers.XXXXXX)
chmod 0711 "$tmp"
worker_pid=""
# shellcheck disable=SC2317 # reached through the trap
cleanup() {
  if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then
    kill -KILL "$worker_pid" 2>/dev/null || true
    wait "$worker_pid" 2>/dev/null || true
  fi
  bash "$pgserver" stop "$tmp/pg" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

url=$(bash "$pgserver" start "$tmp/pg") || { echo "peers: could not start PostgreSQL with $pgserver (output above)" >&2; exit 1; }
socket=${url#*host=}
[ -S "$socket/.s.PGSQL.5432" ] || { echo "peers: no server socket in $socket (pgserver.sh printed $url)" >&2; exit 1; }
me=$(id -un) # pgserver.sh names the bootstrap superuser after us

# psql DB SQL: one value per line, stops at the first error.
sql() { "$pg_bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$socket" -d "$1" -c "$2"; }
now() { echo "$EPOCHREALTIME"; }
# rate STEPS T0 T1 -> steps/s; elapsed T0 T1 -> seconds
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# The last non-empty line of a file, for error messages.
last_line() { grep -v '^[[:space:]]*$' "$1" | tail -n 1 || true; }

pg_version=$(sql postgres "SHOW server_version")
say "PostgreSQL $pg_version on $socket (fsync=$(sql postgres "SHOW fsync"), synchronous_commit=$(sql postgres "SHOW synchronous_commit"))"

# ---------------------------------------------------------------------------------------------
# Baseline: PostgreSQL's durable single-row commit rate on this server.
base_c1="" base_c4=""
sql postgres "CREATE TABLE peers_commit (id bigserial PRIMARY KEY, v integer NOT NULL)"
printf 'INSERT INTO peers_commit (v) VALUES (1);\n' >"$tmp/insert.sql"
pgbench_tps() { # CLIENTS -> commits/s in $tps, empty when pgbench failed
  local log="$tmp/pgbench-c$1.log"
  tps=""
  if ! "$pg_bin/pgbench" -h "$socket" -n -f "$tmp/insert.sql" -c "$1" -j "$1" -T "$seconds" postgres >"$log" 2>&1; then
    fail "baseline: pgbench -c $1 failed: $(last_line "$log")"
    return 0
  fi
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log" | head -n 1)
  [ -z "$tps" ] || tps=$(awk -v t="$tps" 'BEGIN { printf "%.1f", t }')
  [ -n "$tps" ] || fail "baseline: no \"tps = \" line in pgbench's output: $(last_line "$log")"
}
say "baseline: pgbench, one single-row INSERT per transaction, ${seconds}s each"
pgbench_tps 1
base_c1=$tps
[ -z "$base_c1" ] || say "baseline: -c 1: $base_c1 commits/s"
pgbench_tps 4
base_c4=$tps
[ -z "$base_c4" ] || say "baseline: -c 4 -j 4: $base_c4 commits/s"

# ---------------------------------------------------------------------------------------------
# DBOS Transact: its TypeScript SDK from npm, system database on this server.
dbos_a="" dbos_a_s="" dbos_b="" dbos_b_s="" dbos_version="" dbos_note=""
dbos_skip() { dbos_note="skipped: $*"; say "SKIPPED DBOS: $*"; }
run_dbos() {
  local dir="$tmp/dbos" major
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    dbos_skip "node and npm are needed (apt-get install nodejs npm)"; return 0
  fi
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then dbos_skip "@dbos-inc/dbos-sdk 5.3 needs node >= 20, this is $(node --version)"; return 0; fi
  mkdir -p "$dir"
  printf '{ "private": true }\n' >"$dir/package.json"
  say "DBOS: npm install @dbos-inc/dbos-sdk@~5.3.0"
  # Its own cache in the temp dir; bounded retries so an unreachable registry is said soon.
  if ! (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --cache "$tmp/npm-cache" \
    --fetch-retries=1 --fetch-timeout=60000 '@dbos-inc/dbos-sdk@~5.3.0') >"$tmp/npm.log" 2>&1; then
    # npm's own words: the fetch error (unreachable registry) or the version it could not find.
    local why
    why=$(grep -m 1 -E '^npm error ([A-Za-z]*Error|notarget)' "$tmp/npm.log" ||
      grep -m 1 '^npm error' "$tmp/npm.log" || last_line "$tmp/npm.log")
    dbos_skip "npm install @dbos-inc/dbos-sdk@~5.3.0 failed: ${why#npm error }"
    return 0
  fi
  dbos_version=$(node -p 'require(process.argv[1]).version' "$dir/node_modules/@dbos-inc/dbos-sdk/package.json")
  sql postgres "CREATE DATABASE dbos_bench"
  # DBOS wants a user and a host name in the URL; node-postgres takes the socket folder from host=.
  local dbos_url="postgresql://$me@localhost/dbos_bench?host=$socket"
  say "DBOS: @dbos-inc/dbos-sdk $dbos_version, system database dbos_bench"
  # --no-deprecation: node-postgres warns about how DBOS queues queries on one client; not ours.
  if ! node --no-deprecation "$here/dbos_bench.mjs" --modules "$dir" --url "$dbos_url" \
    --chain-steps "$chain_steps" --workflows "$runs" --workflow-steps "$run_steps" >"$tmp/dbos.out" 2>"$tmp/dbos.err"; then
    cat "$tmp/dbos.out"
    fail "DBOS: dbos_bench.mjs failed: $(last_line "$tmp/dbos.err")"
    dbos_note="failed"
    return 0
  fi
  cat "$tmp/dbos.out"
  local field='s/.* steps_per_s=\([0-9.]*\).*/\1/p' secs='s/.* seconds=\([0-9.]*\).*/\1/p'
  dbos_a=$(grep "^dbos: 1x$chain_steps " "$tmp/dbos.out" | sed -n "$field")
  dbos_a_s=$(grep "^dbos: 1x$chain_steps " "$tmp/dbos.out" | sed -n "$secs")
  dbos_b=$(grep "^dbos: ${runs}x$run_steps " "$tmp/dbos.out" | sed -n "$field")
  dbos_b_s=$(grep "^dbos: ${runs}x$run_steps " "$tmp/dbos.out" | sed -n "$secs")
  # Every step is a checkpoint row; count them (without the warm-up's) to be sure they were durable.
  local want=$((chain_steps + runs * run_steps)) got
  got=$(sql dbos_bench "SELECT count(*) FROM dbos.operation_outputs WHERE workflow_uuid <> 'peers-warmup'")
  if [ "$got" != "$want" ]; then
    fail "DBOS: $got step checkpoints in dbos.operation_outputs, expected $want"
    dbos_a="" dbos_b="" dbos_note="failed"
  else
    say "DBOS: $got step checkpoints in dbos.operation_outputs, as expected"
  fi
}
run_dbos

# ---------------------------------------------------------------------------------------------
# Keepflow: the real keepflowctl, database keepflow_bench on this server.
kf_a="" kf_a_s="" kf_b="" kf_b_s="" kf_note=""
kf_skip() { kf_note="skipped: $*"; say "SKIPPED Keepflow: $*"; }
kf_fail() { kf_note="failed"; fail "Keepflow: $*"; }
kf_url="postgresql:///keepflow_bench?host=$socket"
kf_cwd="$tmp/keepflow-cwd" # an empty folder: keepflowctl runs there, so a stray file shows
kf() { (cd "$kf_cwd" && "$keepflowctl" --db "$kf_url" "$@"); }
# write_chain FILE NAME N: a flow of N noop steps, each after the one before.
write_chain() {
  local i
  {
    printf '{\n  "keepflow": 1,\n  "name": "%s",\n  "steps": [\n' "$2"
    for ((i = 1; i <= $3; i++)); do
      if [ "$i" -eq 1 ]; then
        printf '    { "id": "s%d", "kind": "noop" }' "$i"
      else
        printf ',\n    { "id": "s%d", "kind": "noop", "after": ["s%d"] }' "$i" $((i - 1))
      fi
    done
    printf '\n  ]\n}\n'
  } >"$1"
}
# The number of runs in keepflowctl's JSON list on stdin (one "id" key per run).
count_ids() { { grep -o '"id" *:' || true; } | wc -l; }
run_keepflow() {
  local flows="$tmp/flows" i t0 t1 out n
  if [ -z "$keepflowctl" ]; then
    for candidate in build/release build/dev; do
      if [ -x "$repo/$candidate/app/keepflowctl/keepflowctl" ]; then
        keepflowctl="$repo/$candidate/app/keepflowctl/keepflowctl"
        break
      fi
    done
    [ -n "$keepflowctl" ] || { kf_skip "no keepflowctl in build/release or build/dev (build it, or pass --keepflowctl PATH)"; return 0; }
  fi
  [ -x "$keepflowctl" ] || { kf_skip "$keepflowctl is not an executable"; return 0; }
  keepflowctl=$(cd "$(dirname "$keepflowctl")" && pwd)/$(basename "$keepflowctl")
  mkdir -p "$flows" "$kf_cwd"
  write_chain "$flows/probe.flow.json" peers-probe 1
  write_chain "$flows/chain-$chain_steps.flow.json" "peers-chain-$chain_steps" "$chain_steps"
  write_chain "$flows/chain-$run_steps.flow.json" "peers-chain-$run_steps" "$run_steps"
  if ! kf validate "$flows"/*.flow.json >"$tmp/validate.log" 2>&1; then
    kf_fail "keepflowctl validate rejected the generated flows: $(last_line "$tmp/validate.log")"; return 0
  fi
  sql postgres "CREATE DATABASE keepflow_bench"
  say "Keepflow: $keepflowctl, database keepflow_bench"

  # Does it reach PostgreSQL at all? One one-step run, then look for its tables on the server.
  # It is also the warm-up, like DBOS's (not counted).
  if ! kf run "$flows/probe.flow.json" >"$tmp/probe.log" 2>&1; then
    kf_skip "keepflowctl --db $kf_url run failed: $(last_line "$tmp/probe.log")"; return 0
  fi
  if [ -n "$(ls -A "$kf_cwd")" ]; then
    kf_skip "keepflowctl took $kf_url for a SQLite file path (it created $kf_cwd/$(find "$kf_cwd" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n 1)/...): this build has no PostgreSQL support"
    return 0
  fi
  n=$(sql keepflow_bench "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
  if [ "$n" -eq 0 ]; then
    kf_skip "keepflowctl run succeeded but left no table in database keepflow_bench"; return 0
  fi

  # (a) one run of a chain of 1,000 noop steps, in the foreground.
  t0=$(now)
  if ! kf run "$flows/chain-$chain_steps.flow.json" >"$tmp/chain.log" 2>&1; then
    kf_fail "keepflowctl run chain-$chain_steps failed: $(last_line "$tmp/chain.log")"; return 0
  fi
  t1=$(now)
  kf_a=$(rate "$chain_steps" "$t0" "$t1") kf_a_s=$(elapsed "$t0" "$t1")
  say "Keepflow: 1x$chain_steps steps=$chain_steps seconds=$kf_a_s steps_per_s=$kf_a"

  # (b) 1,000 runs of a 10-step chain: submitted first (not timed), then run by one worker.
  for ((i = 1; i <= runs; i++)); do
    if ! kf submit "$flows/chain-$run_steps.flow.json" >/dev/null 2>"$tmp/submit.err"; then
      kf_skip "${runs}x$run_steps: keepflowctl submit failed (run $i): $(last_line "$tmp/submit.err")"; return 0
    fi
  done
  out=$(kf list --state running --json) || { kf_fail "keepflowctl list --state running failed"; return 0; }
  n=$(count_ids <<<"$out")
  [ "$n" -eq "$runs" ] || { kf_fail "after $runs submits, $n runs are running (expected $runs)"; return 0; }
  (cd "$kf_cwd" && exec "$keepflowctl" --db "$kf_url" worker) >"$tmp/worker.log" 2>&1 &
  worker_pid=$!
  t0=$(now)
  while :; do
    out=$(kf list --state running --json 2>"$tmp/list.err") || { kf_fail "keepflowctl list failed while the worker ran: $(last_line "$tmp/list.err")"; return 0; }
    [ "$(count_ids <<<"$out")" -eq 0 ] && break
    kill -0 "$worker_pid" 2>/dev/null || { kf_fail "the worker exited early: $(last_line "$tmp/worker.log")"; worker_pid=""; return 0; }
    if awk -v a="$t0" -v b="$(now)" -v d="$poll_deadline" 'BEGIN { exit !(b - a > d) }'; then
      kf_fail "${runs}x$run_steps: runs still running after ${poll_deadline}s"; return 0
    fi
    sleep 0.1 # poll interval
  done
  t1=$(now)
  kf_b=$(rate $((runs * run_steps)) "$t0" "$t1") kf_b_s=$(elapsed "$t0" "$t1")
  kill -TERM "$worker_pid"
  local rc=0 stop_deadline=$((SECONDS + 30))
  while kill -0 "$worker_pid" 2>/dev/null && [ "$SECONDS" -lt "$stop_deadline" ]; do sleep 0.1; done
  if kill -0 "$worker_pid" 2>/dev/null; then
    kf_fail "the worker did not stop within 30s of SIGTERM"; return 0
  fi
  wait "$worker_pid" || rc=$?
  worker_pid=""
  [ "$rc" -eq 0 ] || say "Keepflow: note: the worker exited with status $rc after SIGTERM"
  # Every run (probe, chain and the 1,000) must have succeeded.
  out=$(kf list --json) || { kf_fail "keepflowctl list --json failed"; return 0; }
  local total succeeded want=$((runs + 2))
  total=$(count_ids <<<"$out")
  succeeded=$({ grep -o '"state" *: *"succeeded"' <<<"$out" || true; } | wc -l)
  if [ "$total" -ne "$want" ] || [ "$succeeded" -ne "$want" ]; then
    kf_fail "${runs}x$run_steps: $succeeded of $total runs succeeded, expected $want of $want (states:$({ grep -o '"state" *: *"[a-z_]*"' <<<"$out" || true; } | sed 's/.*: *//' | sort | uniq -c | tr -s ' \n' ' '))"
    kf_b=""
    return 0
  fi
  say "Keepflow: ${runs}x$run_steps steps=$((runs * run_steps)) seconds=$kf_b_s steps_per_s=$kf_b (all $want runs succeeded)"
}
run_keepflow

# ---------------------------------------------------------------------------------------------
# The table: figures from this one run only.
ratio() { if [ -n "$1" ] && [ -n "$2" ]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; fi; }
show() { if [ -n "$1" ]; then printf '%s' "$1"; else printf -- '-'; fi; }
ratio_a=$(ratio "$kf_a" "$dbos_a")
ratio_b=$(ratio "$kf_b" "$dbos_b")
echo
printf '%-30s %16s %14s %14s\n' "workload" "Keepflow steps/s" "DBOS steps/s" "Keepflow/DBOS"
printf '%-30s %16s %14s %14s\n' "1 x $chain_steps steps (one chain)" "$(show "$kf_a")" "$(show "$dbos_a")" "$(show "$ratio_a")"
printf '%-30s %16s %14s %14s\n' "$runs x $run_steps steps (all at once)" "$(show "$kf_b")" "$(show "$dbos_b")" "$(show "$ratio_b")"
printf 'baseline, pgbench single-row INSERT commits/s: -c 1: %s, -c 4 -j 4: %s\n' "$(show "$base_c1")" "$(show "$base_c4")"
[ -z "$kf_note" ] || printf 'Keepflow %s\n' "$kf_note"
[ -z "$dbos_note" ] || printf 'DBOS %s\n' "$dbos_note"
echo "PostgreSQL $pg_version, fsync and synchronous_commit on; figures compare only within this run."

if [ -n "$json_out" ]; then
  num() { if [ -n "$1" ]; then printf '%s' "$1"; else printf 'null'; fi; }
  str() {
    local s
    s=$(printf '%s' "$1" | tr -d '\000-\037')
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
  }
  workload() { # NAME STEPS KF KF_S DBOS DBOS_S RATIO
    printf '    { "workload": %s, "steps": %s, "keepflow_steps_per_s": %s, "keepflow_seconds": %s, ' \
      "$(str "$1")" "$2" "$(num "$3")" "$(num "$4")"
    printf '"dbos_steps_per_s": %s, "dbos_seconds": %s, "ratio_keepflow_dbos": %s }' \
      "$(num "$5")" "$(num "$6")" "$(num "$7")"
  }
  {
    printf '{\n  "date": %s,\n  "postgresql": %s,\n  "pgbench_seconds": %s,\n' \
      "$(str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" "$(str "$pg_version")" "$seconds"
    printf '  "baseline_commits_per_s": { "c1": %s, "c4_j4": %s },\n' "$(num "$base_c1")" "$(num "$base_c4")"
    printf '  "dbos_sdk_version": %s,\n  "dbos_note": %s,\n  "keepflow_note": %s,\n  "workloads": [\n' \
      "$( [ -n "$dbos_version" ] && str "$dbos_version" || printf 'null')" "$(str "$dbos_note")" "$(str "$kf_note")"
    workload "1x$chain_steps" "$chain_steps" "$kf_a" "$kf_a_s" "$dbos_a" "$dbos_a_s" "$ratio_a"
    printf ',\n'
    workload "${runs}x$run_steps" $((runs * run_steps)) "$kf_b" "$kf_b_s" "$dbos_b" "$dbos_b_s" "$ratio_b"
    printf '\n  ]\n}\n'
  } >"$json_out"
  say "figures written to $json_out"
fi
exit "$failed"
