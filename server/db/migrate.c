/* migrate.c — the migration runner (contract in migrate.h). */
#include "db/migrate.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/assets.h"
#include "util/log.h"

/* An arbitrary constant that names "feedbackd migrations" among advisory locks. */
#define MIGRATION_LOCK_KEY "727465686466"

static struct fd_stmt stmt_lock = {"migrate_lock", "SELECT pg_advisory_lock(" MIGRATION_LOCK_KEY ")", 0};
static struct fd_stmt stmt_unlock = {"migrate_unlock", "SELECT pg_advisory_unlock(" MIGRATION_LOCK_KEY ")", 0};
static struct fd_stmt stmt_applied = {"migrate_applied", "SELECT version FROM schema_migrations", 0};
static struct fd_stmt stmt_record = {"migrate_record",
                                     "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 0};
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

bool fd_migrate_apply(struct fd_db *db, int *applied, char *err, size_t errlen) {
  *applied = 0;
  bool ok = false;
  PGresult *done = NULL;
  if (!run_stmt(db, &stmt_lock, 0, NULL, err, errlen)) return false;
  if (!fd_db_run(db,
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 " version integer PRIMARY KEY, name text NOT NULL,"
                 " applied_at timestamptz NOT NULL DEFAULT now())",
                 err, errlen))
    goto out;
  done = fd_db_exec(db, &stmt_applied, 0, NULL);
  if (!fd_db_ok(done)) {
    snprintf(err, errlen, "cannot read schema_migrations");
    goto out;
  }
  for (size_t i = 0; i < fd_migrations_count; i++) {
    const struct fd_migration *m = &fd_migrations[i];
    if (is_applied(done, m->version)) continue;
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *params[2] = {version, m->name};
    char sqlerr[1024];
    if (!fd_db_run(db, "BEGIN", err, errlen)) goto out;
    if (!fd_db_run(db, m->sql, sqlerr, sizeof sqlerr) ||
        !run_stmt(db, &stmt_record, 2, params, sqlerr, sizeof sqlerr) ||
        !fd_db_run(db, "COMMIT", sqlerr, sizeof sqlerr)) {
      snprintf(err, errlen, "migration %s failed: %s", m->name, sqlerr);
      char ignored[64];
      if (!fd_db_run(db, "ROLLBACK", ignored, sizeof ignored)) { /* connection gone: nothing to undo */
      }
      goto out;
    }
    fd_log(FD_LOG_INFO, "msg=\"applied migration\" version=%d name=%s", m->version, m->name);
    (*applied)++;
  }
  ok = true;
out:
  PQclear(done);
  char unlock_err[256];
  if (!run_stmt(db, &stmt_unlock, 0, NULL, unlock_err, sizeof unlock_err))
    fd_log(FD_LOG_WARN, "msg=\"advisory unlock failed\" error=\"%s\"", unlock_err);
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
