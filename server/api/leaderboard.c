/* leaderboard.c — GET /v1/leaderboard: the Bradley–Terry leaderboard of the models
 * (docs/api.md "Model leaderboard"). The win matrix comes from db/leaderboard_db.c, the
 * statistics from rank/bradley_terry.c; this file filters, fits and shapes the answer.
 *
 * Decisions the contract leaves open (documented in docs/api.md):
 * - min_battles is applied once, to each model's battles against every model; the models
 *   left are fitted on their battles against each other, and a model left with no battle
 *   against another listed model is not listed. battles/wins/losses/ties/both_bad count the
 *   battles of the fit, and the top-level battles is their total.
 * - bootstrap is 0..FD_LEADERBOARD_MAX_BOOTSTRAP; with 0, ci95 is null and rank = 1 + the
 *   number of models with a higher rating.
 * - Unknown parameters are ignored, as on the other read endpoints. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "api/read_params.h"
#include "db/leaderboard_db.h"
#include "http/reply.h"
#include "rank/bradley_terry.h"

#define FD_LEADERBOARD_MAX_BOOTSTRAP 1000
#define FD_LEADERBOARD_DEFAULT_BOOTSTRAP 200
#define FD_LEADERBOARD_MAX_MIN_BATTLES 1000000000000L

struct model {
  const char *name;
  uint64_t battles_all; /* against every model, for min_battles */
  uint64_t battles, wins, losses, ties, both_bad;
  int fit_index; /* -1: not fitted */
  double rating, lo, hi;
  int rank;
};

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const struct model *)a)->name, ((const struct model *)b)->name);
}

static int cmp_listed(const void *a, const void *b) {
  const struct model *x = a, *y = b;
  if (x->rating != y->rating) return x->rating > y->rating ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* Only asked for names collect_models put in m: a miss is a bug, never a NULL to follow (the
 * compiler cannot see that through bsearch and warns at -O3). */
static struct model *find(struct model *m, size_t n, const char *name) {
  struct model key = {.name = name};
  struct model *found = bsearch(&key, m, n, sizeof *m, cmp_name);
  if (!found) abort();
  return found;
}

/* The distinct models of the cells, sorted by name, with their battles against all. */
static struct model *collect_models(const struct fd_battles *b, size_t *count) {
  struct model *m = calloc(2 * b->n + 1, sizeof *m);
  if (!m) return NULL;
  size_t n = 0;
  for (size_t i = 0; i < b->n; i++) {
    m[n++].name = b->cells[i].model_a;
    m[n++].name = b->cells[i].model_b;
  }
  qsort(m, n, sizeof *m, cmp_name);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (u == 0 || strcmp(m[u - 1].name, m[i].name) != 0) m[u++] = (struct model){.name = m[i].name};
  for (size_t i = 0; i < b->n; i++) {
    const struct fd_battle_cell *c = &b->cells[i];
    uint64_t all = c->a_wins + c->b_wins + c->ties + c->both_bad;
    find(m, u, c->model_a)->battles_all += all;
    find(m, u, c->model_b)->battles_all += all;
  }
  *count = u;
  return m;
}

static void tally(struct model *m, uint64_t wins, uint64_t losses, const struct fd_battle_cell *c) {
  m->battles += c->a_wins + c->b_wins + c->ties + c->both_bad;
  m->wins += wins;
  m->losses += losses;
  m->ties += c->ties;
  m->both_bad += c->both_bad;
}

/* The pairs of the fit (both models kept by min_battles) and the listed models' tallies;
 * returns the number of pairs and sets *fitted and *total_battles. */
static size_t build_fit(const struct fd_battles *b, struct model *m, size_t n, uint64_t min_battles,
                        struct fd_bt_pair *pairs, size_t *fitted, uint64_t *total_battles) {
  size_t np = 0;
  for (size_t i = 0; i < b->n; i++) {
    const struct fd_battle_cell *c = &b->cells[i];
    struct model *a = find(m, n, c->model_a), *o = find(m, n, c->model_b);
    if (a->battles_all < min_battles || o->battles_all < min_battles) continue;
    tally(a, c->a_wins, c->b_wins, c);
    tally(o, c->b_wins, c->a_wins, c);
    *total_battles += c->a_wins + c->b_wins + c->ties + c->both_bad;
  }
  *fitted = 0;
  for (size_t i = 0; i < n; i++) m[i].fit_index = m[i].battles ? (int)(*fitted)++ : -1;
  for (size_t i = 0; i < b->n; i++) {
    const struct fd_battle_cell *c = &b->cells[i];
    struct model *a = find(m, n, c->model_a), *o = find(m, n, c->model_b);
    if (a->battles_all < min_battles || o->battles_all < min_battles) continue;
    pairs[np++] = (struct fd_bt_pair){(uint32_t)a->fit_index, (uint32_t)o->fit_index, c->a_wins, c->b_wins,
                                      c->ties + c->both_bad};
  }
  return np;
}

/* Fit, intervals and ranks of the fitted models, into m[]. False when the solver failed. */
static bool rate(struct model *m, size_t n, const struct fd_bt_pair *pairs, size_t np, size_t fitted,
                 unsigned bootstrap) {
  double *th = calloc(fitted + 1, sizeof *th), *lo = calloc(fitted + 1, sizeof *lo);
  double *hi = calloc(fitted + 1, sizeof *hi);
  int *rank = calloc(fitted + 1, sizeof *rank);
  bool ok = th && lo && hi && rank && fd_bt_fit(fitted, pairs, np, th, false, NULL);
  if (ok && bootstrap) ok = fd_bt_bootstrap(fitted, pairs, np, th, bootstrap, FD_BT_SEED, lo, hi);
  if (ok && !bootstrap) /* no intervals: rank by rating alone (the interval is the point) */
    for (size_t i = 0; i < fitted; i++) lo[i] = hi[i] = fd_bt_rating(th[i]);
  if (ok) fd_bt_ranks(fitted, lo, hi, rank);
  for (size_t i = 0; ok && i < n; i++) {
    int k = m[i].fit_index;
    if (k < 0) continue;
    m[i].rating = fd_bt_rating(th[k]);
    m[i].lo = lo[k];
    m[i].hi = hi[k];
    m[i].rank = rank[k];
  }
  free(th);
  free(lo);
  free(hi);
  free(rank);
  return ok;
}

static json_t *answer(struct model *m, size_t n, uint64_t total_battles, bool intervals) {
  qsort(m, n, sizeof *m, cmp_listed);
  json_t *models = json_array();
  for (size_t i = 0; i < n; i++) {
    if (m[i].fit_index < 0) continue;
    json_t *ci = intervals ? json_pack("[f, f]", m[i].lo, m[i].hi) : json_null();
    json_array_append_new(
        models,
        json_pack("{s:s, s:f, s:o, s:i, s:I, s:I, s:I, s:I, s:I}", "model", m[i].name, "rating", m[i].rating, "ci95",
                  ci, "rank", m[i].rank, "battles", (json_int_t)m[i].battles, "wins", (json_int_t)m[i].wins, "losses",
                  (json_int_t)m[i].losses, "ties", (json_int_t)m[i].ties, "both_bad", (json_int_t)m[i].both_bad));
  }
  return json_pack("{s:s, s:I, s:s, s:o}", "method", "bradley_terry", "battles", (json_int_t)total_battles, "ties_as",
                   "half", "models", models);
}

void fd_api_leaderboard_get(struct fd_request *req) {
  struct fd_api_window w;
  long min_battles = 0, bootstrap = FD_LEADERBOARD_DEFAULT_BOOTSTRAP;
  struct fd_error err;
  if (!fd_api_parse_window(fd_query_param, req, &w, &err) ||
      !fd_api_parse_count(fd_query_param, req, "min_battles", FD_LEADERBOARD_MAX_MIN_BATTLES, &min_battles, &err) ||
      !fd_api_parse_count(fd_query_param, req, "bootstrap", FD_LEADERBOARD_MAX_BOOTSTRAP, &bootstrap, &err)) {
    fd_reply_fd_error(req, &err);
    return;
  }
  struct fd_db *db = fd_api_read_db_get(req);
  if (!db) return;
  struct fd_battles b;
  enum fd_db_status st = fd_leaderboard_battles(db, req->auth.project_id, w.since, w.until, &b);
  fd_api_db_put(req, db); /* the fit needs no connection */
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }

  size_t n = 0, fitted = 0;
  uint64_t total = 0;
  struct model *m = collect_models(&b, &n);
  struct fd_bt_pair *pairs = malloc(sizeof *pairs * (b.n + 1));
  json_t *body = NULL;
  if (m && pairs) {
    size_t np = build_fit(&b, m, n, (uint64_t)min_battles, pairs, &fitted, &total);
    if (rate(m, n, pairs, np, fitted, (unsigned)bootstrap)) body = answer(m, n, total, bootstrap > 0);
  }
  free(pairs);
  free(m);
  fd_battles_free(&b);
  if (!body) {
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "the leaderboard could not be computed");
    return;
  }
  fd_reply_json(req, 200, body);
}
