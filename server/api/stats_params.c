/* stats_params.c — GET /v1/stats's query parameters (see stats_params.h). */
#include "api/stats_params.h"

#include <string.h>

#define US_PER_HOUR INT64_C(3600000000)
#define DEFAULT_RANGE_US (30 * 24 * US_PER_HOUR)

static bool parse_time(const char *s, int64_t *us) { return fd_rfc3339_parse(s, strlen(s), us); }

/* The number of buckets date_trunc(bucket, since) .. until spans (an upper bound for weeks
 * and days, which only needs to be exact enough for the cap). */
static int64_t bucket_count(int64_t since, int64_t until, int64_t step) {
  /* since rounded down to a step boundary can lie one step (or a week) earlier */
  return (until - since) / step + 2;
}

bool fd_stats_params_parse(fd_param_get_fn get, void *cls, int64_t now_us, size_t model_max_bytes,
                           struct fd_stats_params *out, struct fd_error *err) {
  const char *since_s = get(cls, "since"), *until_s = get(cls, "until");
  const char *bucket = get(cls, "bucket"), *group_by = get(cls, "group_by");
  const char *model = get(cls, "model");
  int64_t since, until;

  if (until_s) {
    if (!parse_time(until_s, &until))
      return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "until", "until must be an RFC 3339 time with a zone");
  } else {
    until = now_us;
  }
  if (since_s) {
    if (!parse_time(since_s, &since))
      return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "since", "since must be an RFC 3339 time with a zone");
  } else {
    since = until - DEFAULT_RANGE_US;
  }
  if (since >= until)
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, since_s ? "since" : "until",
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
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "bucket", "bucket must be hour, day or week");
  if (bucket_count(since, until, step) > FD_STATS_MAX_BUCKETS)
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "bucket",
                        "too many %s buckets between since and until: at most %d per request (use a larger bucket)",
                        bucket, FD_STATS_MAX_BUCKETS);
  static const char *const groupings[] = {"model", "tag", "kind", "emoji", "span_label", NULL};
  size_t gi = 0;
  while (group_by && groupings[gi] && strcmp(group_by, groupings[gi]) != 0) gi++;
  if (group_by && !groupings[gi])
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "group_by",
                        "group_by must be model, tag, kind, emoji or span_label");

  if (!fd_rfc3339_format(since, out->since) || !fd_rfc3339_format(until, out->until))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, since_s ? "since" : "until",
                        "since and until must lie within the years 0001 to 9999");

  if (model && (!*model || strlen(model) > model_max_bytes || !fd_param_text_ok(model)))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "model", "model must be 1 to %zu bytes of UTF-8",
                        model_max_bytes);
  out->bucket = bucket;
  out->group_by = group_by;
  out->model = model;
  return true;
}
