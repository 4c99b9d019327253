/* fuzz_stats_params.c — libFuzzer target for GET /v1/stats's query parameters
 * (api/stats_params.c): the input is a query string (see query_input.h).
 *
 * Invariants (abort = finding):
 * - a failure is 400 invalid_parameter about one of the parameters;
 * - on success: since and until are RFC 3339 texts that parse back, since < until, and
 *   when given they denote the instants the request sent; the window spans at most
 *   FD_STATS_MAX_BUCKETS buckets (recomputed here); bucket and group_by are from their
 *   lists; model is 1..model_max bytes of valid UTF-8 (it reaches SQL as text). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/stats_params.h"
#include "query_input.h"

#define NOW_US INT64_C(1795600000000000) /* 2026-11-25T... : any fixed instant will do */
#define MODEL_MAX 200
#define HOUR_US INT64_C(3600000000)

static const char *const names[] = {"since", "until", "bucket", "group_by", "model", NULL};

static int64_t parsed(const char *s) {
  int64_t us;
  if (!fd_rfc3339_parse(s, strlen(s), &us)) abort();
  return us;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fz_query q;
  fz_query_parse(&q, data, size);
  struct fd_stats_params sp;
  struct fd_error err = {0};
  if (!fd_stats_params_parse(fz_query_get, &q, NOW_US, MODEL_MAX, &sp, &err)) {
    fz_check_param_error(&err, names);
  } else {
    int64_t since = parsed(sp.since), until = parsed(sp.until);
    if (since >= until) abort();
    const char *given_since = fz_query_get(&q, "since"), *given_until = fz_query_get(&q, "until");
    if (given_since && parsed(given_since) != since) abort();
    if (given_until && parsed(given_until) != until) abort();
    if (!given_until && until != NOW_US) abort();
    int64_t step = strcmp(sp.bucket, "hour") == 0   ? HOUR_US
                   : strcmp(sp.bucket, "day") == 0  ? 24 * HOUR_US
                   : strcmp(sp.bucket, "week") == 0 ? 7 * 24 * HOUR_US
                                                    : (abort(), 0);
    /* buckets touched: from since's bucket (at most one step earlier) to until's */
    if ((until - since) / step + 1 > FD_STATS_MAX_BUCKETS) abort();
    if (sp.group_by && strcmp(sp.group_by, "model") && strcmp(sp.group_by, "tag") && strcmp(sp.group_by, "kind") &&
        strcmp(sp.group_by, "emoji") && strcmp(sp.group_by, "span_label"))
      abort();
    if (sp.model && (!*sp.model || strlen(sp.model) > MODEL_MAX)) abort();
    fz_check_text(sp.model);
  }
  fz_query_free(&q);
  return 0;
}
