/* stats_db.h — the query behind GET /v1/stats (SQL in stats_db.c; the tables it reads are
 * described in migrations/0002_stats.sql and brought up to date by the catch-up of
 * migrations/0003_stats_catch_up.sql, which the query runs first). */
#ifndef FD_DB_STATS_DB_H
#define FD_DB_STATS_DB_H

#include <jansson.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/status.h"

/* Apply the events written since the last catch-up of this project to the stats tables
 * (migrations/0003_stats_catch_up.sql), in its own transaction, so that a query run after it
 * counts every event acknowledged before it. FD_DB_ONE or a failure. */
enum fd_db_status fd_stats_catch_up_now(struct fd_db *db, int64_t project_id) __attribute__((warn_unused_result));

/* What to count. since/until are RFC 3339 strings the caller validated (since < until);
 * bucket is "hour", "day" or "week"; group_by is NULL, "model", "tag", "kind", "emoji" or
 * "span_label". */
struct fd_stats_query {
  const char *since, *until, *bucket, *group_by;
  const char *model; /* NULL: every model; else only events on messages of this model */
};

/* The counts over the counting events with created_at in [since, until):
 *   {"totals": {events, ratings, up, down, comments, edits, comparisons, assistant_messages, names},
 *    "series": [{t, events, up, down, edits, comments, assistant_messages, names}, ...]
 *                                                     (every bucket, zeros included),
 *    "groups": [{key, events, ratings, up, down, assistant_messages, names}, ...]
 *                                                     ([] without group_by),
 *    "top_tags": [{tag, count}, ...],
 *    "reaction_set": [{name, emoji, value}, ...], "span_labels": [{name, value}, ...]}
 * where names = {"reaction"|"signal"|"span": {name: count > 0}} (NULL in tag groups) and
 * assistant_messages is NULL in groups other than model groups (migrations/0009_stats_names.sql)
 * into *counts (the caller's); rates are left to the caller. FD_DB_ONE or a failure
 * (db/status.h). Read-only (it may run on a hot standby): run fd_stats_catch_up_now on the
 * primary first, or events written since the last catch-up are not counted yet. */
enum fd_db_status fd_stats_query(struct fd_db *db, int64_t project_id, const struct fd_stats_query *q, json_t **counts)
    __attribute__((warn_unused_result));

#endif
