/* stats.c — GET /v1/stats: parameters, defaults and rates (the counting is in db/stats_db.c).
 *
 * Decisions the contract leaves open (documented in README's stats section):
 * - since/until default to [now - 30 days, now); both are echoed as RFC 3339 UTC ("Z"),
 *   with microseconds only when the instant has them. since >= until is 400
 *   invalid_parameter with field "since" (or "until" when only until was given).
 * - At most FD_STATS_MAX_BUCKETS buckets per answer (hour buckets over ~416 days); more is
 *   400 invalid_parameter with field "bucket", so no request can ask for millions of rows.
 * - positive_rate and its Wilson 95 % interval are null when up + down = 0; the same in every
 *   group. Groups list every key with at least one counting event in the window (a model
 *   with only comments has ratings 0 and a null rate); the key is null for events whose
 *   judged message is not known (yet), or which came without a model.
 * - model=M (an extension of the original contract; docs/api.md "Stats" lists it) keeps the events on messages of
 *   model M, as GET /v1/feedback's model filter does; the dashboard's model filter uses it.
 * - Unknown parameters are ignored, as on GET /v1/feedback. */
#include <math.h>

#include "api/api.h"
#include "api/app.h"
#include "api/stats_params.h"
#include "db/stats_db.h"
#include "http/reply.h"
#include "util/clock.h"

/* Wilson score interval for k successes out of n at z = 1.96. */
static void wilson(double k, double n, double *lo, double *hi) {
  const double z = 1.96, z2 = z * z;
  double p = k / n;
  double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  double half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  *lo = fmax(0.0, centre - half);
  *hi = fmin(1.0, centre + half);
}

/* Set positive_rate (and the interval under `ci_key`) from the object's up and down. */
static void add_rates(json_t *obj, const char *ci_key) {
  double up = json_number_value(json_object_get(obj, "up"));
  double down = json_number_value(json_object_get(obj, "down"));
  if (up + down <= 0) {
    json_object_set_new(obj, "positive_rate", json_null());
    json_object_set_new(obj, ci_key, json_null());
    return;
  }
  double lo, hi;
  wilson(up, up + down, &lo, &hi);
  json_object_set_new(obj, "positive_rate", json_real(up / (up + down)));
  json_object_set_new(obj, ci_key, json_pack("[f, f]", lo, hi));
}

void fd_api_stats_get(struct fd_request *req) {
  struct fd_stats_params sp;
  struct fd_error err;
  if (!fd_stats_params_parse(fd_query_param, req, fd_wall_us(), fd_api_app_of(req)->limits.model_max_bytes, &sp,
                             &err)) {
    fd_reply_fd_error(req, &err);
    return;
  }
  struct fd_stats_query q = {sp.since, sp.until, sp.bucket, sp.group_by, sp.model};
  /* the catch-up writes, so it runs on the primary, in its own transaction: the query's
   * snapshot (on the primary, or on a standby that replayed past it) must see what it wrote */
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  enum fd_db_status st = fd_stats_catch_up_now(db, req->auth.project_id);
  if (!fd_db_failed(st) && fd_api_app_of(req)->read_pool) {
    fd_api_db_put(req, db);
    if (!(db = fd_api_read_db_get(req))) return;
  }
  json_t *counts = NULL;
  if (!fd_db_failed(st)) st = fd_stats_query(db, req->auth.project_id, &q, &counts);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }

  json_t *totals = json_object_get(counts, "totals"), *groups = json_object_get(counts, "groups");
  add_rates(totals, "positive_rate_ci95");
  size_t i;
  json_t *g;
  json_array_foreach(groups, i, g) add_rates(g, "ci95");
  json_t *body = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:O}", "since", sp.since, "until", sp.until, "bucket",
                           sp.bucket, "totals", totals, "series", json_object_get(counts, "series"), "groups", groups,
                           "top_tags", json_object_get(counts, "top_tags"));
  json_decref(counts);
  if (!body) {
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "the stats answer could not be built");
    return;
  }
  fd_reply_json(req, 200, body);
}
