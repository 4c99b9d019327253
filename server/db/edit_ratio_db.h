/* edit_ratio_db.h — the SQL of the edit-ratio worker (pipeline/edit_ratios.c): read the
 * stored edits whose ratio is still NULL together with each distinct original once, and
 * store the ratios computed from them. */
#ifndef FD_DB_EDIT_RATIO_DB_H
#define FD_DB_EDIT_RATIO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/status.h"
#include "ingest/rows.h"

/* A stored edit, by key. */
struct fd_edit_key {
  int64_t project_id;
  char id[FD_ID_BUF];
};

/* One edit still without a ratio and the content of the message it judges. Strings point
 * into `res` (valid until fd_edit_pairs_free). */
struct fd_edit_pair {
  int64_t project_id;
  const char *id;
  const char *edited;
  size_t edited_len;
  const char *original; /* NULL: the judged message is not stored */
  size_t original_len;
};

struct fd_edit_pairs {
  struct fd_edit_pair *pairs;
  size_t n;
  PGresult *res;
};

/* Statuses: db/status.h. */

/* The edits among keys[0..n) whose edit_ratio is NULL (retracted ones included: the value
 * describes the edit), each original fetched once however many edits judge it. Returns the
 * number of edits found (FD_DB_NONE: none) or a failure (out is then empty). */
enum fd_db_status fd_db_edit_pairs(struct fd_db *db, const struct fd_edit_key *keys, size_t n,
                                   struct fd_edit_pairs *out) __attribute__((warn_unused_result));
void fd_edit_pairs_free(struct fd_edit_pairs *p);

/* Store ratios[i] for pairs[i] where the ratio is still NULL. Returns the number of rows
 * updated (FD_DB_NONE: none) or a failure. */
enum fd_db_status fd_db_set_edit_ratios(struct fd_db *db, const struct fd_edit_pair *pairs, const double *ratios,
                                        size_t n) __attribute__((warn_unused_result));

#endif
