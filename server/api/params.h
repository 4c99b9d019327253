/* params.h — query parameters as a getter, so their parsers are pure functions of name ->
 * value: GET handlers pass fd_query_param (api/query.c), `feedbackd export` its flags, the
 * fuzz targets of tests/fuzz their own decoded input. */
#ifndef FD_API_PARAMS_H
#define FD_API_PARAMS_H

#include <stdbool.h>
#include <string.h>

#include "ingest/validate_common.h"

/* A parameter's value by its docs/api.md name ("format", "since", ...), NULL when absent. */
typedef const char *(*fd_param_get_fn)(void *cls, const char *name);

/* The query string of the request `req` (a struct fd_request *): an fd_param_get_fn. */
const char *fd_query_param(void *req, const char *name);

/* Whether a text parameter (model, tag, user, after, ...) may reach SQL: valid UTF-8, as
 * PostgreSQL refuses anything else with an error the client would see as a 5xx. */
static inline bool fd_param_text_ok(const char *s) { return !s || fd_utf8_valid(s, strlen(s)); }

#endif
