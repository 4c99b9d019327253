/* feedback_list_params.c — GET /v1/feedback's query parameters (see feedback_list_params.h). */
#include "api/feedback_list_params.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/kinds.h"
#include "util/rfc3339.h"

static bool parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

/* Decimal digits at *s up to `stop` into *out; false when there are none or the value does
 * not fit in int64 (sscanf's %lld would saturate, or worse). */
static bool parse_digits(const char **s, char stop, long long *out) {
  const char *p = *s;
  long long v = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (LLONG_MAX - (*p - '0')) / 10) return false;
    v = v * 10 + (*p - '0');
  }
  if (p == *s || *p != stop) return false;
  *s = p;
  *out = v;
  return true;
}

/* received_at of a cursor: microseconds since 1970 up to the end of year 9999, the range of
 * every time this API writes; near INT64_MAX the database's date arithmetic overflows (503). */
#define CURSOR_MAX_US 253402300799999999LL

/* "<received_at µs>.<seq>" as written by fd_feedback_list */
static bool parse_cursor(const char *s, struct fd_feedback_filter *f) {
  long long us, seq;
  if (!parse_digits(&s, '.', &us) || us > CURSOR_MAX_US) return false;
  s++;
  if (!parse_digits(&s, '\0', &seq)) return false;
  f->has_cursor = true;
  f->cursor_received_us = us;
  f->cursor_seq = seq;
  return true;
}

static bool valid_time(const char *s) {
  int64_t us;
  return fd_rfc3339_parse(s, strlen(s), &us);
}

bool fd_feedback_filter_parse(fd_param_get_fn get, void *cls, struct fd_feedback_filter *f, struct fd_error *err) {
  memset(f, 0, sizeof *f);
  f->limit = 50;
  f->kind = get(cls, "kind");
  f->model = get(cls, "model");
  f->tag = get(cls, "tag");
  f->user = get(cls, "user");
  f->since = get(cls, "since");
  f->until = get(cls, "until");
  const char *limit = get(cls, "limit"), *cursor = get(cls, "cursor");
  if (f->kind) {
    enum fd_feedback_kind kind;
    if (!fd_feedback_kind_parse(f->kind, &kind))
      return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "kind",
                          "kind must be rating, comment, edit, comparison, span, step, reaction or signal");
  }
  static const char *const texts[] = {"model", "tag", "user"};
  const char *const values[] = {f->model, f->tag, f->user};
  for (int i = 0; i < 3; i++)
    if (!fd_param_text_ok(values[i]))
      return fd_error_set(err, FD_ERR_INVALID_PARAMETER, texts[i], "%s must be valid UTF-8", texts[i]);
  if (f->since && !valid_time(f->since))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "since", "since must be an RFC 3339 time with a zone");
  if (f->until && !valid_time(f->until))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "until", "until must be an RFC 3339 time with a zone");
  long lim;
  if (limit) {
    if (!parse_int(limit, 1, 500, &lim))
      return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "limit", "limit must be an integer from 1 to 500");
    f->limit = (int)lim;
  }
  if (cursor && !parse_cursor(cursor, f))
    return fd_error_set(err, FD_ERR_INVALID_PARAMETER, "cursor",
                        "cursor must be a next_cursor value from a previous page");
  return true;
}
