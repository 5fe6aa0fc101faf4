/* The ceiling for Keepflow's step rate on SQLite: the rows the engine writes for a noop step,
 * written by the shortest path libsqlite3 offers.
 *
 *   raw_sqlite_steps DBPATH STEPS STEPS_PER_COMMIT
 *
 * DBPATH must be a database Keepflow created (its schema, WAL journal). STEPS_PER_COMMIT chains
 * (one runs row each) of STEPS / STEPS_PER_COMMIT steps advance together: one BEGIN IMMEDIATE ...
 * COMMIT per round ends step k and starts step k + 1 of every chain, as the engine batches them.
 * Per step, six rows: at its start an upsert of its step_runs row (running), an attempts row and
 * an attempt_started event; at its end an upsert of step_runs (succeeded), an update of the
 * attempt (ended_at, outcome) and a step_succeeded event. Every statement is prepared once.
 * Same pragmas as Keepflow's store: journal_mode WAL, synchronous FULL, foreign_keys ON.
 *
 * Prints one line of NAME=VALUE: steps, steps_per_commit, commits, seconds (from opening the
 * database to closing it), steps_per_second and the SQLite library version. */

#define _POSIX_C_SOURCE 200809L

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sqlite3 *db;

static void die(const char *what) {
    fprintf(stderr, "raw_sqlite_steps: %s: %s\n", what, db ? sqlite3_errmsg(db) : "no database");
    exit(1);
}

static void exec(const char *sql) {
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(sql);
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *statement = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, NULL) != SQLITE_OK)
        die(sql);
    return statement;
}

static void step(sqlite3_stmt *statement, const char *what) {
    if (sqlite3_step(statement) != SQLITE_DONE)
        die(what);
    sqlite3_reset(statement);
}

static long long nowMs(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static double monotonicSeconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static long parseCount(const char *text, const char *name) {
    char *end = NULL;
    const long value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < 1) {
        fprintf(stderr, "raw_sqlite_steps: %s must be a positive integer, not '%s'\n", name, text);
        exit(1);
    }
    return value;
}

/* The engine's step_runs upsert, one row (sqlitewriter.cpp). */
static const char *const kStepRun =
    "INSERT INTO step_runs (run_id, step_id, position, state, attempts, failures, generation, "
    "not_before, started_at, ended_at, error_class, error, via_fallback, output, resource, "
    "queued_at, input_override) "
    "VALUES (?, ?, ?, ?, 1, 0, 1, NULL, ?, ?, NULL, NULL, 0, ?, NULL, NULL, NULL) "
    "ON CONFLICT (run_id, step_id) DO UPDATE SET state = excluded.state, "
    "attempts = excluded.attempts, failures = excluded.failures, generation = excluded.generation, "
    "not_before = excluded.not_before, started_at = excluded.started_at, "
    "ended_at = excluded.ended_at, error_class = excluded.error_class, error = excluded.error, "
    "via_fallback = excluded.via_fallback, output = excluded.output, "
    "queued_at = excluded.queued_at, input_override = excluded.input_override";
static const char *const kAttempt =
    "INSERT INTO attempts (run_id, step_id, item_key, generation, number, idempotency_key, "
    "worker, started_at, ended_at, outcome, error_class, error, lease_epoch) "
    "VALUES (?, ?, '', 1, 1, ?, ?, ?, NULL, NULL, NULL, NULL, 1)";
static const char *const kAttemptEnd =
    "UPDATE attempts SET ended_at = ?, outcome = 'succeeded' "
    "WHERE run_id = ? AND step_id = ? AND item_key = '' AND generation = 1 AND number = 1";
static const char *const kEvent = "INSERT INTO events (at, run_id, step_id, type, actor, detail) "
                                  "VALUES (?, ?, ?, ?, 'engine', ?)";

static sqlite3_stmt *stepRun, *attempt, *attemptEnd, *event;

static void appendEvent(const char *runId, const char *stepId, const char *type, const char *detail,
                        long long at) {
    sqlite3_bind_int64(event, 1, at);
    sqlite3_bind_text(event, 2, runId, -1, SQLITE_STATIC);
    sqlite3_bind_text(event, 3, stepId, -1, SQLITE_STATIC);
    sqlite3_bind_text(event, 4, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(event, 5, detail, -1, SQLITE_STATIC);
    step(event, "append an event");
}

static void writeStepRun(const char *runId, const char *stepId, long position, const char *state,
                         long long startedAt, long long endedAt) {
    sqlite3_bind_text(stepRun, 1, runId, -1, SQLITE_STATIC);
    sqlite3_bind_text(stepRun, 2, stepId, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stepRun, 3, position);
    sqlite3_bind_text(stepRun, 4, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stepRun, 5, startedAt);
    if (endedAt == 0) {
        sqlite3_bind_null(stepRun, 6);
        sqlite3_bind_null(stepRun, 7);
    } else {
        sqlite3_bind_int64(stepRun, 6, endedAt);
        sqlite3_bind_text(stepRun, 7, "{}", -1, SQLITE_STATIC);
    }
    step(stepRun, "write a step_runs row");
}

static void startStep(const char *runId, long position, const char *worker, long long *startedAt) {
    char stepId[32], key[96], detail[160];
    snprintf(stepId, sizeof stepId, "s%ld", position);
    snprintf(key, sizeof key, "%s/%s/1", runId, stepId);
    snprintf(detail, sizeof detail, "{\"attempt\":1,\"key\":\"%s\",\"max_attempts\":3}", key);
    const long long at = nowMs();
    *startedAt = at;
    writeStepRun(runId, stepId, position, "running", at, 0);
    sqlite3_bind_text(attempt, 1, runId, -1, SQLITE_STATIC);
    sqlite3_bind_text(attempt, 2, stepId, -1, SQLITE_STATIC);
    sqlite3_bind_text(attempt, 3, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(attempt, 4, worker, -1, SQLITE_STATIC);
    sqlite3_bind_int64(attempt, 5, at);
    step(attempt, "insert an attempt");
    appendEvent(runId, stepId, "attempt_started", detail, at);
}

static void endStep(const char *runId, long position, long long startedAt) {
    char stepId[32], detail[96];
    snprintf(stepId, sizeof stepId, "s%ld", position);
    const long long at = nowMs();
    snprintf(detail, sizeof detail, "{\"attempt\":1,\"duration_ms\":%lld}", at - startedAt);
    writeStepRun(runId, stepId, position, "succeeded", startedAt, at);
    sqlite3_bind_int64(attemptEnd, 1, at);
    sqlite3_bind_text(attemptEnd, 2, runId, -1, SQLITE_STATIC);
    sqlite3_bind_text(attemptEnd, 3, stepId, -1, SQLITE_STATIC);
    step(attemptEnd, "end an attempt");
    appendEvent(runId, stepId, "step_succeeded", detail, at);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: raw_sqlite_steps DBPATH STEPS STEPS_PER_COMMIT\n");
        return 1;
    }
    const long steps = parseCount(argv[2], "STEPS");
    const long chains = parseCount(argv[3], "STEPS_PER_COMMIT");
    if (steps % chains != 0) {
        fprintf(stderr, "raw_sqlite_steps: STEPS must be a multiple of STEPS_PER_COMMIT\n");
        return 1;
    }
    const long length = steps / chains;

    const double began = monotonicSeconds();
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die(argv[1]);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *journal = prepare("PRAGMA journal_mode = WAL");
    if (sqlite3_step(journal) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(journal, 0), "wal") != 0)
        die("PRAGMA journal_mode = WAL");
    sqlite3_finalize(journal);
    exec("PRAGMA synchronous = FULL");
    exec("PRAGMA foreign_keys = ON");

    stepRun = prepare(kStepRun);
    attempt = prepare(kAttempt);
    attemptEnd = prepare(kAttemptEnd);
    event = prepare(kEvent);
    sqlite3_stmt *flow =
        prepare("INSERT INTO flows (name, version, hash, definition, created_at) "
                "VALUES ('raw', (SELECT coalesce(max(version), 0) + 1 FROM flows WHERE name = "
                "'raw'), '-', '{}', ?)");
    sqlite3_stmt *run =
        prepare("INSERT INTO runs (id, flow_id, flow_name, state, params, "
                "created_at, lease_epoch) VALUES (?, ?, 'raw', 'running', '{}', ?, 1)");

    char worker[64];
    snprintf(worker, sizeof worker, "raw:%ld", (long)getpid());
    char(*runIds)[48] = calloc((size_t)chains, sizeof *runIds);
    long long *startedAt = calloc((size_t)chains, sizeof *startedAt);
    if (!runIds || !startedAt)
        die("out of memory");

    long commits = 0;
    exec("BEGIN IMMEDIATE");
    sqlite3_bind_int64(flow, 1, nowMs());
    step(flow, "insert the flow");
    const sqlite3_int64 flowId = sqlite3_last_insert_rowid(db);
    for (long c = 0; c < chains; ++c) {
        snprintf(runIds[c], sizeof runIds[c], "raw-%ld-%lld-%ld", (long)getpid(), flowId, c);
        sqlite3_bind_text(run, 1, runIds[c], -1, SQLITE_STATIC);
        sqlite3_bind_int64(run, 2, flowId);
        sqlite3_bind_int64(run, 3, nowMs());
        step(run, "insert a run");
    }
    exec("COMMIT");
    ++commits;

    /* Round k ends step k - 1 and starts step k of every chain. */
    for (long k = 0; k <= length; ++k) {
        exec("BEGIN IMMEDIATE");
        for (long c = 0; c < chains; ++c) {
            if (k > 0)
                endStep(runIds[c], k - 1, startedAt[c]);
            if (k < length)
                startStep(runIds[c], k, worker, &startedAt[c]);
        }
        exec("COMMIT");
        ++commits;
    }

    const char *version = sqlite3_libversion();
    sqlite3_finalize(stepRun);
    sqlite3_finalize(attempt);
    sqlite3_finalize(attemptEnd);
    sqlite3_finalize(event);
    sqlite3_finalize(flow);
    sqlite3_finalize(run);
    if (sqlite3_close(db) != SQLITE_OK)
        die("close");
    const double seconds = monotonicSeconds() - began;
    free(runIds);
    free(startedAt);
    printf("steps=%ld steps_per_commit=%ld commits=%ld seconds=%.6f steps_per_second=%.1f "
           "sqlite=%s\n",
           steps, chains, commits, seconds, (double)steps / seconds, version);
    return 0;
}
