/* bearer.h — the API key in an `Authorization: Bearer <key>` header (docs/api.md
 * "Authentication and scopes"). Pure string handling, separate from the key cache of auth.c so the
 * fuzz target can exercise it without a database. */
#ifndef FD_HTTP_BEARER_H
#define FD_HTTP_BEARER_H

#include <stddef.h>

/* The key inside an Authorization header value: the scheme "Bearer " (any case), then the
 * key without surrounding spaces, 1 to 256 bytes. Returns a pointer into `header` with the
 * key's length in *len, or NULL (header absent or not that shape: 401). */
const char *fd_bearer_key(const char *header, size_t *len);

#endif
