/* reply.h — every way a handler answers. Exactly one reply per request: these functions
 * queue the response on the connection, set req->status and mark the request replied. */
#ifndef FD_HTTP_REPLY_H
#define FD_HTTP_REPLY_H

#include <jansson.h>

#include "db/status.h"
#include "http/request.h"

/* Reply with a JSON body. Steals the reference to body (even on failure). */
void fd_reply_json(struct fd_request *req, unsigned int status, json_t *body);

/* Reply with JSON text already serialised: text is malloc'd, len bytes, and stolen. */
void fd_reply_json_text(struct fd_request *req, unsigned int status, char *text, size_t len);

/* The one error shape: {"error": {"code", "message", "field"}}; field NULL -> null. */
void fd_reply_error(struct fd_request *req, enum fd_error_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void fd_reply_fd_error(struct fd_request *req, const struct fd_error *err);

/* The error shape (field null) with one more header, e.g. Allow on a 405. */
void fd_reply_error_header(struct fd_request *req, enum fd_error_code code, const char *header, const char *value,
                           const char *message);

/* 503 unavailable with Retry-After. */
void fd_reply_unavailable(struct fd_request *req, const char *why);

/* The answer to a failed database call (st < FD_DB_NONE, db/status.h), by class:
 *   UNAVAILABLE  503 unavailable + Retry-After: the database is unreachable; clients retry.
 *   SOFT         503 unavailable + Retry-After: still a serialization failure or deadlock after
 *                the transaction runner's attempts (db/txn.h): contention that passes, and the
 *                request, run again, may well succeed — not a bug of ours or the client's.
 *   HARD         500 internal, logged with the caller's file:line and the path: a bug (every
 *                client input is validated before any query, so no request can cause one). */
void fd_reply_db_failure_at(struct fd_request *req, enum fd_db_status st, const char *file, int line);
#define fd_reply_db_failure(req, st) fd_reply_db_failure_at((req), (st), __FILE__, __LINE__)

/* 429 rate_limited with Retry-After. */
void fd_reply_rate_limited(struct fd_request *req, int retry_after_s);

/* Queue a prepared response (headers common to all replies are added here) and release it. */
void fd_reply_response(struct fd_request *req, unsigned int status, struct MHD_Response *resp);

/* The resume step of a request handled off its HTTP thread (req->offload): queue the reply
 * kept then. Nothing kept: returns without replying (the daemon then answers 500). */
void fd_reply_stashed(struct fd_request *req);

/* The error body as a JSON value (for per-item results). New reference. */
json_t *fd_error_json(enum fd_error_code code, const char *field, const char *message);

#endif
