/* agreement.c — GET /v1/agreement: do the raters agree? (docs/api.md "Rater agreement").
 * The votes come from db/leaderboard_db.c, alpha and the majority rule from
 * rank/agreement.c; this file groups the votes into items and shapes the answer.
 *
 * Decisions the contract leaves open (documented in docs/api.md):
 * - Raters are users: events without a user are nobody's vote here.
 * - raters lists every user with a rating or comparison event in the window; events = their
 *   counting votes (ratings and comparisons); agreement is null when none of their votes is
 *   on an item with another rater.
 * - alpha is 1 when every value on the pairable items is the same (no disagreement at all,
 *   where Krippendorff leaves alpha undefined).
 * - Unknown parameters are ignored, as on the other read endpoints. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "api/read_params.h"
#include "db/leaderboard_db.h"
#include "http/reply.h"
#include "rank/agreement.h"

struct rater {
  const char *user;
  long flips, events, on_items, agreed;
};

static int cmp_user(const void *key, const void *r) { return strcmp(key, ((const struct rater *)r)->user); }

static bool same_item(const struct fd_vote_row *a, const struct fd_vote_row *b) {
  return strcmp(a->k1, b->k1) == 0 && (!a->k2 ? !b->k2 : b->k2 && strcmp(a->k2, b->k2) == 0);
}

/* Alpha of one kind of votes (sorted by item), and the raters' tallies. */
static json_t *kind_summary(const struct fd_vote_row *v, size_t n, bool interval, struct rater *raters,
                            size_t nraters) {
  double *vals = malloc(sizeof(double) * (n + 1));
  size_t *off = malloc(sizeof(size_t) * (n + 1));
  signed char *agrees = malloc(n + 1);
  unsigned char *seen = calloc(nraters + 1, 1);
  if (!vals || !off || !agrees || !seen) {
    free(vals), free(off), free(agrees), free(seen);
    return NULL;
  }
  size_t units = 0, items = 0, distinct = 0;
  for (size_t i = 0; i < n; i++) {
    if (i == 0 || !same_item(&v[i - 1], &v[i])) off[units++] = i;
    vals[i] = v[i].value;
  }
  off[units] = n;
  double alpha = 0;
  bool defined = interval ? fd_alpha_interval(vals, off, units, &alpha) : fd_alpha_nominal(vals, off, units, &alpha);
  fd_agree_with_majority(vals, off, units, agrees);
  for (size_t u = 0; u < units; u++) items += off[u + 1] - off[u] >= 2;
  for (size_t i = 0; i < n; i++) {
    struct rater *r = bsearch(v[i].user, raters, nraters, sizeof *raters, cmp_user);
    if (!r) continue; /* every voter has a flip row; kept defensive */
    r->events++;
    if (agrees[i] < 0) continue;
    r->on_items++;
    r->agreed += agrees[i];
    if (!seen[r - raters]) distinct += seen[r - raters] = 1;
  }
  free(vals), free(off), free(agrees), free(seen);
  return json_pack("{s:o, s:I, s:I}", "alpha", defined ? json_real(alpha) : json_null(), "items", (json_int_t)items,
                   "raters", (json_int_t)distinct);
}

void fd_api_agreement_get(struct fd_request *req) {
  struct fd_api_window w;
  struct fd_error err;
  if (!fd_api_parse_window(fd_query_param, req, &w, &err)) {
    fd_reply_fd_error(req, &err);
    return;
  }
  struct fd_db *db = fd_api_read_db_get(req);
  if (!db) return;
  struct fd_agreement_data d;
  enum fd_db_status st = fd_agreement_votes(db, req->auth.project_id, w.since, w.until, &d);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }

  /* flip rows come sorted by user, one per rater: the raters' table */
  struct rater *raters = calloc(d.nflips + 1, sizeof *raters);
  json_t *body = NULL, *ratings = NULL, *comparisons = NULL;
  if (raters) {
    for (size_t i = 0; i < d.nflips; i++)
      raters[i] = (struct rater){.user = d.flips[i].user, .flips = d.flips[i].flips};
    ratings = kind_summary(d.ratings, d.nratings, true, raters, d.nflips);
    comparisons = kind_summary(d.comparisons, d.ncomparisons, false, raters, d.nflips);
  }
  if (ratings && comparisons) {
    json_t *list = json_array();
    for (size_t i = 0; i < d.nflips; i++) {
      struct rater *r = &raters[i];
      json_t *agreement = r->on_items ? json_real((double)r->agreed / (double)r->on_items) : json_null();
      json_array_append_new(list, json_pack("{s:s, s:I, s:o, s:I}", "user", r->user, "events", (json_int_t)r->events,
                                            "agreement", agreement, "flip_flops", (json_int_t)r->flips));
    }
    body = json_pack("{s:O, s:O, s:o}", "ratings", ratings, "comparisons", comparisons, "raters", list);
  }
  json_decref(ratings);
  json_decref(comparisons);
  free(raters);
  fd_agreement_data_free(&d);
  if (!body) {
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "the agreement answer could not be computed");
    return;
  }
  fd_reply_json(req, 200, body);
}
