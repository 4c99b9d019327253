/* daemon.h — the libmicrohttpd daemon: thread pool on epoll, explicit limits and
 * timeouts, request contexts, routing, auth, CORS and the access log. */
#ifndef FD_HTTP_DAEMON_H
#define FD_HTTP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"
#include "util/config.h"

struct fd_daemon;

/* Start listening on cfg->listen, answering with `routes` (NULL-terminated; borrowed, must
 * outlive the daemon). NULL with a message in err on failure. */
struct fd_daemon *fd_daemon_start(const struct fd_config *cfg, const struct fd_route *routes, char *err,
                                  size_t errlen) __attribute__((warn_unused_result));

/* Stop accepting new connections (the listening socket closes); requests in flight go on. */
void fd_daemon_quiesce(struct fd_daemon *d);

/* Wait until no request is in flight or timeout_ms passed; true if none is left. */
bool fd_daemon_drain(struct fd_daemon *d, int timeout_ms);

/* Close every connection and free the daemon. NULL ok. */
void fd_daemon_stop(struct fd_daemon *d);

#endif
