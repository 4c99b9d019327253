/* scope.h — what an API key may do (docs/api.md "Conventions"): the scope bits, their
 * names, and the conversions the CLI, the keys API and the key store share. */
#ifndef FD_CORE_SCOPE_H
#define FD_CORE_SCOPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum fd_scope {
  FD_SCOPE_NONE = 0, /* public: health, metrics, pages */
  FD_SCOPE_INGEST = 1 << 0,
  FD_SCOPE_READ = 1 << 1,
  FD_SCOPE_EXPORT = 1 << 2,
  FD_SCOPE_ADMIN = 1 << 3, /* implies the other three */
};

/* Scope names -> bits. The list is comma-separated ("ingest,read"), the JSON form an array
 * of strings; both are false on an unknown or empty scope (and *out is then undefined). */
bool fd_scopes_parse_list(const char *csv, unsigned *out);
bool fd_scopes_parse_json(const json_t *arr, unsigned *out);

/* Bits -> names: a new JSON array, or a comma-separated list cut to len bytes. */
json_t *fd_scopes_json(unsigned scopes);
void fd_scopes_csv(unsigned scopes, char *buf, size_t len);

/* Whether granted scopes allow a route that requires `required` (admin allows all). */
bool fd_scopes_allow(unsigned granted, unsigned required);

#endif
