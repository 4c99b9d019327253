/* cors.h — browser access per project (docs/api.md "Browser clients").
 *
 * Preflights carry no key, so they are answered for any Origin that some project allows.
 * Real requests are checked against the key's own project in the daemon; replies carry
 * Access-Control-Allow-Origin only for an origin allowed to read them (the key's project,
 * or for a 401 any project) — never for a refused preflight or a refused origin. */
#ifndef FD_HTTP_CORS_H
#define FD_HTTP_CORS_H

#include <jansson.h>
#include <stdbool.h>

#include "http/request.h"

/* allowed is a project's allowed_origins: the string "*" or an array of origins
 * (cors_origin.c, like the next one). */
bool fd_cors_origin_allowed(const json_t *allowed, const char *origin);

/* Whether v is a valid allowed_origins setting: "*", or an array of at most 100 strings of
 * at most 256 bytes, each "*" or starting with http:// or https://. */
bool fd_cors_origins_valid(const json_t *v);

struct fd_pool;

/* 1 when some project allows origin (or any origin), 0 when none does, -1 when the set
 * could not be loaded. Answered from a set at most a second old (see cors.c). */
int fd_cors_origin_known(struct fd_pool *pool, const char *origin);

/* Reload the set of allowed origins before its next use (a project's origins changed here). */
void fd_cors_forget_origins(void);

/* Answer an OPTIONS request (replies in every case); a browser preflight is admitted when
 * fd_cors_origin_known says some project allows its Origin. */
void fd_cors_preflight(struct fd_request *req, struct fd_pool *pool, const char *allow_methods);

/* Add CORS headers to a reply, when the request came from an origin entitled to read it. */
void fd_cors_add_headers(struct fd_request *req, struct MHD_Response *resp, unsigned int status);

#endif
