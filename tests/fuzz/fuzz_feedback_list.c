/* fuzz_feedback_list.c — libFuzzer target for GET /v1/feedback's query parameters
 * (api/feedback_list_params.c): the input is a query string (see query_input.h).
 *
 * Invariants (abort = finding):
 * - a failure is 400 invalid_parameter about one of the parameters;
 * - on success: kind is one of the four, since/until parse as RFC 3339, limit is 1..500
 *   (50 when absent), the text filters that reach SQL (model, tag, user) are valid UTF-8;
 * - the cursor is accepted only when it is two non-negative decimal numbers that fit in
 *   int64 (checked with strtoll/ERANGE, independently of the parser), with those values. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/feedback_list_params.h"
#include "query_input.h"
#include "util/rfc3339.h"

static const char *const names[] = {"kind", "since", "until", "limit", "cursor", "model", "tag", "user", NULL};

static void check_time(const char *s) {
  int64_t us;
  if (s && !fd_rfc3339_parse(s, strlen(s), &us)) abort();
}

/* "<digits>.<digits>" (sscanf-style leading blanks and '+' allowed) that fit in int64. */
static bool cursor_fits(const char *s, long long *us, long long *seq) {
  char *end;
  errno = 0;
  *us = strtoll(s, &end, 10);
  if (errno || end == s || *end != '.') return false;
  const char *rest = end + 1;
  *seq = strtoll(rest, &end, 10);
  if (errno || end == rest || *end) return false;
  return *us >= 0 && *seq >= 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fz_query q;
  fz_query_parse(&q, data, size);
  struct fd_feedback_filter f;
  struct fd_error err = {0};
  if (!fd_feedback_filter_parse(fz_query_get, &q, &f, &err)) {
    fz_check_param_error(&err, names);
  } else {
    static const char *const kinds[] = {"rating", "comment", "edit",     "comparison",
                                        "span",   "step",    "reaction", "signal"};
    bool known = !f.kind;
    for (size_t i = 0; !known && i < sizeof kinds / sizeof kinds[0]; i++) known = strcmp(f.kind, kinds[i]) == 0;
    if (!known) abort();
    check_time(f.since);
    check_time(f.until);
    if (f.limit < 1 || f.limit > 500 || (!fz_query_get(&q, "limit") && f.limit != 50)) abort();
    fz_check_text(f.model);
    fz_check_text(f.tag);
    fz_check_text(f.user);
    const char *cursor = fz_query_get(&q, "cursor");
    if (f.has_cursor != (cursor != NULL)) abort();
    long long us, seq;
    if (cursor && (!cursor_fits(cursor, &us, &seq) || us != f.cursor_received_us || seq != f.cursor_seq)) abort();
  }
  fz_query_free(&q);
  return 0;
}
