/* reply.c — building and queueing responses; the error body is built here only. */
#include "http/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/cors.h"
#include "http/daemon.h"
#include "util/log.h"

json_t *fd_error_json(enum fd_error_code code, const char *field, const char *message) {
  return json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", fd_error_code_name(code), "message", message, "field",
                   field && *field ? field : NULL);
}

void fd_reply_response(struct fd_request *req, unsigned int status, struct MHD_Response *resp) {
  if (req->replied || req->stashed) {
    fd_log_bug("msg=\"second reply for one request\" path=%s", req->path);
    MHD_destroy_response(resp);
    return;
  }
  MHD_add_response_header(resp, "X-Request-Id", req->request_id);
  /* API answers are per key and must not be cached; pages set their own policy */
  if (!MHD_get_response_header(resp, "Cache-Control")) MHD_add_response_header(resp, "Cache-Control", "no-store");
  fd_cors_add_headers(req, resp, status);
  /* while shutting down, every answer closes its connection: keep-alive clients reconnect
   * (to another replica) instead of sending more requests to a daemon that is leaving */
  if (fd_daemon_shutting_down(req->daemon)) MHD_add_response_header(resp, "Connection", "close");
  req->status = status;
  if (req->offload) { /* not on the connection's thread: queued once it is resumed */
    req->stashed = resp;
    return;
  }
  req->replied = true;
  if (MHD_queue_response(req->conn, status, resp) != MHD_YES)
    fd_log(FD_LOG_WARN, "msg=\"could not queue response\" path=%s status=%u", req->path, status);
  MHD_destroy_response(resp);
}

void fd_reply_stashed(struct fd_request *req) {
  struct MHD_Response *resp = req->stashed;
  if (!resp) return; /* no reply: the daemon answers 500 and logs the bug */
  req->stashed = NULL;
  req->replied = true;
  if (MHD_queue_response(req->conn, req->status, resp) != MHD_YES)
    fd_log(FD_LOG_WARN, "msg=\"could not queue response\" path=%s status=%u", req->path, req->status);
  MHD_destroy_response(resp);
}

void fd_reply_json(struct fd_request *req, unsigned int status, json_t *body) {
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text) {
    static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"field\":null}}";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    fd_reply_response(req, 500, r);
    return;
  }
  fd_reply_json_text(req, status, text, strlen(text));
}

void fd_reply_json_text(struct fd_request *req, unsigned int status, char *text, size_t len) {
  req->reply_bytes = len;
  struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, "Content-Type", "application/json");
  fd_reply_response(req, status, r);
}

void fd_reply_error(struct fd_request *req, enum fd_error_code code, const char *field, const char *fmt, ...) {
  char message[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  fd_reply_json(req, fd_error_http_status(code), fd_error_json(code, field, message));
}

void fd_reply_fd_error(struct fd_request *req, const struct fd_error *err) {
  fd_reply_json(req, fd_error_http_status(err->code), fd_error_json(err->code, err->field, err->message));
}

void fd_reply_error_header(struct fd_request *req, enum fd_error_code code, const char *header, const char *value,
                           const char *message) {
  json_t *body = fd_error_json(code, NULL, message);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text) {
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "out of memory");
    return;
  }
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, "Content-Type", "application/json");
  MHD_add_response_header(r, header, value);
  fd_reply_response(req, fd_error_http_status(code), r);
}

/* an error reply that also carries Retry-After */
static void reply_retry_after(struct fd_request *req, enum fd_error_code code, const char *why, int seconds) {
  char after[16];
  snprintf(after, sizeof after, "%d", seconds);
  fd_reply_error_header(req, code, "Retry-After", after, why);
}

void fd_reply_unavailable(struct fd_request *req, const char *why) {
  reply_retry_after(req, FD_ERR_UNAVAILABLE, why, 1);
}

void fd_reply_db_failure_at(struct fd_request *req, enum fd_db_status st, const char *file, int line) {
  if (st == FD_DB_UNAVAILABLE) {
    fd_reply_unavailable(req, "the database is unavailable");
    return;
  }
  if (st == FD_DB_SOFT_ERROR) {
    fd_reply_unavailable(req, "the database is busy with conflicting changes");
    return;
  }
  /* db/status.c logged the SQLSTATE where the failure was classified; this line names the
   * handler that answered it, so that the bug can be found from either */
  fd_log(FD_LOG_ERROR, "src=%s:%d msg=\"database error answered 500 (a bug)\" method=%s path=%s request_id=%s", file,
         line, req->method, req->path, req->request_id);
  fd_reply_error(req, FD_ERR_INTERNAL, NULL, "internal error");
}

void fd_reply_rate_limited(struct fd_request *req, int retry_after_s) {
  reply_retry_after(req, FD_ERR_RATE_LIMITED, "this key is over its rate limit; retry later with the same id",
                    retry_after_s);
}
