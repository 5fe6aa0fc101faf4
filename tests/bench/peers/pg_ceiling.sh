#!/usr/bin/env bash
# The ceiling for Keepflow's step rate on PostgreSQL: the rows Keepflow writes for noop steps,
# written by pgbench as one prepared statement per transaction (set-based, no engine, no JSON,
# no fence), next to PostgreSQL's own single-row commit rate, on one server in one run.
#
#   tests/bench/peers/pg_ceiling.sh [--keepflowctl PATH] [--seconds N]
#
# KEEP_SERVER=1 leaves the server running in its /tmp/keepflow-pg-ceiling-* folder (to EXPLAIN the
# statements in chain.sql and batch.sql there); stop it with tests/support/pgserver.sh stop DIR.
#
# Per step, the six rows of Keepflow's tables: at its start an upsert of its step_runs row
# (running), an attempts row and an attempt_started event; at its end an upsert of step_runs
# (succeeded), an update of its attempt and a step_succeeded event. One transaction ends the
# steps the transaction before started and starts as many new ones, as the engine batches them:
#   - 1 step per transaction, 1 client: the ceiling of one chain (one commit per step);
#   - 100 steps per transaction, 4 clients: the ceiling of 4 workers over many runs.
# Keepflow adds to this its fence (the runs it writes, read FOR SHARE), the notification, and
# the work of the engine and of the round trip; so a ratio here above the target is the room
# there is, and one below it bounds Keepflow too. The server starts with fsync and
# synchronous_commit on (tests/support/pgserver.sh), in a temporary folder, and is removed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
ctl="$here/build/release/app/keepflowctl/keepflowctl"
seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --keepflowctl) ctl=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "usage: pg_ceiling.sh [--keepflowctl PATH] [--seconds N]" >&2; exit 2 ;;
  esac
done
[ -x "$ctl" ] || { echo "pg_ceiling: no keepflowctl at $ctl (build the release preset)" >&2; exit 1; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/pgbench" ] || { echo "pg_ceiling: no pgbench (apt-get install postgresql)" >&2; exit 1; }

dir=$(mktemp -d /tmp/keepflow-pg-ceiling-XXXXXX)
url=$("$here/tests/support/pgserver.sh" start "$dir")
trap '[ -n "${KEEP_SERVER:-}" ] || "$here/tests/support/pgserver.sh" stop "$dir" >/dev/null 2>&1 || true' EXIT
socket="$dir/socket"
psql=("$bin/psql" -h "$socket" -d postgres -X -q -v ON_ERROR_STOP=1)

# Keepflow's schema, made by Keepflow: a one-step run creates it and gives a run to write under.
flow="$dir/one.flow.json"
echo '{ "keepflow": 1, "name": "ceiling", "steps": [ { "id": "a", "kind": "noop" } ] }' >"$flow"
"$ctl" run "$flow" --db "$url" >/dev/null
run=$("${psql[@]}" -At -c "SELECT id FROM runs LIMIT 1")

"${psql[@]}" -c "CREATE TABLE single_row (id BIGSERIAL PRIMARY KEY, v TEXT)" \
  -c "CREATE SEQUENCE ceiling_batches"
echo "INSERT INTO single_row (v) VALUES ('row');" >"$dir/single.sql"

# One statement (data-modifying CTEs, as Keepflow's writer sends its batch) that ends the n steps
# batch k-1 started and starts n new ones (batch k): Keepflow's six rows each.
steps_sql() {
  local n=$1
  cat <<SQL
WITH b AS (SELECT nextval('ceiling_batches') AS k),
ended AS (
  INSERT INTO step_runs (run_id, step_id, position, state, attempts, failures, generation,
                         started_at, ended_at, via_fallback)
  SELECT '$run', 'b' || (b.k - 1) || '-' || i, 0, 'succeeded', 1, 0, 1, 1, 2, 0
  FROM b, generate_series(1, $n) i
  ON CONFLICT (run_id, step_id) DO UPDATE SET state = excluded.state, ended_at = excluded.ended_at),
outcome AS (
  UPDATE attempts SET ended_at = 2, outcome = 'succeeded'
  FROM b, generate_series(1, $n) i
  WHERE run_id = '$run' AND step_id = 'b' || (b.k - 1) || '-' || i AND item_key = ''
    AND generation = 1 AND number = 1),
succeeded AS (
  INSERT INTO events (at, run_id, step_id, type, actor, detail)
  SELECT 2, '$run', 'b' || (b.k - 1) || '-' || i, 'step_succeeded', 'engine', '{"attempt":1,"ms":0}'
  FROM b, generate_series(1, $n) i),
started AS (
  INSERT INTO step_runs (run_id, step_id, position, state, attempts, failures, generation,
                         started_at, via_fallback)
  SELECT '$run', 'b' || b.k || '-' || i, 0, 'running', 1, 0, 1, 1, 0
  FROM b, generate_series(1, $n) i
  ON CONFLICT (run_id, step_id) DO UPDATE SET state = excluded.state),
attempt AS (
  INSERT INTO attempts (run_id, step_id, item_key, generation, number, idempotency_key, worker,
                        started_at, lease_epoch)
  SELECT '$run', 'b' || b.k || '-' || i, '', 1, 1, '$run/b' || b.k || '-' || i || '/1', 'w', 1, 1
  FROM b, generate_series(1, $n) i),
attempt_started AS (
  INSERT INTO events (at, run_id, step_id, type, actor, detail)
  SELECT 1, '$run', 'b' || b.k || '-' || i, 'attempt_started', 'engine',
         '{"attempt":1,"key":"k","max_attempts":3}'
  FROM b, generate_series(1, $n) i)
SELECT 1;
SQL
}
# pgbench reads one command per line unless it ends with a backslash-free line: join the lines.
steps_sql 1 | tr '\n' ' ' >"$dir/chain.sql"
steps_sql 100 | tr '\n' ' ' >"$dir/batch.sql"

# Transactions per second of one pgbench run (prepared statements, autocommit).
tps() {
  local script=$1 clients=$2
  "$bin/pgbench" -h "$socket" -n -M prepared -c "$clients" -j "$clients" -T "$seconds" \
      -f "$script" postgres 2>/dev/null |
    sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

single1=$(tps "$dir/single.sql" 1)
single4=$(tps "$dir/single.sql" 4)
chain=$(tps "$dir/chain.sql" 1)
batch=$(tps "$dir/batch.sql" 4)
batchSteps=$(awk -v t="$batch" 'BEGIN { printf "%.0f", t * 100 }')

printf 'PostgreSQL %s on %s, fsync on, %s s per figure, %s\n' \
  "$("$bin/postgres" --version | awk '{print $3}')" "$socket" "$seconds" "$(date -Iseconds)"
printf '%-66s %9.0f commits/s\n' "single-row INSERT, 1 client (baseline)" "$single1"
printf '%-66s %9.0f commits/s\n' "single-row INSERT, 4 clients" "$single4"
printf '%-66s %9.0f steps/s   %.2fx baseline (target of the chain: 0.8x)\n' \
  "six rows per step, 1 step per commit, 1 client (chain ceiling)" "$chain" \
  "$(awk -v a="$chain" -v b="$single1" 'BEGIN { print a / b }')"
printf '%-66s %9.0f steps/s   %.2fx baseline (target of 4 workers: 10x)\n' \
  "six rows per step, 100 steps per commit, 4 clients (batch ceiling)" "$batchSteps" \
  "$(awk -v a="$batchSteps" -v b="$single1" 'BEGIN { print a / b }')"
