/* export_stream.c — the export workers, the per-export producer and the content reader
 * (see export_stream.h for the life of an export). Every field shared between the worker
 * and the HTTP thread is under the stream's mutex; the producer's own state (connection,
 * reader, export core, the fill buffer while not parked) is touched by one worker at a time
 * because the stream's job is queued at most once (`scheduled`). */
#include "api/export_stream.h"

#include <libpq-fe.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "api/export_job.h"
#include "db/export_db.h"
#include "db/pool.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/rfc3339.h"
#include "util/slots.h"
#include "util/workers.h"

/* A turn of production ends once this much output is pending: the unit of memory per
 * export (two of them), of fairness between exports and of libmicrohttpd's reads. */
#define CHUNK_BYTES (64 * 1024)
/* Export workers run below the HTTP threads and writers (nice 0): an export is bulk work that
 * may take seconds more, while an ingest acknowledgement is waited for by a user's page
 * (bench/hostile measures the victim's latency while exports run). */
#define EXPORT_NICE 5

struct fd_export_service {
  const char *conninfo;
  bool prepared_statements;
  struct fd_pool *pool;
  struct fd_workers *workers;
  struct fd_slots *slots;
  pthread_mutex_t mu; /* live, stopping */
  struct fd_export_stream *live;
  bool stopping;
};

struct fd_export_stream {
  struct fd_job job; /* first: the job is the stream */
  struct fd_export_service *svc;
  struct fd_export_stream *prev, *next; /* svc->live, under svc->mu */
  int64_t project_id;
  struct fd_export_request rq; /* its strings point to the copies below */
  char project_slug[64];
  char *model, *after; /* the request's memory goes when the connection does */

  pthread_mutex_t mu;               /* everything down to `fill` */
  int refs;                         /* the request or response side, and the producer until it ends */
  struct fd_request *req_suspended; /* setup phase: the request waiting for the worker */
  bool setup_finished, setup_ok;
  struct fd_error setup_err;
  struct MHD_Connection *conn; /* the response's connection, until the response is released */
  bool waiting;                /* the reader suspended conn until a chunk is ready */
  bool scheduled;              /* the job is queued or running */
  bool parked;                 /* the producer stopped with a full `fill`, handed to the reader side */
  bool final;                  /* the parked fill is the last one */
  bool eof;                    /* the last chunk is in `ready` */
  bool failed;                 /* cut the body short */
  bool ended;                  /* the producer is gone: database released */
  bool abandoned;              /* the response was released (end, client gone, timeout) */
  bool cancelled;              /* shutting down */
  PGcancel *cancel;            /* cancels the running query of db (shutdown) */
  PGcancel *cancel2;           /* and of the reader's second connection, when it has one */
  char *ready;                 /* being sent: ready[ready_off..ready_len) */
  size_t ready_off, ready_len, ready_cap;
  char *fill; /* being filled by the producer (or parked) */
  size_t fill_len, fill_cap;

  /* the producer's (a worker thread); id, started_at and watermark are read by the HTTP
   * thread after setup_finished */
  struct fd_db *db;
  struct fd_export_reader *rd;
  struct fd_export *x;
  char id[37];
  char started_at[FD_RFC3339_BUF];
  char *watermark;
  bool started, done;
};

/* ---- life of a stream ------------------------------------------------------------------ */

static void stream_free(struct fd_export_stream *s) {
  struct fd_export_service *svc = s->svc;
  pthread_mutex_lock(&svc->mu);
  if (s->prev)
    s->prev->next = s->next;
  else
    svc->live = s->next;
  if (s->next) s->next->prev = s->prev;
  pthread_mutex_unlock(&svc->mu);
  fd_slots_give(svc->slots, s->project_id);
  fd_export_request_clear(&s->rq);
  free(s->model);
  free(s->after);
  free(s->watermark);
  free(s->ready);
  free(s->fill);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

static void stream_unref(struct fd_export_stream *s) {
  pthread_mutex_lock(&s->mu);
  bool last = --s->refs == 0;
  pthread_mutex_unlock(&s->mu);
  if (last) stream_free(s);
}

/* Queue the producer's next turn. Caller holds s->mu and has checked !scheduled. */
static void schedule_locked(struct fd_export_stream *s) {
  s->scheduled = true;
  fd_workers_submit(s->svc->workers, &s->job);
}

/* Resume a connection the reader suspended. Caller holds s->mu. */
static void wake_reader_locked(struct fd_export_stream *s) {
  if (!s->waiting) return;
  s->waiting = false;
  MHD_resume_connection(s->conn);
}

/* ---- the producer (worker threads) ------------------------------------------------------ */

/* The export core's write callback: append one line to the chunk being filled. */
static bool fill_write(void *cls, enum fd_split split, const char *line, size_t len) {
  (void)split;
  struct fd_export_stream *s = cls;
  if (s->fill_len + len > s->fill_cap) {
    size_t cap = s->fill_cap ? s->fill_cap : CHUNK_BYTES + CHUNK_BYTES / 2;
    while (cap < s->fill_len + len) cap *= 2;
    char *b = realloc(s->fill, cap);
    if (!b) return false;
    s->fill = b;
    s->fill_cap = cap;
  }
  memcpy(s->fill + s->fill_len, line, len);
  s->fill_len += len;
  return true;
}

/* End the snapshot, close the connection and free the export core. */
static void release_db(struct fd_export_stream *s) {
  pthread_mutex_lock(&s->mu);
  PGcancel *c = s->cancel, *c2 = s->cancel2;
  s->cancel = s->cancel2 = NULL;
  pthread_mutex_unlock(&s->mu);
  if (c) PQfreeCancel(c);
  if (c2) PQfreeCancel(c2);
  fd_export_reader_free(s->rd);
  s->rd = NULL;
  fd_db_close(s->db);
  s->db = NULL;
  fd_export_free(s->x);
  s->x = NULL;
#ifdef __GLIBC__
  /* An export frees tens of MiB (dedup set) in this worker's malloc arena; give them back,
   * or the arena keeps its high-water mark resident. */
  malloc_trim(0);
#endif
}

/* The producer stops for good without a last chunk (failure, client gone, shutdown). */
static void producer_end(struct fd_export_stream *s, bool failed) {
  if (!s->done && s->id[0])
    fd_log(FD_LOG_INFO, "msg=\"export not finished (client gone or failure)\" export_id=%s", s->id);
  release_db(s);
  pthread_mutex_lock(&s->mu);
  s->ended = true;
  s->scheduled = false;
  s->parked = false;
  if (failed) s->failed = true;
  wake_reader_locked(s); /* it answers the cut */
  pthread_mutex_unlock(&s->mu);
  stream_unref(s);
}

static bool setup(struct fd_export_stream *s, struct fd_error *err) {
  struct fd_export_service *svc = s->svc;
  char cerr[256];
  s->db = fd_db_connect(svc->conninfo, svc->prepared_statements, cerr, sizeof cerr);
  if (!s->db) return fd_error_set(err, FD_ERR_UNAVAILABLE, NULL, "the database is unavailable");
  PGcancel *c = PQgetCancel(fd_db_conn(s->db));
  pthread_mutex_lock(&s->mu);
  s->cancel = c;
  bool cancelled = s->cancelled;
  pthread_mutex_unlock(&s->mu);
  if (cancelled) return fd_error_set(err, FD_ERR_UNAVAILABLE, NULL, "the server is shutting down");
  enum fd_db_status st = fd_export_reader_new(s->db, s->project_id, s->rq.after, &s->rd);
  if (st != FD_DB_ONE) {
    fd_export_reader_status_error(st, err);
    return false;
  }
  s->watermark = strdup(fd_export_reader_watermark(s->rd));
  fd_export_job_bind(&s->rq, s->rd);
  s->x = fd_export_new(&s->rq.p, fill_write, s, err);
  if (!s->watermark || !s->x || fd_db_failed(fd_export_reader_rewind(s->rd))) {
    if (err->code == FD_ERR_NONE) fd_error_set(err, FD_ERR_UNAVAILABLE, NULL, "the database is unavailable");
    return false;
  }
  PGcancel *c2 = fd_export_reader_cancel_second(s->rd);
  pthread_mutex_lock(&s->mu);
  s->cancel2 = c2;
  cancelled = s->cancelled;
  pthread_mutex_unlock(&s->mu);
  if (cancelled) return fd_error_set(err, FD_ERR_UNAVAILABLE, NULL, "the server is shutting down");
  /* The audit row goes in before the first byte, on a pool connection: the export's own
   * connection is inside its read-only snapshot. */
  struct fd_db *pdb = fd_pool_get(svc->pool, FD_POOL_REQUEST_WAIT_MS);
  bool inserted =
      pdb && fd_export_db_insert(pdb, s->project_id, fd_export_format_name(s->rq.p.format), s->rq.params_json, s->id,
                                 s->started_at, sizeof s->started_at) == FD_DB_ONE;
  fd_pool_put(svc->pool, pdb);
  if (!inserted) return fd_error_set(err, FD_ERR_UNAVAILABLE, NULL, "the database is unavailable");
  return true;
}

/* The setup turn: its outcome goes to the suspended request, which is resumed to answer. */
static bool setup_turn(struct fd_export_stream *s) {
  struct fd_error err = {0};
  bool ok = setup(s, &err);
  pthread_mutex_lock(&s->mu);
  s->setup_err = err;
  s->setup_ok = ok;
  s->setup_finished = true;
  bool go = ok && !s->cancelled && !s->abandoned;
  if (s->req_suspended) {
    fd_request_resume(s->req_suspended);
    s->req_suspended = NULL; /* the request is the HTTP thread's again */
  }
  pthread_mutex_unlock(&s->mu);
  if (!go) producer_end(s, false);
  return go;
}

/* All lines are out of the core: record the manifest and count the export. */
static bool record_manifest(struct fd_export_stream *s) {
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

static bool stop_requested(struct fd_export_stream *s) {
  pthread_mutex_lock(&s->mu);
  bool stop = s->abandoned || s->cancelled;
  pthread_mutex_unlock(&s->mu);
  return stop;
}

/* Fill one chunk. False when the producer ended (failure, or nobody wants the body). */
static bool fill_chunk(struct fd_export_stream *s) {
  while (s->fill_len < CHUNK_BYTES) {
    if (stop_requested(s)) {
      producer_end(s, false);
      return false;
    }
    switch (fd_export_job_step(s->rd, s->x, s->rq.after)) {
      case FD_EXPORT_STEP_CONVERSATION:
      case FD_EXPORT_STEP_OUTPUT: continue;
      case FD_EXPORT_STEP_DONE:
        s->done = true;
        if (record_manifest(s)) return true;
        producer_end(s, true);
        return false;
      case FD_EXPORT_STEP_READ_FAILED:
        fd_log(FD_LOG_ERROR, "msg=\"export failed reading\" export_id=%s error=\"%s\"", s->id,
               fd_export_reader_error(s->rd));
        producer_end(s, true);
        return false;
      case FD_EXPORT_STEP_EXPORT_FAILED:
        fd_log(FD_LOG_ERROR, "msg=\"export failed\" export_id=%s error=\"%s\"", s->id, fd_export_error(s->x));
        producer_end(s, true);
        return false;
    }
  }
  return true;
}

static void swap_fill_into_ready_locked(struct fd_export_stream *s) {
  char *b = s->ready;
  size_t cap = s->ready_cap;
  s->ready = s->fill;
  s->ready_cap = s->fill_cap;
  s->ready_off = 0;
  s->ready_len = s->fill_len;
  s->fill = b;
  s->fill_cap = cap;
  s->fill_len = 0;
}

/* Hand the filled chunk over: into `ready` when the reader has sent the previous one, else
 * park it there for the reader to take. */
static void deliver_chunk(struct fd_export_stream *s) {
  if (s->done) release_db(s); /* the manifest is recorded: nothing more to read */
  pthread_mutex_lock(&s->mu);
  if (s->abandoned || s->cancelled) {
    pthread_mutex_unlock(&s->mu);
    producer_end(s, false);
    return;
  }
  bool ended = s->done;
  if (s->ready_off == s->ready_len) {
    swap_fill_into_ready_locked(s);
    s->eof = s->done;
    wake_reader_locked(s);
    if (!ended) schedule_locked(s); /* the next turn, behind the other exports */
  } else {
    s->parked = true;
    s->final = s->done;
    s->scheduled = false;
  }
  if (ended) {
    s->ended = true;
    s->scheduled = false;
  }
  pthread_mutex_unlock(&s->mu);
  if (ended) stream_unref(s); /* the producer's reference */
}

static void producer_turn(struct fd_job *job) {
  struct fd_export_stream *s = (struct fd_export_stream *)job;
  if (!s->started) {
    s->started = true;
    if (!setup_turn(s)) return;
  }
  if (fill_chunk(s)) deliver_chunk(s);
}

/* ---- the HTTP side ------------------------------------------------------------------------ */

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max) {
  (void)pos;
  struct fd_export_stream *s = cls;
  ssize_t r;
  pthread_mutex_lock(&s->mu);
  if (s->failed || s->cancelled) {
    r = MHD_CONTENT_READER_END_WITH_ERROR; /* cuts the chunked body short: the client sees it */
  } else if (s->ready_off < s->ready_len) {
    size_t n = s->ready_len - s->ready_off;
    if (n > max) n = max;
    memcpy(out, s->ready + s->ready_off, n);
    s->ready_off += n;
    if (s->ready_off == s->ready_len && s->parked) {
      swap_fill_into_ready_locked(s);
      s->parked = false;
      if (s->final)
        s->eof = true;
      else
        schedule_locked(s);
    }
    r = (ssize_t)n;
  } else if (s->eof) {
    r = MHD_CONTENT_READER_END_OF_STREAM;
  } else if (s->ended) {
    r = MHD_CONTENT_READER_END_WITH_ERROR;
  } else {
    /* Suspended under the lock, so the worker's resume always comes after it. */
    s->waiting = true;
    MHD_suspend_connection(s->conn);
    r = 0;
  }
  pthread_mutex_unlock(&s->mu);
  return r;
}

/* The request or the response lets go of the stream. */
static void stream_release(void *cls) {
  struct fd_export_stream *s = cls;
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  s->abandoned = true;
  s->conn = NULL;
  s->waiting = false;
  /* a parked producer holds the snapshot: let a worker release it now */
  if (s->setup_finished && !s->ended && !s->scheduled) schedule_locked(s);
  pthread_mutex_unlock(&s->mu);
  stream_unref(s);
}

enum fd_export_admission fd_export_stream_admit(struct fd_export_service *svc, struct fd_request *req,
                                                int64_t project_id, struct fd_export_request *rq, fd_handler on_ready) {
  pthread_mutex_lock(&svc->mu);
  bool stopping = svc->stopping;
  pthread_mutex_unlock(&svc->mu);
  if (stopping) return FD_EXPORT_STOPPING;
  if (!fd_slots_take(svc->slots, project_id)) return FD_EXPORT_BUSY;
  struct fd_export_stream *s = calloc(1, sizeof *s);
  if (!s) {
    fd_slots_give(svc->slots, project_id);
    return FD_EXPORT_NO_MEMORY;
  }
  s->job.run = producer_turn;
  s->svc = svc;
  s->project_id = project_id;
  s->model = rq->p.model ? strdup(rq->p.model) : NULL;
  s->after = rq->after ? strdup(rq->after) : NULL;
  if ((rq->p.model && !s->model) || (rq->after && !s->after)) {
    free(s->model);
    free(s->after);
    free(s);
    fd_slots_give(svc->slots, project_id);
    return FD_EXPORT_NO_MEMORY;
  }
  s->rq = *rq;
  memset(rq, 0, sizeof *rq);
  snprintf(s->project_slug, sizeof s->project_slug, "%s", s->rq.p.project_slug ? s->rq.p.project_slug : "");
  s->rq.p.project_slug = s->project_slug;
  s->rq.p.model = s->model;
  s->rq.after = s->after;
  pthread_mutex_init(&s->mu, NULL);
  s->refs = 2;
  s->req_suspended = req;
  s->scheduled = true;
  pthread_mutex_lock(&svc->mu);
  s->next = svc->live;
  if (s->next) s->next->prev = s;
  svc->live = s;
  pthread_mutex_unlock(&svc->mu);
  req->state = s;
  req->state_free = stream_release;
  /* suspended before the worker can resume it */
  fd_request_suspend(req, on_ready);
  fd_workers_submit(svc->workers, &s->job);
  return FD_EXPORT_ADMITTED;
}

bool fd_export_stream_setup_result(const struct fd_export_stream *s, struct fd_error *err) {
  struct fd_export_stream *m = (struct fd_export_stream *)s;
  pthread_mutex_lock(&m->mu);
  bool ok = s->setup_finished && s->setup_ok && !s->cancelled;
  if (!ok) {
    if (s->setup_finished && !s->setup_ok)
      *err = s->setup_err;
    else
      fd_error_set(err, FD_ERR_UNAVAILABLE, NULL, "the server is shutting down");
  }
  pthread_mutex_unlock(&m->mu);
  return ok;
}

const char *fd_export_stream_id(const struct fd_export_stream *s) { return s->id; }
const char *fd_export_stream_watermark(const struct fd_export_stream *s) { return s->watermark; }
const struct fd_export_request *fd_export_stream_request(const struct fd_export_stream *s) { return &s->rq; }

struct MHD_Response *fd_export_stream_response(struct fd_request *req) {
  struct fd_export_stream *s = req->state;
  struct MHD_Response *resp =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, CHUNK_BYTES, stream_read, s, stream_release);
  if (!resp) return NULL;
  req->state = NULL;
  req->state_free = NULL;
  pthread_mutex_lock(&s->mu);
  s->conn = req->conn;
  pthread_mutex_unlock(&s->mu);
  return resp;
}

/* ---- the service ------------------------------------------------------------------------- */

#ifdef __GLIBC__
/* glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB), so
 * after one export the dedup table of the next one (tens of MiB, doubled when it grows) is
 * carved from a thread's heap arena, fragments it and stays resident. A fixed threshold keeps
 * every large block an mmap of its own, returned to the OS the moment it is freed. */
static void fix_mmap_threshold(void) {
  if (mallopt(M_MMAP_THRESHOLD, 256 * 1024) != 1) fd_log(FD_LOG_WARN, "msg=\"mallopt(M_MMAP_THRESHOLD) failed\"");
}
#endif

struct fd_export_service *fd_export_service_start(const struct fd_config *cfg, const char *conninfo,
                                                  struct fd_pool *pool) {
#ifdef __GLIBC__
  fix_mmap_threshold();
#endif
  struct fd_export_service *svc = calloc(1, sizeof *svc);
  if (!svc) return NULL;
  svc->conninfo = conninfo;
  svc->prepared_statements = cfg->prepared_statements;
  svc->pool = pool;
  pthread_mutex_init(&svc->mu, NULL);
  svc->slots = fd_slots_new(cfg->max_concurrent_exports, cfg->max_concurrent_exports_per_project);
  svc->workers = svc->slots ? fd_workers_start("fd-export", cfg->export_workers, EXPORT_NICE) : NULL;
  if (!svc->workers) {
    fd_export_service_stop(svc);
    return NULL;
  }
  return svc;
}

void fd_export_service_cancel(struct fd_export_service *svc) {
  if (!svc) return;
  pthread_mutex_lock(&svc->mu);
  svc->stopping = true;
  for (struct fd_export_stream *s = svc->live; s; s = s->next) {
    pthread_mutex_lock(&s->mu);
    s->cancelled = true;
    if (s->req_suspended) {
      fd_request_resume(s->req_suspended); /* its resume step answers 503 */
      s->req_suspended = NULL;
    }
    wake_reader_locked(s); /* the reader cuts the body short */
    PGcancel *cs[2] = {s->cancel, s->cancel2};
    for (int i = 0; i < 2; i++) {
      char err[256];
      if (cs[i] && !PQcancel(cs[i], err, sizeof err))
        fd_log(FD_LOG_WARN, "msg=\"could not cancel an export query\" error=\"%s\"", err);
    }
    pthread_mutex_unlock(&s->mu);
  }
  pthread_mutex_unlock(&svc->mu);
}

void fd_export_service_stop(struct fd_export_service *svc) {
  if (!svc) return;
  fd_export_service_cancel(svc);
  fd_workers_stop(svc->workers); /* runs the queued turns: each releases its export */
  fd_slots_free(svc->slots);
  pthread_mutex_destroy(&svc->mu);
  free(svc);
}
