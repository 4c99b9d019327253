/* feedback_db.h — reading, retracting and erasing feedback (writes go through the ingest
 * writer, see db/ingest_db.h). */
#ifndef FD_DB_FEEDBACK_DB_H
#define FD_DB_FEEDBACK_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/status.h"

/* Retract an event of the project (statuses: db/status.h). FD_DB_ONE: *out is
 * {"id","status":"retracted","retracted_at"} (the caller's); FD_DB_NONE: no such event. */
enum fd_db_status fd_feedback_retract(struct fd_db *db, int64_t project_id, const char *id, json_t **out)
    __attribute__((warn_unused_result));

/* Erase a rater: delete their events, forget the pseudonymous id on conversations, record
 * the touched messages for incremental exports, delete their consent record. FD_DB_ONE with *deleted the number of
 * events deleted (0 included). */
enum fd_db_status fd_feedback_erase_user(struct fd_db *db, int64_t project_id, const char *user, long *deleted)
    __attribute__((warn_unused_result));

/* Filters of GET /v1/feedback; NULL = no filter. Times are RFC 3339 strings validated by
 * the caller; the cursor is (received_at in µs, seq) of the last item of the page before. */
struct fd_feedback_filter {
  const char *kind, *model, *tag, *user, *since, *until;
  bool has_cursor;
  int64_t cursor_received_us, cursor_seq;
  int limit;
};

/* One page, newest first: *page = {"items": [...], "next_cursor": "..."|null} (the caller's).
 * Returns the number of items (FD_DB_NONE for an empty page). */
enum fd_db_status fd_feedback_list(struct fd_db *db, int64_t project_id, const struct fd_feedback_filter *f,
                                   json_t **page) __attribute__((warn_unused_result));

#endif
