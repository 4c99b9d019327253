/* fuzz_export_params.c — libFuzzer target for the parameters of GET /v1/export (and of
 * `feedbackd export`): api/export_job.c's fd_export_request_parse. The input is a query
 * string (see query_input.h).
 *
 * Invariants (abort = finding):
 * - a failure is 400 invalid_parameter about one of the parameters, never a 500;
 * - on success: test_fraction in [0, 1], min_margin finite and >= 0, since/until when given
 *   parse and equal the manifest's normalised texts, model and after non-empty valid UTF-8
 *   (they reach SQL and the manifest), reactions=true / signals=true only with a format that
 *   takes them, and the manifest parameters serialise to JSON. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/export_job.h"
#include "query_input.h"
#include "util/rfc3339.h"

static const char *const names[] = {
    "format", "split", "test_fraction", "min_margin", "since",   "until", "include_meta",
    "model",  "after", "exclude_users", "reactions",  "signals", NULL};

static void check_time(const struct fz_query *q, const char *name, bool has, int64_t us, const json_t *params) {
  const char *given = fz_query_get((void *)q, name);
  if ((given != NULL) != has) abort();
  const char *norm = json_string_value(json_object_get(params, name));
  if (!has) {
    if (!json_is_null(json_object_get(params, name))) abort();
    return;
  }
  int64_t a, b;
  if (!norm || !fd_rfc3339_parse(given, strlen(given), &a) || !fd_rfc3339_parse(norm, strlen(norm), &b) || a != us ||
      b != us)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fz_query q;
  fz_query_parse(&q, data, size);
  struct fd_export_request rq;
  struct fd_error err = {0};
  if (!fd_export_request_parse(fz_query_get, &q, "project", &rq, &err)) {
    fz_check_param_error(&err, names);
  } else {
    const struct fd_export_params *p = &rq.p;
    if (!(p->test_fraction >= 0 && p->test_fraction <= 1)) abort();
    if (!isfinite(p->min_margin) || p->min_margin < 0) abort();
    check_time(&q, "since", p->has_since, p->since, rq.params_json);
    check_time(&q, "until", p->has_until, p->until, rq.params_json);
    if (p->model && !*p->model) abort();
    if (rq.after && !*rq.after) abort();
    if ((p->reactions && !fd_export_reactions_allowed(p->format)) ||
        (p->signals && !fd_export_signals_allowed(p->format)))
      abort();
    fz_check_text(p->model);
    fz_check_text(rq.after);
    char *text = json_dumps(rq.params_json, FD_MANIFEST_JSON_FLAGS);
    if (!text) abort();
    free(text);
    fd_export_request_clear(&rq);
  }
  fz_query_free(&q);
  return 0;
}
