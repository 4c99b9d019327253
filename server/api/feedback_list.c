/* feedback_list.c — GET /v1/feedback: newest first, filters, keyset pagination. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "db/feedback_db.h"
#include "http/reply.h"
#include "util/rfc3339.h"

static bool parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

/* "<received_at µs>.<seq>" as written by fd_feedback_list */
static bool parse_cursor(const char *s, struct fd_feedback_filter *f) {
  long long us, seq;
  char tail;
  if (sscanf(s, "%lld.%lld%c", &us, &seq, &tail) != 2 || us < 0 || seq < 0) return false;
  f->has_cursor = true;
  f->cursor_received_us = us;
  f->cursor_seq = seq;
  return true;
}

static bool valid_time(const char *s) {
  int64_t us;
  return fd_rfc3339_parse(s, strlen(s), &us);
}

void fd_api_feedback_list(struct fd_request *req) {
  static const char *const kinds[] = {"rating", "comment", "edit", "comparison", NULL};
  struct fd_feedback_filter f = {.limit = 50};
  f.kind = fd_request_arg(req, "kind");
  f.model = fd_request_arg(req, "model");
  f.tag = fd_request_arg(req, "tag");
  f.user = fd_request_arg(req, "user");
  f.since = fd_request_arg(req, "since");
  f.until = fd_request_arg(req, "until");
  const char *limit = fd_request_arg(req, "limit"), *cursor = fd_request_arg(req, "cursor");
  if (f.kind) {
    bool known = false;
    for (int i = 0; kinds[i]; i++) known = known || strcmp(kinds[i], f.kind) == 0;
    if (!known)
      return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "kind", "kind must be rating, comment, edit or comparison");
  }
  if (f.since && !valid_time(f.since))
    return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "since", "since must be an RFC 3339 time with a zone");
  if (f.until && !valid_time(f.until))
    return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "until", "until must be an RFC 3339 time with a zone");
  long lim;
  if (limit) {
    if (!parse_int(limit, 1, 500, &lim))
      return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "limit", "limit must be an integer from 1 to 500");
    f.limit = (int)lim;
  }
  if (cursor && !parse_cursor(cursor, &f))
    return fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "cursor",
                          "cursor must be a next_cursor value from a previous page");
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *page = NULL;
  enum fd_db_status st = fd_feedback_list(db, req->auth.project_id, &f, &page);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) return fd_reply_db_failure(req, st);
  fd_reply_json(req, 200, page);
}
