/* feedback_list_params.h — the query parameters of GET /v1/feedback (docs/api.md "Reading
 * feedback"): filters, limit and cursor. Pure, so tests/fuzz/fuzz_feedback_list.c runs it. */
#ifndef FD_API_FEEDBACK_LIST_PARAMS_H
#define FD_API_FEEDBACK_LIST_PARAMS_H

#include <stdbool.h>

#include "api/params.h"
#include "core/errors.h"
#include "db/feedback_db.h"

/* Fill *f (strings borrowed from the getter; limit 50 unless given). False with *err =
 * FD_ERR_INVALID_PARAMETER and err->field = the parameter at fault. */
bool fd_feedback_filter_parse(fd_param_get_fn get, void *cls, struct fd_feedback_filter *f, struct fd_error *err)
    __attribute__((warn_unused_result));

#endif
