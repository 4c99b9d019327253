/* fuzz_read_params.c — libFuzzer target for the query parameters of GET /v1/leaderboard and
 * GET /v1/agreement (api/read_params.c): the input is a query string (see query_input.h).
 *
 * Invariants (abort = finding):
 * - a failure is 400 invalid_parameter about one of the parameters;
 * - on success: each window bound is given iff it was sent, is RFC 3339 that parses back to
 *   the instant sent, and since < until when both are there; min_battles and bootstrap keep
 *   their defaults when absent, else equal the decimal digits sent (recomputed here) and lie
 *   in [0, max]. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/read_params.h"
#include "query_input.h"

/* the bounds GET /v1/leaderboard passes (api/leaderboard.c); the parser takes any */
#define MIN_BATTLES_MAX 1000000000000L
#define BOOTSTRAP_MAX 1000L

static const char *const names[] = {"since", "until", "min_battles", "bootstrap", NULL};

static int64_t instant(const char *s) {
  int64_t us;
  if (!fd_rfc3339_parse(s, strlen(s), &us)) abort();
  return us;
}

static void check_bound(const char *normalised, const char *sent) {
  if (!normalised != !sent) abort();
  if (sent && instant(normalised) != instant(sent)) abort();
}

/* the value of digits-only text, or -1 when it does not fit in [0, max] */
static long digits_value(const char *s, long max) {
  long v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') abort(); /* accepted text must be digits only */
    if (v > (max - (*s - '0')) / 10) return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}

static void check_count(struct fz_query *q, const char *name, long max, long dflt, long got) {
  const char *sent = fz_query_get(q, name);
  if (!sent) {
    if (got != dflt) abort();
    return;
  }
  if (got < 0 || got > max || digits_value(sent, max) != got) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fz_query q;
  fz_query_parse(&q, data, size);
  struct fd_api_window w;
  struct fd_error err = {0};
  long min_battles = 7, bootstrap = 9; /* defaults the parser must leave alone */
  if (!fd_api_parse_window(fz_query_get, &q, &w, &err) ||
      !fd_api_parse_count(fz_query_get, &q, "min_battles", MIN_BATTLES_MAX, &min_battles, &err) ||
      !fd_api_parse_count(fz_query_get, &q, "bootstrap", BOOTSTRAP_MAX, &bootstrap, &err)) {
    fz_check_param_error(&err, names);
  } else {
    check_bound(w.since, fz_query_get(&q, "since"));
    check_bound(w.until, fz_query_get(&q, "until"));
    if (w.since && w.until && instant(w.since) >= instant(w.until)) abort();
    check_count(&q, "min_battles", MIN_BATTLES_MAX, 7, min_battles);
    check_count(&q, "bootstrap", BOOTSTRAP_MAX, 9, bootstrap);
  }
  fz_query_free(&q);
  return 0;
}
