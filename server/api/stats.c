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
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/app.h"
#include "db/stats_db.h"
#include "http/reply.h"
#include "util/clock.h"
#include "util/rfc3339.h"

#define FD_STATS_MAX_BUCKETS 10000
#define US_PER_HOUR INT64_C(3600000000)
#define DEFAULT_RANGE_US (30 * 24 * US_PER_HOUR)

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

static bool parse_time(const char *s, int64_t *us) { return fd_rfc3339_parse(s, strlen(s), us); }

/* The number of buckets date_trunc(bucket, since) .. until spans (an upper bound for weeks
 * and days, which only needs to be exact enough for the cap). */
static int64_t bucket_count(int64_t since, int64_t until, int64_t step) {
  /* since rounded down to a step boundary can lie one step (or a week) earlier */
  return (until - since) / step + 2;
}

void fd_api_stats_get(struct fd_request *req) {
  const char *since_s = fd_request_arg(req, "since"), *until_s = fd_request_arg(req, "until");
  const char *bucket = fd_request_arg(req, "bucket"), *group_by = fd_request_arg(req, "group_by");
  const char *model = fd_request_arg(req, "model");
  int64_t since, until;

  if (until_s) {
    if (!parse_time(until_s, &until))
      return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "until", "until must be an RFC 3339 time with a zone");
  } else {
    until = fd_wall_us();
  }
  if (since_s) {
    if (!parse_time(since_s, &since))
      return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "since", "since must be an RFC 3339 time with a zone");
  } else {
    since = until - DEFAULT_RANGE_US;
  }
  if (since >= until)
    return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, since_s ? "since" : "until",
                          "since must be before until (the window is [since, until))");

  int64_t step;
  if (!bucket) bucket = "day";
  if (strcmp(bucket, "hour") == 0)
    step = US_PER_HOUR;
  else if (strcmp(bucket, "day") == 0)
    step = 24 * US_PER_HOUR;
  else if (strcmp(bucket, "week") == 0)
    step = 7 * 24 * US_PER_HOUR;
  else
    return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "bucket", "bucket must be hour, day or week");
  if (bucket_count(since, until, step) > FD_STATS_MAX_BUCKETS)
    return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "bucket",
                          "too many %s buckets between since and until: at most %d per request (use a larger bucket)",
                          bucket, FD_STATS_MAX_BUCKETS);
  if (group_by && strcmp(group_by, "model") != 0 && strcmp(group_by, "tag") != 0 && strcmp(group_by, "kind") != 0)
    return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "group_by", "group_by must be model, tag or kind");

  char since_out[FD_RFC3339_BUF], until_out[FD_RFC3339_BUF];
  if (!fd_rfc3339_format(since, since_out) || !fd_rfc3339_format(until, until_out))
    return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, since_s ? "since" : "until",
                          "since and until must lie within the years 0001 to 9999");

  if (model && (!*model || strlen(model) > fd_api_app_of(req)->limits.model_max_bytes))
    return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "model", "model must be 1 to %zu bytes",
                          fd_api_app_of(req)->limits.model_max_bytes);
  struct fd_stats_query q = {since_out, until_out, bucket, group_by, model};
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *counts = NULL;
  enum fd_db_status st = fd_stats_query(db, req->auth.project_id, &q, &counts);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) return fd_reply_db_failure(req, st);

  json_t *totals = json_object_get(counts, "totals"), *groups = json_object_get(counts, "groups");
  add_rates(totals, "positive_rate_ci95");
  size_t i;
  json_t *g;
  json_array_foreach(groups, i, g) add_rates(g, "ci95");
  json_t *body = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:O}", "since", since_out, "until", until_out, "bucket",
                           bucket, "totals", totals, "series", json_object_get(counts, "series"), "groups", groups,
                           "top_tags", json_object_get(counts, "top_tags"));
  json_decref(counts);
  if (!body) return fd_reply_error(req, FD_ERR_INTERNAL, NULL, "the stats answer could not be built");
  fd_reply_json(req, 200, body);
}
