/* reaction_sets.h — each project's reaction set, cached in the process for the ingest
 * handlers: a reaction event's emoji is resolved against it on the request path (an
 * unknown one is a 400 the client must see), and reading the project's settings for every
 * event would cost a database round trip per request. Loaded on first use; expired by
 * PATCH /v1/project here, and reloaded after FD_API_REACTION_SET_TTL_US anyway, so a PATCH
 * answered by another replica takes effect within that time too (at most one read of the
 * project per project, process and second, and none while no reaction event comes). */
#ifndef FD_API_REACTION_SETS_H
#define FD_API_REACTION_SETS_H

#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"
#include "ingest/reactions.h"

#define FD_API_REACTION_SET_TTL_US 1000000LL

/* *out = the set of the request's project. False after replying 503 (the database could
 * not be read): the handler just returns. */
bool fd_api_reaction_set(struct fd_request *req, struct fd_reaction_set *out) __attribute__((warn_unused_result));

/* The project's settings changed here: the next use reloads its set. */
void fd_api_reaction_set_forget(int64_t project_id);

#endif
