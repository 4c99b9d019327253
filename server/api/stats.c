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

#include "api/api.h"
#include "api/app.h"
#include "api/stats_params.h"
#include "db/stats_db.h"
#include "http/reply.h"
#include "ingest/signal_names.h"
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

/* Set `rate_key` and `ci_key` of obj to k / n and its Wilson interval, or null when n = 0. */
static void set_rate(json_t *obj, const char *rate_key, const char *ci_key, double k, double n) {
  if (n <= 0) {
    json_object_set_new(obj, rate_key, json_null());
    json_object_set_new(obj, ci_key, json_null());
    return;
  }
  double lo, hi;
  wilson(k, n, &lo, &hi);
  json_object_set_new(obj, rate_key, json_real(k / n));
  json_object_set_new(obj, ci_key, json_pack("[f, f]", lo, hi));
}

/* Set positive_rate (and the interval under `ci_key`) from the object's up and down. */
static void add_rates(json_t *obj, const char *ci_key) {
  double up = json_number_value(json_object_get(obj, "up"));
  double down = json_number_value(json_object_get(obj, "down"));
  set_rate(obj, "positive_rate", ci_key, up, up + down);
}

static json_int_t count_of(const json_t *names, const char *kind, const char *name) {
  return json_integer_value(json_object_get(json_object_get(names, kind), name));
}

/* Replace the query's `names` of one scope by reactions, signals, their rates and (with
 * `spans`) spans — see the top. */
static void add_names(json_t *obj, const json_t *reaction_set, const json_t *span_labels, bool spans) {
  json_t *names = json_object_get(obj, "names");
  if (json_is_null(names) || !names) {
    const char *keys[] = {"reactions", "reaction_positive_rate", "reaction_positive_rate_ci95",
                          "signals",   "signal_rates",           "spans"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
      if (spans || strcmp(keys[i], "spans") != 0) json_object_set_new(obj, keys[i], json_null());
    json_object_del(obj, "names");
    return;
  }
  json_t *reactions = json_object(), *signals = json_object(), *rates = json_object();
  double positive = 0, valued = 0;
  size_t i;
  json_t *r;
  json_array_foreach(reaction_set, i, r) {
    json_int_t n = count_of(names, "reaction", json_string_value(json_object_get(r, "name")));
    double value = json_number_value(json_object_get(r, "value"));
    json_object_set_new(reactions, json_string_value(json_object_get(r, "name")), json_integer(n));
    if (value > 0) positive += (double)n;
    if (value != 0) valued += (double)n;
  }
  json_object_set_new(obj, "reactions", reactions);
  set_rate(obj, "reaction_positive_rate", "reaction_positive_rate_ci95", positive, valued);
  json_int_t messages = json_integer_value(json_object_get(obj, "assistant_messages"));
  for (int s = 0; s < FD_SIGNALS_ALL; s++) {
    json_int_t n = count_of(names, "signal", fd_signal_names[s]);
    json_object_set_new(signals, fd_signal_names[s], json_integer(n));
    if (messages > 0) json_object_set_new(rates, fd_signal_names[s], json_real((double)n / (double)messages));
  }
  json_object_set_new(obj, "signals", signals);
  if (messages > 0)
    json_object_set_new(obj, "signal_rates", rates);
  else {
    json_decref(rates);
    json_object_set_new(obj, "signal_rates", json_null());
  }
  if (spans) {
    json_t *labels = json_object();
    json_array_foreach(span_labels, i, r) {
      const char *name = json_string_value(json_object_get(r, "name"));
      json_object_set_new(labels, name, json_integer(count_of(names, "span", name)));
    }
    const char *name;
    json_t *n;
    json_object_foreach(json_object_get(names, "span"), name, n) {
      if (!json_object_get(labels, name)) json_object_set(labels, name, n);
    }
    json_object_set_new(obj, "spans", labels);
  }
  json_object_del(obj, "names");
}

/* Is `name` a reaction of the set? */
static bool in_set(const json_t *reaction_set, const char *name) {
  size_t i;
  json_t *r;
  json_array_foreach(reaction_set, i, r) {
    if (name && strcmp(json_string_value(json_object_get(r, "name")), name) == 0) return true;
  }
  return false;
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
  const json_t *reaction_set = json_object_get(counts, "reaction_set");
  const json_t *span_labels = json_object_get(counts, "span_labels");
  add_rates(totals, "positive_rate_ci95");
  add_names(totals, reaction_set, span_labels, true);
  size_t i;
  json_t *g;
  json_array_foreach(json_object_get(counts, "series"), i, g) add_names(g, reaction_set, span_labels, false);
  /* emoji groups of names no longer in the set stop counting */
  for (i = 0; sp.group_by && strcmp(sp.group_by, "emoji") == 0 && i < json_array_size(groups);)
    if (in_set(reaction_set, json_string_value(json_object_get(json_array_get(groups, i), "key"))))
      i++;
    else
      json_array_remove(groups, i);
  json_array_foreach(groups, i, g) {
    add_rates(g, "ci95");
    add_names(g, reaction_set, span_labels, true);
  }
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
