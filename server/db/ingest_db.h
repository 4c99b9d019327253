/* ingest_db.h — the writer's SQL: many rows per statement (arrays + unnest, so every
 * batch is one prepared statement whatever its size), ON CONFLICT DO NOTHING so that
 * uniqueness of ids is the database's job (it holds across replicas). */
#ifndef FD_DB_INGEST_DB_H
#define FD_DB_INGEST_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/status.h"
#include "ingest/detected.h"
#include "ingest/rows.h"

struct fd_msg_ref {
  int64_t project_id;
  int64_t created_at_us; /* the row's, or the receipt time when defaulted */
  const struct fd_message_row *row;
};

struct fd_fb_ref {
  int64_t project_id;
  int64_t created_at_us;
  const struct fd_feedback_row *row;
};

struct fd_det_ref {
  int64_t project_id;
  const struct fd_detected_row *row;
};

/* Statuses: db/status.h. Each function returns the number of rows it inserted or found
 * (FD_DB_NONE: none) or a failure; the out-arrays have n elements and are the caller's. */

/* Insert rows whose (project_id, id) are distinct. inserted[i] tells whether row i was new.
 * Rows of users are also recorded on their conversations. */
enum fd_db_status fd_db_insert_messages(struct fd_db *db, const struct fd_msg_ref *refs, size_t n, bool *inserted)
    __attribute__((warn_unused_result));
enum fd_db_status fd_db_insert_feedback(struct fd_db *db, const struct fd_fb_ref *refs, size_t n, bool *inserted)
    __attribute__((warn_unused_result));
/* fd_db_insert_feedback for a connection outside any transaction, committed when it
 * returns: by binary COPY in a transaction of its own when no id is stored yet and no
 * project of the batch has a feedback.stored endpoint, else (the COPY rolled back) by
 * fd_db_insert_feedback. Same rows, same inserted[], same webhook deliveries. */
enum fd_db_status fd_db_store_feedback(struct fd_db *db, const struct fd_fb_ref *refs, size_t n, bool *inserted)
    __attribute__((warn_unused_result));

/* Store detected feedback (docs/detection.md "Stored events"), rows with distinct
 * (project_id, id), after their turns were inserted in the same transaction: a row becomes
 * a `signal` event on its turn's parent when this transaction stored the turn (a user turn
 * with the row's content) and that parent is a stored assistant message; else nothing is
 * stored. inserted[i] tells whether row i was new. */
enum fd_db_status fd_db_insert_detected(struct fd_db *db, const struct fd_det_ref *refs, size_t n, bool *inserted)
    __attribute__((warn_unused_result));

/* The stored content_sha256 of existing rows (found[i] false if there is none). */
enum fd_db_status fd_db_message_hashes(struct fd_db *db, const struct fd_msg_ref *refs, size_t n,
                                       unsigned char (*hashes)[FD_SHA256_LEN], bool *found)
    __attribute__((warn_unused_result));
enum fd_db_status fd_db_feedback_hashes(struct fd_db *db, const struct fd_fb_ref *refs, size_t n,
                                        unsigned char (*hashes)[FD_SHA256_LEN], bool *found)
    __attribute__((warn_unused_result));

#endif
