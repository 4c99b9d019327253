/* request.h — the request context: everything one HTTP request owns.
 *
 * Created on libmicrohttpd's first callback for a connection's request (the URI log
 * callback) and freed only in the completion callback, after the reply went out; the access
 * log line and the request metrics are written there too. Handlers keep their own state in
 * `state` with a `state_free` the context calls. */
#ifndef FD_HTTP_REQUEST_H
#define FD_HTTP_REQUEST_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/scope.h"
#include "util/clock.h" /* fd_now_us: request timings */

/* The caller's identity after authentication. */
struct fd_auth {
  int64_t project_id;
  char project_slug[64];
  char key_id[40];
  unsigned scopes;         /* enum fd_scope bits; admin implies all */
  json_t *allowed_origins; /* the project's setting (owned reference) */
};

struct fd_request;
typedef void (*fd_handler)(struct fd_request *req);

struct fd_route {
  const char *method;
  const char *pattern; /* "/v1/feedback/{id}": {..} matches one non-empty path segment */
  fd_handler handler;
  unsigned scope;   /* FD_SCOPE_NONE for public routes */
  const char *name; /* metrics label */
  /* Optional: called once the head passed every check (auth included), before the body is
   * read; false when it answered (MHD then closes the connection without reading the body)
   * or sent the request to wait (fd_request_wait_at_head). */
  bool (*admit)(struct fd_request *req);
};

#define FD_MAX_PATH_PARAMS 2

struct fd_daemon;

struct fd_request {
  struct MHD_Connection *conn;
  const struct fd_daemon *daemon; /* the daemon serving it */
  const void *app;                /* the application's context for handlers (fd_http_deps.app) */
  char request_id[33];
  uint64_t start_us;
  const char *method;
  const char *path;                 /* owned copy of the URL path, without query */
  const struct fd_route *route;     /* NULL until routed */
  char *params[FD_MAX_PATH_PARAMS]; /* decoded path parameters, owned */
  const char *origin;               /* the Origin header, or NULL */
  struct fd_auth auth;
  bool authed;

  /* body */
  char *body;
  size_t body_len, body_cap;
  size_t body_declared; /* Content-Length (already checked against the limit), 0 if none */
  bool body_too_large;
  bool headers_checked;

  /* reply bookkeeping */
  bool replied;
  bool suspended;
  bool held; /* suspended between head and body (http/wait_room.h): `resume` runs first */
  unsigned int status;
  size_t reply_bytes;

  /* handler state; for suspended requests, `resume` runs when the connection is resumed */
  void *state;
  void (*state_free)(void *state);
  fd_handler resume;

  /* Set while a handler runs on a thread that is not the connection's HTTP thread, the
   * connection being suspended (api/parse_offload.h): a reply is kept in `stashed` to be
   * queued by fd_reply_stashed once resumed, and fd_request_suspend only hands the suspended
   * connection on (the flag it points to is set, `offload` cleared). */
  bool *offload;
  struct MHD_Response *stashed;
};

/* Query-string argument or NULL. */
const char *fd_request_arg(struct fd_request *req, const char *name);
/* Header value or NULL. */
const char *fd_request_header(struct fd_request *req, const char *name);

/* Suspend the connection: the request will be finished later from another thread by
 * fd_request_resume(); req->resume is then called on an MHD thread to send the reply. */
void fd_request_suspend(struct fd_request *req, fd_handler on_resume);
/* NB: under req->offload the connection is suspended already; fd_request_suspend then only
 * sets the resume step, so whoever resumes it next (e.g. a writer) runs on_resume. */
void fd_request_resume(struct fd_request *req);

/* From a route's admit step: let the request wait, suspended and before its body is read,
 * until ready(req) holds or max_ms passed (http/wait_room.h); then `then` runs on its HTTP
 * thread and answers, or returns without a reply to let the body come. false when the
 * waiting room is full (or key's share of it): the caller answers. */
bool fd_request_wait_at_head(struct fd_request *req, int64_t key, int max_ms, bool (*ready)(struct fd_request *req),
                             fd_handler then);

#endif
