/* read_params.h — query parameters shared by the read endpoints GET /v1/leaderboard and
 * GET /v1/agreement (docs/api.md). Pure functions of a parameter getter (api/params.h). On a
 * bad value they return false with *err = 400 invalid_parameter and err->field = the
 * parameter's name. */
#ifndef FD_API_READ_PARAMS_H
#define FD_API_READ_PARAMS_H

#include <stdbool.h>

#include "api/params.h"
#include "core/errors.h"
#include "util/rfc3339.h"

/* An optional window [since, until): each bound absent means unbounded (all time). Present
 * bounds are normalised to RFC 3339 UTC in since_buf / until_buf and since / until point
 * there; absent ones are NULL. since >= until is an error with field "since". */
struct fd_api_window {
  const char *since, *until;
  char since_buf[FD_RFC3339_BUF], until_buf[FD_RFC3339_BUF];
};
bool fd_api_parse_window(fd_param_get_fn get, void *cls, struct fd_api_window *w, struct fd_error *err)
    __attribute__((warn_unused_result));

/* An optional decimal integer in [0, max] (digits only: no sign, no spaces); *out keeps its
 * default when the parameter is absent. */
bool fd_api_parse_count(fd_param_get_fn get, void *cls, const char *name, long max, long *out, struct fd_error *err)
    __attribute__((warn_unused_result));

#endif
