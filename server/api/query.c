/* query.c — the request's query string as an fd_param_get_fn (see params.h). */
#include "api/params.h"
#include "http/request.h"

const char *fd_query_param(void *req, const char *name) { return fd_request_arg(req, name); }
