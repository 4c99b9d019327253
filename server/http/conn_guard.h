/* conn_guard.h — what libmicrohttpd 0.9.75 does not bound on its own: how long a request
 * may take to arrive, and how many connections one address may hold.
 *
 * MHD's connection timeout measures inactivity only, so a client sending one header line
 * every few seconds keeps its connection forever. The guard tracks every connection
 * (MHD_OPTION_NOTIFY_CONNECTION) through the phases of its current request and a sweeper
 * thread cuts those past their deadline:
 *
 *   head  from accept (or, on a keep-alive connection, from its request line) until the
 *         headers are complete: request_head_timeout
 *   body  from the end of the head until the body is complete: request_head_timeout +
 *         bytes received / request_body_min_rate (no deadline when the rate is 0)
 *   idle  a keep-alive connection must begin its next request line within connection_timeout
 *         of the last reply (MHD closes quiet ones at the same time; this bounds tricklers)
 *   busy  handler running, suspended or reply being sent: no deadline here
 *
 * Cutting is shutdown(2) of the socket from the sweeper thread: MHD then reads end-of-file
 * and closes the connection on its own thread, the only way to end a connection that sends
 * nothing complete (no MHD callback runs for it). The per-address limit replaces MHD's own
 * (which knows no exemptions): addresses in trusted_proxies are not limited. */
#ifndef FD_HTTP_CONN_GUARD_H
#define FD_HTTP_CONN_GUARD_H

#include <microhttpd.h>
#include <stddef.h>

#include "util/config.h"

struct fd_conn_guard;

/* Starts the sweeper thread; NULL with a message in err on failure. */
struct fd_conn_guard *fd_conn_guard_start(const struct fd_config *cfg, char *err, size_t errlen);
/* After MHD_stop_daemon (every connection closed): stops the sweeper and frees. NULL ok. */
void fd_conn_guard_stop(struct fd_conn_guard *g);

/* The MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void fd_conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);

/* Phase changes, called from the request callbacks on the connection's MHD thread. */
void fd_conn_guard_request_line(struct MHD_Connection *conn); /* URI callback */
void fd_conn_guard_head_done(struct MHD_Connection *conn);    /* first access-handler call */
void fd_conn_guard_body_bytes(struct MHD_Connection *conn, size_t n);
void fd_conn_guard_busy(struct MHD_Connection *conn);         /* body complete or reply queued */
void fd_conn_guard_request_done(struct MHD_Connection *conn); /* completion callback */

/* The client's address for the access log: the TCP peer, or behind a trusted proxy the
 * right-most untrusted X-Forwarded-For entry (util/netaddr.h). "-" when unknown. */
void fd_conn_guard_client(const struct fd_conn_guard *g, struct MHD_Connection *conn, char *out, size_t len);

#endif
