/* leaderboard_db.c — see leaderboard_db.h.
 *
 * Both queries read what the stats catch-up keeps. The win matrix comes from the daily battle
 * counters (plus the counting events of partial days) and is aggregated here: a million
 * battles become at most one row per model pair, which is all the fit and its bootstrap need.
 * The agreement query starts from stats_events and joins feedback by primary key for what
 * stats_events does not keep (the rating's value and scale). */
#include "db/leaderboard_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/stats_db.h"
#include "db/txn.h"

/* The win matrix over [since, until), as GET /v1/stats covers a window
 * (migrations/0013_battle_counters.sql): whole UTC days [d0, d1) from the daily battle
 * counters, the partial days at the edges from the counting events themselves (no join: the
 * catch-up keeps both models and the outcome in stats_events). An open bound has no edge.
 * Timestamps step by 24 hours, not '1 day' (which would follow the session's time zone).
 * Pairs whose battles all went away (their counters are zero) are left out. Model order is
 * byte order ("C" collation), whatever the database's locale. */
static struct fd_stmt stmt_battles = {
    "leaderboard_battles",
    "WITH p AS ("
    "  SELECT coalesce($2::timestamptz, '-infinity') AS since, coalesce($3::timestamptz, 'infinity') AS until,"
    "         CASE WHEN $2::timestamptz IS NULL THEN '-infinity'::timestamptz"
    "              WHEN date_trunc('day', $2::timestamptz, 'UTC') = $2::timestamptz THEN $2::timestamptz"
    "              ELSE date_trunc('day', $2::timestamptz, 'UTC') + interval '24 hours' END AS d0,"
    "         coalesce(date_trunc('day', $3::timestamptz, 'UTC'), 'infinity') AS d1),"
    " cells AS ("
    "  SELECT c.model_a, c.model_b, c.a_wins, c.b_wins, c.ties, c.both_bad"
    "  FROM p, stats_battles_daily c"
    "  WHERE c.project_id = $1::bigint AND c.day >= p.d0 AND c.day < p.d1"
    "  UNION ALL"
    "  SELECT b.* FROM p, stats_events e, LATERAL fd_stats_battle(e.kind, e.model, e.other_model, e.outcome) b"
    "  WHERE e.project_id = $1::bigint AND e.created_at >= p.since AND e.created_at < least(p.d0, p.until)"
    "  UNION ALL"
    "  SELECT b.* FROM p, stats_events e, LATERAL fd_stats_battle(e.kind, e.model, e.other_model, e.outcome) b"
    "  WHERE e.project_id = $1::bigint AND e.created_at >= greatest(p.d0, p.d1) AND e.created_at < p.until)"
    " SELECT model_a, model_b, sum(a_wins), sum(b_wins), sum(ties), sum(both_bad)"
    " FROM cells GROUP BY 1, 2 HAVING sum(a_wins + b_wins + ties + both_bad) > 0"
    " ORDER BY model_a COLLATE \"C\", model_b COLLATE \"C\"",
    0};

/* Sections: 'r' ratings, 'c' comparisons (the counting votes: the events of v that are in
 * stats_events, found by its key (project, message, id): migrations/0021_stats_events_message_key.sql),
 * 'f' flip-flops per user (over every event of v). */
static struct fd_stmt stmt_agreement = {
    "agreement_votes",
    "WITH v AS ("
    "  SELECT f.id, f.message_id, f.user_ref, f.kind, f.created_at, f.seq,"
    "         CASE WHEN f.kind = 'comparison' THEN least(f.message_id COLLATE \"C\", f.other_message_id)"
    "              ELSE f.message_id END AS k1,"
    "         CASE WHEN f.kind = 'comparison' THEN greatest(f.message_id COLLATE \"C\", f.other_message_id) END AS k2,"
    "         CASE WHEN f.kind = 'rating' THEN"
    "                CASE WHEN f.scale = 2 THEN f.value::float8 ELSE 2.0 * (f.value - 1) / (f.scale - 1) - 1 END"
    "              WHEN f.outcome <> 'preferred' THEN 0"
    "              WHEN f.message_id COLLATE \"C\" < f.other_message_id THEN 1 ELSE 2 END AS value"
    "  FROM feedback f"
    "  WHERE f.project_id = $1::bigint AND f.kind IN ('rating', 'comparison') AND f.user_ref IS NOT NULL"
    "    AND ($2::timestamptz IS NULL OR f.created_at >= $2::timestamptz)"
    "    AND ($3::timestamptz IS NULL OR f.created_at < $3::timestamptz))"
    " SELECT * FROM ("
    "  SELECT CASE WHEN v.kind = 'rating' THEN 'r' ELSE 'c' END AS s, v.user_ref AS u, v.k1, v.k2, v.value"
    "  FROM v JOIN stats_events e ON e.project_id = $1::bigint AND e.message_id = v.message_id AND e.id = v.id"
    "  UNION ALL"
    "  SELECT 'f', user_ref, NULL, NULL, count(*) FILTER (WHERE prev IS NOT NULL AND abs(value - prev) > 1e-9)"
    "  FROM (SELECT user_ref, value,"
    "               lag(value) OVER (PARTITION BY user_ref, kind, k1, k2 ORDER BY created_at, seq) AS prev"
    "        FROM v) t"
    "  GROUP BY user_ref) rows"
    " ORDER BY s, k1 COLLATE \"C\", k2 COLLATE \"C\", u COLLATE \"C\"",
    0};

static uint64_t u64(const PGresult *r, int row, int col) { return strtoull(PQgetvalue(r, row, col), NULL, 10); }

struct window_query {
  struct fd_stmt *stmt;
  const char *params[3];
  PGresult *res;
};

/* jit off for the statement: over a million rows PostgreSQL would JIT-compile the plan, which
 * costs more than it saves for a query that runs once per request (as for the stats query,
 * migrations/0002_stats.sql). SET LOCAL needs the transaction fd_db_txn gives the body. */
static enum fd_db_status window_body(struct fd_db *db, void *arg) {
  struct window_query *w = arg;
  PQclear(w->res); /* an earlier attempt's */
  w->res = NULL;
  if (!fd_db_run(db, "SET LOCAL jit = off", NULL, 0)) return fd_db_failure(db, "SET LOCAL jit = off");
  w->res = fd_db_exec(db, w->stmt, 3, w->params);
  return fd_db_result(db, w->res);
}

/* Catch the project's stats up, then run stmt over the window; *res is the caller's. */
static enum fd_db_status run_window(struct fd_db *db, struct fd_stmt *stmt, int64_t project_id, const char *since,
                                    const char *until, PGresult **res) {
  char pid[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  enum fd_db_status st = fd_stats_catch_up_now(db, project_id);
  if (fd_db_failed(st)) return st;
  struct window_query w = {stmt, {pid, since, until}, NULL};
  st = fd_db_txn(db, FD_TXN_READ_COMMITTED, window_body, &w, stmt->name);
  if (fd_db_failed(st))
    PQclear(w.res);
  else
    *res = w.res;
  return st;
}

enum fd_db_status fd_leaderboard_battles(struct fd_db *db, int64_t project_id, const char *since, const char *until,
                                         struct fd_battles *out) {
  PGresult *r = NULL;
  enum fd_db_status st = run_window(db, &stmt_battles, project_id, since, until, &r);
  if (fd_db_failed(st)) return st;
  size_t n = (size_t)PQntuples(r);
  struct fd_battle_cell *cells = calloc(n ? n : 1, sizeof *cells);
  if (!cells) {
    PQclear(r);
    return fd_db_bug("leaderboard: out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    int row = (int)i;
    cells[i] = (struct fd_battle_cell){PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), u64(r, row, 2),
                                       u64(r, row, 3),        u64(r, row, 4),        u64(r, row, 5)};
  }
  *out = (struct fd_battles){n, cells, r};
  return st;
}

void fd_battles_free(struct fd_battles *b) {
  free(b->cells);
  PQclear(b->res);
  *b = (struct fd_battles){0};
}

enum fd_db_status fd_agreement_votes(struct fd_db *db, int64_t project_id, const char *since, const char *until,
                                     struct fd_agreement_data *out) {
  PGresult *r = NULL;
  enum fd_db_status st = run_window(db, &stmt_agreement, project_id, since, until, &r);
  if (fd_db_failed(st)) return st;
  size_t n = (size_t)PQntuples(r);
  struct fd_agreement_data d = {.res = r};
  /* rows come grouped by section in the order c, f, r */
  d.comparisons = calloc(n ? n : 1, sizeof *d.comparisons);
  d.ratings = calloc(n ? n : 1, sizeof *d.ratings);
  d.flips = calloc(n ? n : 1, sizeof *d.flips);
  if (!d.comparisons || !d.ratings || !d.flips) {
    fd_agreement_data_free(&d);
    return fd_db_bug("agreement: out of memory");
  }
  for (int row = 0; row < (int)n; row++) {
    char s = PQgetvalue(r, row, 0)[0];
    const char *user = PQgetvalue(r, row, 1);
    if (s == 'f') {
      d.flips[d.nflips++] = (struct fd_flip_row){user, strtol(PQgetvalue(r, row, 4), NULL, 10)};
      continue;
    }
    struct fd_vote_row v = {user, PQgetvalue(r, row, 2), PQgetisnull(r, row, 3) ? NULL : PQgetvalue(r, row, 3),
                            strtod(PQgetvalue(r, row, 4), NULL)};
    if (s == 'r')
      d.ratings[d.nratings++] = v;
    else
      d.comparisons[d.ncomparisons++] = v;
  }
  *out = d;
  return st;
}

void fd_agreement_data_free(struct fd_agreement_data *d) {
  free(d->ratings);
  free(d->comparisons);
  free(d->flips);
  PQclear(d->res);
  *d = (struct fd_agreement_data){0};
}
