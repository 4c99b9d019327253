/* export.c — GET /v1/export (the streamed NDJSON preference export) and GET
 * /v1/exports/{id} (its manifest).
 *
 * The export runs on a connection of its own (db/export_db.h: one REPEATABLE READ READ ONLY
 * snapshot; an export can take minutes and must not hold a pool slot). The body is produced
 * by libmicrohttpd's content-reader callback: each call pulls conversations from the cursors
 * into the export core until a chunk's worth of lines is pending, so memory stays bounded by
 * one chunk plus the largest line and conversation, whatever the size of the export. The
 * manifest is recorded in the exports row when the last line has been produced, before the
 * end of the body goes out, so a client that has read the whole body finds it finished. A
 * client that goes away (or a failure mid-stream, which cuts the chunked body short) leaves
 * the row unfinished. */
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#include <pthread.h>
#endif
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "api/export_job.h"
#include "db/export_db.h"
#include "db/pool.h"
#include "http/reply.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/rfc3339.h"

#define CHUNK_BYTES (64 * 1024)

struct export_stream {
  int64_t project_id;
  struct fd_db *db; /* dedicated connection, owned */
  struct fd_export_reader *rd;
  struct fd_export *x;
  struct fd_export_request rq;
  char id[37];
  char started_at[FD_RFC3339_BUF];
  char *watermark;
  char *buf; /* pending output is buf[off..len) */
  size_t off, len, cap;
  bool done, failed;
};

static void stream_free(void *cls) {
  struct export_stream *s = cls;
  if (!s) return;
  if (!s->done && s->id[0])
    fd_log(FD_LOG_INFO, "msg=\"export not finished (client gone or failure)\" export_id=%s", s->id[0] ? s->id : "-");
  fd_export_free(s->x);
  fd_export_reader_free(s->rd);
  fd_db_close(s->db);
  fd_export_request_clear(&s->rq);
  free(s->watermark);
  free(s->buf);
  free(s);
#ifdef __GLIBC__
  /* An export frees tens of MiB (dedup set, chunks) in this MHD thread's malloc arena; give
   * them back, or each thread's arena keeps its own high-water mark resident. */
  malloc_trim(0);
#endif
}

/* The export core's write callback: queue one line. */
static bool stream_write(void *cls, enum fd_split split, const char *line, size_t len) {
  (void)split;
  struct export_stream *s = cls;
  if (s->off == s->len) s->off = s->len = 0;
  if (s->len + len > s->cap) {
    if (s->off > 0) { /* reuse the consumed front before growing */
      memmove(s->buf, s->buf + s->off, s->len - s->off);
      s->len -= s->off;
      s->off = 0;
    }
    if (s->len + len > s->cap) {
      size_t cap = s->cap ? s->cap : 2 * CHUNK_BYTES;
      while (cap < s->len + len) cap *= 2;
      char *b = realloc(s->buf, cap);
      if (!b) return false;
      s->buf = b;
      s->cap = cap;
    }
  }
  memcpy(s->buf + s->len, line, len);
  s->len += len;
  return true;
}

/* All lines are out of the core: record the manifest and count the export. */
static bool stream_finish(struct export_stream *s) {
  bool ok = false;
  json_t *counts = fd_export_counts_new(s->x), *manifest = NULL;
  char finished[FD_RFC3339_BUF];
  fd_export_now_rfc3339(finished);
  if (!counts) goto out;
  manifest = fd_export_manifest_new(s->id, &s->rq, s->started_at, finished, s->watermark, counts, NULL);
  if (!manifest) goto out;
  /* End the snapshot first: the audit row is written on the same, now idle, connection. */
  fd_export_reader_free(s->rd);
  s->rd = NULL;
  if (fd_export_db_finish(s->db, s->project_id, s->id, manifest) != FD_DB_ONE) {
    fd_log(FD_LOG_ERROR, "msg=\"could not record the export manifest\" export_id=%s", s->id);
    goto out;
  }
  json_int_t records = json_integer_value(json_object_get(manifest, "records"));
  FD_METRIC_ADD(fd_metrics.export_records, (uint64_t)records);
  fd_log(FD_LOG_INFO, "msg=\"export finished\" export_id=%s format=%s records=%lld", s->id,
         fd_export_format_name(s->rq.p.format), (long long)records);
  ok = true;
out:
  json_decref(counts);
  json_decref(manifest);
  return ok;
}

/* Advance the export by one conversation (or one pass boundary). False on failure. */
static bool stream_step(struct export_stream *s) {
  switch (fd_export_job_step(s->rd, s->x, s->rq.after)) {
    case FD_EXPORT_STEP_CONVERSATION:
    case FD_EXPORT_STEP_NEXT_PASS: return true;
    case FD_EXPORT_STEP_DONE: s->done = true; return stream_finish(s);
    case FD_EXPORT_STEP_READ_FAILED:
      fd_log(FD_LOG_ERROR, "msg=\"export failed reading\" export_id=%s error=\"%s\"", s->id,
             fd_export_reader_error(s->rd));
      return false;
    case FD_EXPORT_STEP_EXPORT_FAILED:
      fd_log(FD_LOG_ERROR, "msg=\"export failed\" export_id=%s error=\"%s\"", s->id, fd_export_error(s->x));
      return false;
  }
  return false;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max) {
  (void)pos;
  struct export_stream *s = cls;
  if (s->failed) return MHD_CONTENT_READER_END_WITH_ERROR;
  while (s->len - s->off < max && !s->done) {
    if (!stream_step(s)) {
      s->failed = true;
      s->done = false;
      return MHD_CONTENT_READER_END_WITH_ERROR; /* cuts the chunked body short: the client sees it */
    }
  }
  size_t n = s->len - s->off;
  if (n > max) n = max;
  if (n == 0) return MHD_CONTENT_READER_END_OF_STREAM;
  memcpy(out, s->buf + s->off, n);
  s->off += n;
  return (ssize_t)n;
}

#ifdef __GLIBC__
/* glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB), so
 * after one export the dedup table of the next one (tens of MiB, doubled when it grows) is
 * carved from a thread's heap arena, fragments it and stays resident. A fixed threshold keeps
 * every large block an mmap of its own, returned to the OS the moment it is freed. */
static void fix_mmap_threshold(void) {
  if (mallopt(M_MMAP_THRESHOLD, 256 * 1024) != 1) fd_log(FD_LOG_WARN, "msg=\"mallopt(M_MMAP_THRESHOLD) failed\"");
}
#endif

static const char *query_get(void *cls, const char *name) { return fd_request_arg(cls, name); }

void fd_api_export_get(struct fd_request *req) {
  const struct fd_api_app *app = fd_api_app_of(req);
  struct fd_error err = {0};
#ifdef __GLIBC__
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, fix_mmap_threshold);
#endif
  struct export_stream *s = calloc(1, sizeof *s);
  if (!s) return fd_reply_error(req, FD_ERR_INTERNAL, NULL, "out of memory");
  s->project_id = req->auth.project_id;
  if (!fd_export_request_parse(query_get, req, req->auth.project_slug, &s->rq, &err)) goto fail_reply;
  char cerr[256];
  s->db = fd_db_connect(app->conninfo, app->cfg->prepared_statements, cerr, sizeof cerr);
  if (!s->db) {
    fd_error_set(&err, FD_ERR_UNAVAILABLE, NULL, "the database is unavailable");
    goto fail_reply;
  }
  enum fd_db_status st = fd_export_reader_new(s->db, s->project_id, s->rq.after, &s->rd);
  if (st != FD_DB_ONE) {
    fd_export_reader_status_error(st, &err);
    goto fail_reply;
  }
  s->watermark = strdup(fd_export_reader_watermark(s->rd));
  s->x = fd_export_new(&s->rq.p, stream_write, s, &err);
  if (!s->watermark || !s->x || fd_db_failed(fd_export_reader_rewind(s->rd))) {
    if (err.code == FD_ERR_NONE) fd_error_set(&err, FD_ERR_UNAVAILABLE, NULL, "the database is unavailable");
    goto fail_reply;
  }
  /* The audit row goes in before the first byte, on a pool connection: the export's own
   * connection is inside its read-only snapshot. */
  struct fd_db *pdb = fd_pool_get(app->pool, FD_POOL_REQUEST_WAIT_MS);
  bool inserted =
      pdb && fd_export_db_insert(pdb, s->project_id, fd_export_format_name(s->rq.p.format), s->rq.params_json, s->id,
                                 s->started_at, sizeof s->started_at) == FD_DB_ONE;
  fd_pool_put(app->pool, pdb);
  if (!inserted) {
    fd_error_set(&err, FD_ERR_UNAVAILABLE, NULL, "the database is unavailable");
    goto fail_reply;
  }
  struct MHD_Response *resp =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, CHUNK_BYTES, stream_read, s, stream_free);
  if (!resp) {
    fd_error_set(&err, FD_ERR_INTERNAL, NULL, "out of memory");
    goto fail_reply;
  }
  MHD_add_response_header(resp, "Content-Type", "application/x-ndjson");
  MHD_add_response_header(resp, "X-Export-Id", s->id);
  MHD_add_response_header(resp, "X-Export-Watermark", s->watermark);
  fd_log(FD_LOG_INFO, "msg=\"export started\" export_id=%s format=%s after=%s", s->id,
         fd_export_format_name(s->rq.p.format), s->rq.after ? s->rq.after : "-");
  FD_METRIC_ADD(fd_metrics.exports, 1); /* "exports started" */
  fd_reply_response(req, 200, resp);    /* the response now owns s */
  return;
fail_reply:
  stream_free(s);
  fd_reply_fd_error(req, &err);
}

void fd_api_export_manifest_get(struct fd_request *req) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *m = NULL;
  enum fd_db_status st = fd_export_db_get(db, req->auth.project_id, req->params[0], &m);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) return fd_reply_db_failure(req, st);
  if (st == FD_DB_NONE) return fd_reply_error(req, FD_ERR_NOT_FOUND, NULL, "no export with this id in this project");
  fd_reply_json(req, 200, m);
}
