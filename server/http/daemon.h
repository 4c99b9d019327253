/* daemon.h — the libmicrohttpd daemon: thread pool on epoll, explicit limits and
 * timeouts, request contexts, routing, auth, CORS and the access log. */
#ifndef FD_HTTP_DAEMON_H
#define FD_HTTP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"
#include "util/config.h"

struct fd_daemon;
struct fd_pool;

/* What the HTTP layer takes from the application, passed in instead of read from a global.
 * Both are borrowed and must outlive the daemon. */
struct fd_http_deps {
  struct fd_pool *pool; /* API key lookups (auth.c) and CORS preflights (cors.c) */
  const void *app;      /* opaque here: every request carries it to its handler as req->app */
};

/* Start listening on cfg->listen, answering with `routes` (NULL-terminated; borrowed, must
 * outlive the daemon). Bodies are limited to cfg->max_body_bytes. NULL with a message in
 * err on failure. */
struct fd_daemon *fd_daemon_start(const struct fd_config *cfg, const struct fd_route *routes,
                                  const struct fd_http_deps *deps, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Start shutting down: from now on every reply closes its connection (keep-alive clients
 * reconnect elsewhere), and no new connection is accepted (the listening socket closes);
 * requests in flight go on. */
void fd_daemon_quiesce(struct fd_daemon *d);

/* true once fd_daemon_quiesce was called (any thread may ask). NULL: false. */
bool fd_daemon_shutting_down(const struct fd_daemon *d);

/* Wait until no request is in flight or timeout_ms passed; true if none is left. */
bool fd_daemon_drain(struct fd_daemon *d, int timeout_ms);

/* Close every connection and free the daemon. NULL ok. */
void fd_daemon_stop(struct fd_daemon *d);

#endif
