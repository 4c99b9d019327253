/* stats_db.c — SQL of GET /v1/stats: one round trip, one JSON document.
 *
 * The query itself is the function fd_stats_query of migrations/0002_stats.sql (what it reads
 * and how it covers [since, until) is described there), extended by migrations/0009_stats_names.sql; it lives in the
 * database so that it can run with jit = off — see the comment on it. Before it, fd_stats_catch_up of
 * migrations/0003_stats_catch_up.sql applies the events written since the last catch-up, so
 * a read counts every event acknowledged before it. The two are separate calls because the
 * catch-up writes (it runs on the primary) and the query may run on a hot standby
 * (docs/operations.md "Read routing"). */
#include "db/stats_db.h"

#include <stdio.h>

#include "db/projects_db.h"
#include "db/txn.h"
#include "ingest/reactions.h"

/* The 7th argument: the project's reaction set and span labels as they are now (defaults
 * where never set), so names count against the current settings (docs/api.md "Stats"). */
static struct fd_stmt stmt_stats = {
    "stats_query",
    "SELECT fd_stats_query($1::bigint, $2::timestamptz, $3::timestamptz, $4::text, $5::text, $6::text, "
    "(SELECT jsonb_build_object('reactions', coalesce(settings->'reactions', '" FD_REACTIONS_DEFAULT_JSON
    "'::jsonb), 'span_labels', " FD_SPAN_LABELS_SQL(settings) ") FROM projects WHERE id = $1::bigint))",
    0};

static struct fd_stmt stmt_catch_up = {"stats_catch_up", "SELECT fd_stats_catch_up($1::bigint)", 0};

enum fd_db_status fd_stats_catch_up_now(struct fd_db *db, int64_t project_id) {
  char pid[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_catch_up, 1, (const char *[]){pid}, &r);
  PQclear(r);
  return st;
}

enum fd_db_status fd_stats_query(struct fd_db *db, int64_t project_id, const struct fd_stats_query *q,
                                 json_t **counts) {
  char pid[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  PGresult *r;
  enum fd_db_status st;
  const char *p[6] = {pid, q->since, q->until, q->bucket, q->group_by, q->model};
  r = fd_db_exec(db, &stmt_stats, 6, p);
  st = fd_db_result(db, r);
  if (st == FD_DB_ONE && !(*counts = json_loads(PQgetvalue(r, 0, 0), 0, NULL)))
    st = fd_db_bug("stats: bad JSON");
  else if (!fd_db_failed(st) && st != FD_DB_ONE)
    st = fd_db_bug("stats: not one row");
  PQclear(r);
  return st;
}
