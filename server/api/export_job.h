/* export_job.h — what GET /v1/export and `feedbackd export` share: reading the export
 * parameters of docs/api.md "Export" (query string or command-line flags), the pass loop that
 * feeds the snapshot reader into the export core, and building the manifest of docs/export.md. */
#ifndef FD_API_EXPORT_JOB_H
#define FD_API_EXPORT_JOB_H

#include <jansson.h>
#include <stdbool.h>

#include "api/params.h"
#include "core/errors.h"
#include "db/export_db.h"
#include "db/status.h"
#include "export/export.h"

/* The parameters of one export. Strings in p and `after` are borrowed from the getter. */
struct fd_export_request {
  struct fd_export_params p;
  const char *after;   /* NULL: full export */
  json_t *params_json; /* the parameters as recorded in the manifest (owned) */
  const char *license; /* the project's dataset_license (NULL: none), set by fd_export_job_bind */
  bool default_train;  /* the project's default_consent is train, set by fd_export_job_bind */
};

/* Read and validate every parameter. False with *err = FD_ERR_INVALID_PARAMETER and
 * err->field = the parameter's name (or FD_ERR_INTERNAL when out of memory). On success
 * the caller clears out with fd_export_request_clear. */
bool fd_export_request_parse(fd_param_get_fn get, void *cls, const char *project_slug, struct fd_export_request *out,
                             struct fd_error *err) __attribute__((warn_unused_result));
void fd_export_request_clear(struct fd_export_request *rq);

/* After fd_export_reader_new, before fd_export_new and the first rewind: take the project's
 * settings of the snapshot into rq (reaction set, licence, default consent; borrowed from
 * the reader, which must outlive the export) and tell the reader which kinds to load. */
void fd_export_job_bind(struct fd_export_request *rq, struct fd_export_reader *rd);

/* What to tell the client when fd_export_reader_new did not return FD_DB_ONE: FD_DB_NONE
 * means `after` is not a snapshot (FD_ERR_INVALID_PARAMETER, field "after"); a failure is
 * FD_ERR_UNAVAILABLE. */
void fd_export_reader_status_error(enum fd_db_status st, struct fd_error *err);

/* What one step of the pass loop did. */
enum fd_export_step {
  FD_EXPORT_STEP_CONVERSATION,  /* one conversation went into the export */
  FD_EXPORT_STEP_OUTPUT,        /* every conversation is in; a piece of a spilled body went out */
  FD_EXPORT_STEP_DONE,          /* the last pass ended and fd_export_finish succeeded */
  FD_EXPORT_STEP_READ_FAILED,   /* the reader failed: fd_export_reader_error(rd) says why */
  FD_EXPORT_STEP_EXPORT_FAILED, /* the export failed: fd_export_error(x) (or the write callback) */
};

/* The loop of export/export.h, one step per call, so that the HTTP export can produce
 * its body a chunk at a time and the command can draw its progress: feeds the reader's next
 * conversation into x (only its touched groups when `after` is set), or after the last one
 * writes a piece of a spilled body (include_meta) or finishes the export. The reader must have
 * been rewound once before the first step; call again until the result is DONE or a failure. */
enum fd_export_step fd_export_job_step(struct fd_export_reader *rd, struct fd_export *x, const char *after)
    __attribute__((warn_unused_result));

/* The manifest of docs/export.md: id, format, params, started_at, finished_at, watermark, then
 * the counters of fd_export_counts_new (records, by_split, by_origin / by_label, skipped,
 * sha256), license (rq->license or null), exporter_version. counts borrowed; extra (borrowed, may be NULL) is merged
 * last. New reference; NULL when out of memory. */
json_t *fd_export_manifest_new(const char *id, const struct fd_export_request *rq, const char *started_at,
                               const char *finished_at, const char *watermark, const json_t *counts,
                               const json_t *extra) __attribute__((warn_unused_result));

/* The wall-clock time now as RFC 3339 (UTC) into out. */
void fd_export_now_rfc3339(char out[32]);

/* json_dumps flags for a manifest (export row, manifest.json): reals with 15 significant
 * digits, so a test_fraction of 0.1 reads 0.1, not 0.10000000000000001. */
#define FD_MANIFEST_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

#endif
