/* export.c — GET /v1/export (the streamed NDJSON preference export) and GET
 * /v1/exports/{id} (its manifest).
 *
 * The handler only validates and admits: the export's database work runs on the export
 * workers, and the body streams a chunk at a time (api/export_stream.h), so no HTTP thread
 * ever waits for an export's SQL. The export runs on a connection of its own (db/export_db.h:
 * one REPEATABLE READ READ ONLY snapshot; an export can take minutes and must not hold a pool
 * slot). The manifest is recorded in the exports row when the last line has been produced,
 * before the end of the body goes out, so a client that has read the whole body finds it
 * finished. A client that goes away or stops reading (or a failure mid-stream, which cuts
 * the chunked body short) leaves the row unfinished. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "api/export_job.h"
#include "api/export_stream.h"
#include "db/export_db.h"
#include "http/reply.h"
#include "util/log.h"
#include "util/metrics.h"

#define NDJSON "application/x-ndjson"

/* How long a client turned away by max_concurrent_exports is told to wait: exports take
 * seconds to minutes, so sooner would mostly be turned away again. */
#define EXPORTS_BUSY_RETRY_AFTER "10"

/* The resume step: the workers finished the setup (or the server is shutting down). */
static void export_ready(struct fd_request *req) {
  const struct fd_api_app *app = fd_api_app_of(req);
  const struct fd_export_stream *s = req->state;
  struct fd_error err = {0};
  if (!fd_export_stream_setup_result(s, &err)) {
    fd_reply_fd_error(req, &err);
    return;
  }
  const struct fd_export_request *rq = fd_export_stream_request(s);
  struct MHD_Response *resp = fd_export_stream_response(req); /* takes s from the request */
  if (!resp) {
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "out of memory");
    return;
  }
  MHD_add_response_header(resp, "Content-Type", NDJSON);
  MHD_add_response_header(resp, "X-Export-Id", fd_export_stream_id(s));
  MHD_add_response_header(resp, "X-Export-Watermark", fd_export_stream_watermark(s));
  /* A client that stops reading is cut after export_send_timeout seconds without progress;
   * the timeout does not run while the connection waits for the export's own work. */
  MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)app->cfg->export_send_timeout);
  fd_log(FD_LOG_INFO, "msg=\"export started\" export_id=%s format=%s after=%s", fd_export_stream_id(s),
         fd_export_format_name(rq->p.format), rq->after ? rq->after : "-");
  FD_METRIC_ADD(fd_metrics.exports, 1); /* "exports started" */
  fd_reply_response(req, 200, resp);
}

/* HEAD: the answer a GET would start with, as far as it is known without running the
 * export (no export row, no snapshot, no connection): parameters are validated, `after`
 * only for being present (whether it is a snapshot needs the database). */
static void export_head(struct fd_request *req) {
  struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  if (!resp) {
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "out of memory");
    return;
  }
  MHD_add_response_header(resp, "Content-Type", NDJSON);
  fd_reply_response(req, 200, resp);
}

static const char *query_get(void *cls, const char *name) { return fd_request_arg(cls, name); }

void fd_api_export_get(struct fd_request *req) {
  const struct fd_api_app *app = fd_api_app_of(req);
  struct fd_error err = {0};
  struct fd_export_request rq;
  if (!fd_export_request_parse(query_get, req, req->auth.project_slug, &rq, &err)) {
    fd_export_request_clear(&rq);
    {
      fd_reply_fd_error(req, &err);
      return;
    }
  }
  if (strcmp(req->method, "HEAD") == 0) {
    fd_export_request_clear(&rq);
    {
      export_head(req);
      return;
    }
  }
  switch (fd_export_stream_admit(app->exports, req, req->auth.project_id, &rq, export_ready)) {
    case FD_EXPORT_ADMITTED: return;
    case FD_EXPORT_BUSY:
      fd_reply_error_header(req, FD_ERR_RATE_LIMITED, "Retry-After", EXPORTS_BUSY_RETRY_AFTER,
                            "too many exports running (max_concurrent_exports); retry later");
      break;
    case FD_EXPORT_STOPPING: fd_reply_unavailable(req, "the server is shutting down"); break;
    case FD_EXPORT_NO_MEMORY: fd_reply_error(req, FD_ERR_INTERNAL, NULL, "out of memory"); break;
  }
  fd_export_request_clear(&rq);
}

void fd_api_export_manifest_get(struct fd_request *req) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *m = NULL;
  enum fd_db_status st = fd_export_db_get(db, req->auth.project_id, req->params[0], &m);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }
  if (st == FD_DB_NONE) {
    fd_reply_error(req, FD_ERR_NOT_FOUND, NULL, "no export with this id in this project");
    return;
  }
  fd_reply_json(req, 200, m);
}
