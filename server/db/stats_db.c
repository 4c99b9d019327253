/* stats_db.c — SQL of GET /v1/stats: one round trip, one JSON document.
 *
 * Sources (migrations/0002_stats.sql): stats_hourly (counters per UTC hour, kind and model)
 * and stats_hourly_tags (per hour and tag) for the whole hours inside [since, until), and
 * stats_events (the counting events themselves) for the partial hours at its two edges:
 *   h0 = since rounded up to the hour, h1 = until rounded down;
 *   [since, min(h0, until))  from stats_events
 *   [h0, h1)                 from the hourly counters (empty when h0 >= h1)
 *   [max(h0, h1), until)     from stats_events
 * which covers [since, until) exactly once. Buckets are date_trunc(bucket, t, 'UTC') — weeks
 * start on Monday 00:00 UTC — and every bucket start from date_trunc(bucket, since) up to
 * (excluding) until is listed, empty ones with zeros. Steps are fixed 1/24/168 hours, so the
 * session's TimeZone setting cannot matter. Tags and group keys sort by bytes (COLLATE "C"). */
#include "db/stats_db.h"

#include <stdio.h>

static struct fd_stmt stmt_stats = {
    "stats_query",
    "WITH p AS ( "
    "  SELECT $2::timestamptz AS since, $3::timestamptz AS until, $4::text AS bucket, "
    "         (CASE $4::text WHEN 'hour' THEN interval '1 hour' WHEN 'day' THEN interval '24 hours' ELSE interval '168 hours' END) AS step, "
    "         date_trunc('hour', $2::timestamptz, 'UTC') "
    "           + CASE WHEN date_trunc('hour', $2::timestamptz, 'UTC') < $2::timestamptz THEN interval '1 hour' ELSE interval '0' END AS h0, "
    "         date_trunc('hour', $3::timestamptz, 'UTC') AS h1), "
    "edge AS ( "
    "  SELECT e.* FROM p, stats_events e "
    "  WHERE e.project_id = $1::bigint AND e.created_at >= p.since AND e.created_at < least(p.h0, p.until) "
    "  UNION ALL "
    "  SELECT e.* FROM p, stats_events e "
    "  WHERE e.project_id = $1::bigint AND e.created_at >= greatest(p.h0, p.h1) AND e.created_at < p.until), "
    "u AS ( "
    "  SELECT h.hour AS t, h.kind, h.model, h.events, h.ratings, h.up, h.down, h.comments "
    "  FROM p, stats_hourly h WHERE h.project_id = $1::bigint AND h.hour >= p.h0 AND h.hour < p.h1 "
    "  UNION ALL "
    "  SELECT e.created_at, e.kind, e.model, 1, (e.kind = 'rating')::int, (e.vote > 0)::int, (e.vote < 0)::int, e.has_comment::int "
    "  FROM edge e), "
    "ut AS ( "
    "  SELECT h.hour AS t, h.tag, h.events, h.ratings, h.up, h.down "
    "  FROM p, stats_hourly_tags h WHERE h.project_id = $1::bigint AND h.hour >= p.h0 AND h.hour < p.h1 "
    "  UNION ALL "
    "  SELECT e.created_at, tag, 1, (e.kind = 'rating')::int, (e.vote > 0)::int, (e.vote < 0)::int "
    "  FROM edge e, unnest(e.tags) AS tag), "
    "buckets AS ( "
    "  SELECT g.t FROM p, generate_series(date_trunc(p.bucket, p.since, 'UTC'), p.until - interval '1 microsecond', p.step) AS g(t)), "
    "per AS ( "
    "  SELECT date_trunc(p.bucket, u.t, 'UTC') AS t, sum(u.events) AS events, sum(u.up) AS up, sum(u.down) AS down, "
    "         sum(CASE WHEN u.kind = 'edit' THEN u.events ELSE 0 END) AS edits, sum(u.comments) AS comments "
    "  FROM p, u GROUP BY 1), "
    "grp AS ( "
    "  SELECT CASE $5::text WHEN 'model' THEN u.model WHEN 'kind' THEN u.kind END AS key, "
    "         sum(u.events) AS events, sum(u.ratings) AS ratings, sum(u.up) AS up, sum(u.down) AS down "
    "  FROM u WHERE $5::text IN ('model', 'kind') GROUP BY 1 "
    "  UNION ALL "
    "  SELECT ut.tag, sum(ut.events), sum(ut.ratings), sum(ut.up), sum(ut.down) "
    "  FROM ut WHERE $5::text = 'tag' GROUP BY 1), "
    "tags AS ( "
    "  SELECT ut.tag, sum(ut.events) AS n FROM ut GROUP BY 1 HAVING sum(ut.events) > 0 "
    "  ORDER BY 2 DESC, ut.tag COLLATE \"C\" LIMIT 10) "
    "SELECT json_build_object( "
    "  'totals', (SELECT json_build_object( "
    "               'events', coalesce(sum(events), 0), 'ratings', coalesce(sum(ratings), 0), "
    "               'up', coalesce(sum(up), 0), 'down', coalesce(sum(down), 0), 'comments', coalesce(sum(comments), 0), "
    "               'edits', coalesce(sum(events) FILTER (WHERE kind = 'edit'), 0), "
    "               'comparisons', coalesce(sum(events) FILTER (WHERE kind = 'comparison'), 0)) FROM u), "
    "  'series', (SELECT json_agg(json_build_object( "
    "               't', to_char(b.t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "               'events', coalesce(per.events, 0), 'up', coalesce(per.up, 0), 'down', coalesce(per.down, 0), "
    "               'edits', coalesce(per.edits, 0), 'comments', coalesce(per.comments, 0)) ORDER BY b.t) "
    "             FROM buckets b LEFT JOIN per ON per.t = b.t), "
    "  'groups', coalesce((SELECT json_agg(json_build_object('key', key, 'ratings', ratings, 'up', up, 'down', down) "
    "                                      ORDER BY key COLLATE \"C\" NULLS LAST) "
    "                      FROM grp WHERE events > 0), '[]'::json), "
    "  'top_tags', coalesce((SELECT json_agg(json_build_object('tag', tag, 'count', n) ORDER BY n DESC, tag COLLATE \"C\") FROM tags), '[]'::json)) ",
    0};

json_t *fd_stats_query(struct fd_db *db, int64_t project_id, const struct fd_stats_query *q) {
  char pid[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  const char *p[5] = {pid, q->since, q->until, q->bucket, q->group_by};
  PGresult *r = fd_db_exec(db, &stmt_stats, 5, p);
  json_t *out = NULL;
  if (fd_db_ok(r) && PQntuples(r) == 1) out = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
  PQclear(r);
  return out;
}
