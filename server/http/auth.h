/* auth.h — bearer API keys: SHA-256 of the key, looked up through a small cache.
 *
 * Cache entries live at most one second, so a revocation (or a project's new
 * allowed_origins) takes effect within a second on every replica without any messaging
 * between them; a busy key costs one indexed query per second. */
#ifndef FD_HTTP_AUTH_H
#define FD_HTTP_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"

enum fd_auth_result { FD_AUTH_OK, FD_AUTH_UNAUTHORIZED, FD_AUTH_UNAVAILABLE };

struct fd_pool;

/* Authenticate `Authorization: Bearer <key>`; on OK fills req->auth and sets req->authed.
 * A key not in the cache is looked up on a connection from `pool`. */
enum fd_auth_result fd_auth_request(struct fd_request *req, struct fd_pool *pool) __attribute__((warn_unused_result));

/* Release what req->auth holds. */
void fd_auth_clear(struct fd_auth *auth);

/* Drop this replica's cached keys of a project, after a change made here (a revoked key,
 * new allowed_origins) so it applies at once on this replica; others follow within 1 s. */
void fd_auth_forget_project(int64_t project_id);

bool fd_auth_has_scope(const struct fd_auth *auth, unsigned scope);

#endif
