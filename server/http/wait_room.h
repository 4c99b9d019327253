/* wait_room.h — requests that wait, suspended, between their head and their body.
 *
 * A large body whose project has no room for it in the ingest queue would be refused 503 at
 * once; a client that ignores Retry-After then sends its next head straight away, and each
 * refusal costs an accept, a head, an answer and a close. Held here instead, the request
 * waits (costing no CPU) until its room check passes or a bound passes: a well-behaved bulk
 * client is taken as soon as there is room, and a flooding one is paced at the server's
 * rate instead of its own (docs/api.md "Limits"). */
#ifndef FD_HTTP_WAIT_ROOM_H
#define FD_HTTP_WAIT_ROOM_H

#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"

/* At most this many requests wait at once, and at most FD_WAIT_ROOM_PER_KEY of one key (a
 * project): each holds a connection and its 32 KiB pool. More are answered at once. */
#define FD_WAIT_ROOM_MAX 256
#define FD_WAIT_ROOM_PER_KEY 16

struct fd_wait_room;

/* Starts the room's thread; NULL when it cannot. */
struct fd_wait_room *fd_wait_room_start(void) __attribute__((warn_unused_result));

/* From now on every waiting request is let go at once (its `then` runs) and none enters:
 * called when the server starts shutting down. NULL ok. */
void fd_wait_room_close(struct fd_wait_room *w);

/* Closes the room if still open and stops the thread. NULL ok. Called before the daemon
 * closes its connections: a suspended one must be resumed first. */
void fd_wait_room_stop(struct fd_wait_room *w);

/* From a route's admit step (the head is in, the body not): suspend req until ready(req) is
 * true — asked on the room's thread every few milliseconds — or max_ms passed or the room is
 * closing, then resume it; `then` runs on its HTTP thread before any of the body is taken
 * and either answers or lets the body come. false, and nothing done, when the room (or key's
 * share of it) is full. */
bool fd_wait_room_enter(struct fd_wait_room *w, struct fd_request *req, int64_t key, int max_ms,
                        bool (*ready)(struct fd_request *req), fd_handler then);

#endif
