/* migrate.c — the migration runner (contract in migrate.h). */
#include "db/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/assets.h"
#include "util/crypto.h"
#include "util/log.h"

/* An arbitrary constant that names "feedbackd migrations" among advisory locks. */
#define MIGRATION_LOCK_KEY "727465686466"

/* A transaction-level lock, released by the COMMIT or ROLLBACK that ends the transaction that
 * took it. A session-level lock taken and released in separate transactions breaks behind
 * PgBouncer in transaction pooling: the release may run on another server connection, the
 * lock stays held by a pooled one, and the next replica's start-up waits for it forever. */
static struct fd_stmt stmt_lock = {"migrate_lock", "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", 0};
static struct fd_stmt stmt_is_applied = {"migrate_is_applied",
                                         "SELECT 1 FROM schema_migrations WHERE version = $1::int", 0};
/* to_jsonb(m): also reads a schema_migrations that has no checksum column yet (the
 * fd_migrate_verify of `serve --no-migrate` against a database no runner has upgraded). */
static struct fd_stmt stmt_applied = {"migrate_applied",
                                      "SELECT version, to_jsonb(m)->>'checksum' FROM schema_migrations m", 0};
static struct fd_stmt stmt_record = {
    "migrate_record", "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1::int, $2, $3)", 0};
static struct fd_stmt stmt_fill = {
    "migrate_fill_checksum", "UPDATE schema_migrations SET checksum = $2 WHERE version = $1::int AND checksum IS NULL",
    0};
static struct fd_stmt stmt_max = {"migrate_max",
                                  "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 "
                                  "ELSE (SELECT coalesce(max(version), 0) FROM schema_migrations) END",
                                  0};

static bool run_stmt(struct fd_db *db, struct fd_stmt *s, int n, const char *const *p, char *err, size_t errlen) {
  PGresult *r = fd_db_exec(db, s, n, p);
  bool ok = fd_db_ok(r);
  if (!ok) snprintf(err, errlen, "%s: %s", s->name, r ? PQresultErrorMessage(r) : "connection lost");
  PQclear(r);
  return ok;
}

static bool is_applied(const PGresult *r, int version) {
  for (int i = 0; i < PQntuples(r); i++)
    if (atoi(PQgetvalue(r, i, 0)) == version) return true;
  return false;
}

static const struct fd_migration *compiled_in(int version) {
  for (size_t i = 0; i < fd_migrations_count; i++)
    if (fd_migrations[i].version == version) return &fd_migrations[i];
  return NULL;
}

/* The SHA-256 (hex) of the migration file as compiled into this binary. */
static void checksum_of(const struct fd_migration *m, char hex[FD_SHA256_HEX_LEN + 1]) {
  fd_sha256_hex(m->sql, strlen(m->sql), hex);
}

static PGresult *read_applied(struct fd_db *db, char *err, size_t errlen) {
  PGresult *r = fd_db_exec(db, &stmt_applied, 0, NULL);
  if (fd_db_ok(r)) return r;
  snprintf(err, errlen, "cannot read schema_migrations: %s", r ? PQresultErrorMessage(r) : "connection lost");
  PQclear(r);
  return NULL;
}

/* Compares the applied rows (version, checksum) with the files compiled in. Versions this
 * binary does not know (a newer binary applied them) are skipped. A row without a checksum
 * (applied before checksums were recorded) gets the current file's when fill is set: trust
 * on first use. false with *mismatch and err naming the file and both checksums when one
 * differs; false without *mismatch when the database failed. */
static bool check_applied(struct fd_db *db, const PGresult *done, bool fill, bool *mismatch, char *err, size_t errlen) {
  for (int i = 0; i < PQntuples(done); i++) {
    const struct fd_migration *m = compiled_in(atoi(PQgetvalue(done, i, 0)));
    if (!m) continue;
    char sum[FD_SHA256_HEX_LEN + 1];
    checksum_of(m, sum);
    if (PQgetisnull(done, i, 1)) {
      if (!fill) continue;
      char version[16];
      snprintf(version, sizeof version, "%d", m->version);
      const char *params[2] = {version, sum};
      if (!run_stmt(db, &stmt_fill, 2, params, err, errlen)) return false;
      fd_log(FD_LOG_INFO, "msg=\"recorded the checksum of an applied migration\" version=%d name=%s sha256=%s",
             m->version, m->name, sum);
    } else if (strcmp(PQgetvalue(done, i, 1), sum) != 0) {
      *mismatch = true;
      snprintf(err, errlen,
               "migration %s (version %d) differs from the one applied: schema_migrations records sha256 %s, "
               "the file compiled into this binary has sha256 %s (an applied migration must not change: "
               "restore it and add a new migration)",
               m->name, m->version, PQgetvalue(done, i, 1), sum);
      return false;
    }
  }
  return true;
}

bool fd_migrate_verify(struct fd_db *db, bool *mismatch, char *err, size_t errlen) {
  *mismatch = false;
  int have = 0, want = 0;
  if (!fd_migrate_versions(db, &have, &want)) {
    snprintf(err, errlen, "cannot read schema_migrations");
    return false;
  }
  if (have == 0) return true; /* nothing applied, perhaps no table yet */
  PGresult *done = read_applied(db, err, errlen);
  bool ok = done && check_applied(db, done, false, mismatch, err, errlen);
  PQclear(done);
  return ok;
}

static void rollback(struct fd_db *db) {
  char ignored[64];
  if (!fd_db_run(db, "ROLLBACK", ignored, sizeof ignored)) { /* connection gone: nothing to undo */
  }
}

/* BEGIN and take the migration lock; on failure the transaction is rolled back. */
static bool begin_locked(struct fd_db *db, char *err, size_t errlen) {
  if (fd_db_run(db, "BEGIN", err, errlen) && run_stmt(db, &stmt_lock, 0, NULL, err, errlen)) return true;
  rollback(db);
  return false;
}

/* Whether another runner recorded `version` since the applied rows were read (asked under the
 * lock): 1 yes, 0 no, -1 the database failed (message in err). */
static int applied_meanwhile(struct fd_db *db, const char *version, char *err, size_t errlen) {
  const char *params[1] = {version};
  PGresult *r = fd_db_exec(db, &stmt_is_applied, 1, params);
  int found = fd_db_ok(r) ? PQntuples(r) > 0 : -1;
  if (found < 0) snprintf(err, errlen, "%s: %s", stmt_is_applied.name, r ? PQresultErrorMessage(r) : "connection lost");
  PQclear(r);
  return found;
}

/* The table, its checksum column and the applied rows (checked, missing checksums filled), in a
 * locked transaction of its own: concurrent CREATE TABLE IF NOT EXISTS can fail on the
 * catalog's unique index. NULL with a message in err on failure. */
static PGresult *prepare_table(struct fd_db *db, char *err, size_t errlen) {
  if (!begin_locked(db, err, errlen)) return NULL;
  PGresult *done = NULL;
  bool mismatch = false;
  if (fd_db_run(db,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())",
                err, errlen) &&
      /* sha256 of the file as applied; NULL in rows from before checksums were recorded */
      fd_db_run(db, "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text", err, errlen) &&
      (done = read_applied(db, err, errlen)) && check_applied(db, done, true, &mismatch, err, errlen) &&
      fd_db_run(db, "COMMIT", err, errlen))
    return done;
  PQclear(done);
  rollback(db);
  return NULL;
}

bool fd_migrate_apply(struct fd_db *db, int *applied, char *err, size_t errlen) {
  *applied = 0;
  /* Every step runs in a transaction holding the lock, so runners starting together serialise
   * step by step; a pending migration is re-checked under the lock, because another runner may
   * have applied it while this one waited. */
  PGresult *done = prepare_table(db, err, errlen);
  if (!done) return false;
  bool ok = false;
  for (size_t i = 0; i < fd_migrations_count; i++) {
    const struct fd_migration *m = &fd_migrations[i];
    if (is_applied(done, m->version)) continue;
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    char sum[FD_SHA256_HEX_LEN + 1];
    checksum_of(m, sum);
    const char *params[3] = {version, m->name, sum};
    char sqlerr[1024];
    if (!begin_locked(db, err, errlen)) goto out;
    int meanwhile = applied_meanwhile(db, version, sqlerr, sizeof sqlerr);
    if (meanwhile == 1) {
      if (!fd_db_run(db, "COMMIT", err, errlen)) goto out;
      continue;
    }
    if (meanwhile < 0 || !fd_db_run(db, m->sql, sqlerr, sizeof sqlerr) ||
        !run_stmt(db, &stmt_record, 3, params, sqlerr, sizeof sqlerr) ||
        !fd_db_run(db, "COMMIT", sqlerr, sizeof sqlerr)) {
      snprintf(err, errlen, "migration %s failed: %s", m->name, sqlerr);
      rollback(db);
      goto out;
    }
    fd_log(FD_LOG_INFO, "msg=\"applied migration\" version=%d name=%s", m->version, m->name);
    (*applied)++;
  }
  ok = true;
out:
  PQclear(done);
  return ok;
}

bool fd_migrate_versions(struct fd_db *db, int *db_version, int *binary_version) {
  *binary_version = fd_migrations_count ? fd_migrations[fd_migrations_count - 1].version : 0;
  PGresult *r = fd_db_exec(db, &stmt_max, 0, NULL);
  bool ok = fd_db_ok(r) && PQntuples(r) == 1;
  *db_version = ok ? atoi(PQgetvalue(r, 0, 0)) : 0;
  PQclear(r);
  return ok;
}
