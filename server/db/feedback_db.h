/* feedback_db.h — reading, retracting and erasing feedback (writes go through the ingest
 * writer, see db/ingest_db.h). */
#ifndef FD_DB_FEEDBACK_DB_H
#define FD_DB_FEEDBACK_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/pool.h"

/* Retract an event of the project. Returns {"id","status":"retracted","retracted_at"}, or
 * NULL: *db_error says whether the database failed (else: no such event). */
json_t *fd_feedback_retract(struct fd_db *db, int64_t project_id, const char *id, bool *db_error);

/* Erase a rater: delete their events, forget the pseudonymous id on conversations, record
 * the touched messages for incremental exports. Returns the number of events deleted, -1
 * on a database error. */
long fd_feedback_erase_user(struct fd_db *db, int64_t project_id, const char *user);

/* Filters of GET /v1/feedback; NULL = no filter. Times are RFC 3339 strings validated by
 * the caller; the cursor is (received_at in µs, seq) of the last item of the page before. */
struct fd_feedback_filter {
  const char *kind, *model, *tag, *user, *since, *until;
  bool has_cursor;
  int64_t cursor_received_us, cursor_seq;
  int limit;
};

/* One page, newest first: {"items": [...], "next_cursor": "..."|null}. NULL on error. */
json_t *fd_feedback_list(struct fd_db *db, int64_t project_id, const struct fd_feedback_filter *f);

#endif
