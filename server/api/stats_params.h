/* stats_params.h — the query parameters of GET /v1/stats (rules in the comment at the top
 * of api/stats.c). Pure, so tests/fuzz/fuzz_stats_params.c runs it. */
#ifndef FD_API_STATS_PARAMS_H
#define FD_API_STATS_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/params.h"
#include "core/errors.h"
#include "util/rfc3339.h"

/* At most this many buckets per answer (hour buckets over ~416 days). */
#define FD_STATS_MAX_BUCKETS 10000

struct fd_stats_params {
  char since[FD_RFC3339_BUF], until[FD_RFC3339_BUF]; /* the window [since, until), UTC */
  const char *bucket;                                /* "hour", "day" (default) or "week" */
  const char *group_by, *model;                      /* NULL when not given; borrowed */
};

/* Read and validate since, until (default: the 30 days before now_us), bucket, group_by
 * (model, tag, kind, emoji or span_label)
 * and model (at most model_max_bytes). False with *err = FD_ERR_INVALID_PARAMETER and
 * err->field = the parameter at fault. */
bool fd_stats_params_parse(fd_param_get_fn get, void *cls, int64_t now_us, size_t model_max_bytes,
                           struct fd_stats_params *out, struct fd_error *err) __attribute__((warn_unused_result));

#endif
