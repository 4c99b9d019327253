/* leaderboard_db.h — the reads behind GET /v1/leaderboard and GET /v1/agreement (SQL in
 * leaderboard_db.c). Both read the counting events of the stats tables
 * (migrations/0002_stats.sql: the latest vote per rater and slot, retractions and erasures
 * applied), after a catch-up, so they count exactly what GET /v1/stats and exports count. */
#ifndef FD_DB_LEADERBOARD_DB_H
#define FD_DB_LEADERBOARD_DB_H

#include <stddef.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/status.h"

/* The battles of one unordered pair of models, model_a < model_b in byte order. */
struct fd_battle_cell {
  const char *model_a, *model_b;
  uint64_t a_wins, b_wins, ties, both_bad;
};

struct fd_battles {
  size_t n;
  struct fd_battle_cell *cells; /* sorted by (model_a, model_b) in byte order */
  PGresult *res;                /* owns the strings */
};

/* The win matrix of the counting comparisons created in [since, until) (either NULL: no
 * bound; RFC 3339 strings the caller validated) whose two messages are both logged with
 * different, non-null models: one aggregated row per model pair. FD_DB_NONE (no battles) or
 * the number of pairs, or a failure; on success the caller calls fd_battles_free. */
enum fd_db_status fd_leaderboard_battles(struct fd_db *db, int64_t project_id, const char *since, const char *until,
                                         struct fd_battles *out) __attribute__((warn_unused_result));
void fd_battles_free(struct fd_battles *b);

/* One counting vote of a rater on an item: a rating of message k1 (k2 NULL; value = the
 * normalised score in [-1, 1]), or a comparison of the pair k1 < k2 (value 0 = tie or
 * both_bad, 1 = k1 preferred, 2 = k2 preferred). */
struct fd_vote_row {
  const char *user, *k1, *k2;
  double value;
};

struct fd_flip_row {
  const char *user;
  long flips;
};

struct fd_agreement_data {
  size_t nratings, ncomparisons, nflips;
  struct fd_vote_row *ratings;     /* sorted by (k1, user) */
  struct fd_vote_row *comparisons; /* sorted by (k1, k2, user) */
  struct fd_flip_row *flips;       /* every rater with an event in the window, by user */
  PGresult *res;                   /* owns the strings */
};

/* The counting ratings and comparisons with a user, created in [since, until), and per user
 * the number of flip-flops: consecutive events (all of them, retracted ones included, by
 * created_at then arrival) on the same item whose value differs from the previous one
 * (values as above, so a tie and a both_bad are the same value). One query. FD_DB_NONE or
 * the number of rows, or a failure; on success the caller calls fd_agreement_data_free. */
enum fd_db_status fd_agreement_votes(struct fd_db *db, int64_t project_id, const char *since, const char *until,
                                     struct fd_agreement_data *out) __attribute__((warn_unused_result));
void fd_agreement_data_free(struct fd_agreement_data *d);

#endif
