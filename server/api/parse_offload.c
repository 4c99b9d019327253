/* parse_offload.c — the parse workers (see parse_offload.h). */
#include "api/parse_offload.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "http/reply.h"
#include "util/metrics.h"
#include "util/slots.h"
#include "util/workers.h"

/* Slightly below the HTTP threads and writers (nice 0): a large body is bulk work, and when
 * the cores are busy the small events of other projects, answered on the HTTP threads,
 * should come first; still above exports (5), since a client waits for this answer. */
#define PARSE_NICE 3

struct fd_parse_service {
  struct fd_workers *workers;
  struct fd_slots *slots;
};

struct parse_job {
  struct fd_job job; /* first: the job is the parse job */
  struct fd_parse_service *svc;
  struct fd_request *req;
  fd_handler work;
  int64_t project_id;
};

/* a parse worker: the request's connection is suspended, so only this thread touches req
 * until the connection is resumed (by this thread, or by a writer the work handed it to) */
static void parse_run(struct fd_job *j) {
  struct parse_job *pj = (struct parse_job *)j;
  struct fd_parse_service *svc = pj->svc;
  struct fd_request *req = pj->req;
  int64_t project_id = pj->project_id;
  fd_handler work = pj->work;
  free(pj);
  bool handed_on = false;
  req->offload = &handed_on;
  work(req);
  if (!handed_on) { /* answered here (kept for the HTTP thread), or a bug: fd_reply_stashed */
    req->offload = NULL;
    req->resume = fd_reply_stashed;
    fd_request_resume(req);
  }
  /* req is not ours any more: the HTTP thread may have freed it */
  fd_slots_give(svc->slots, project_id);
}

struct fd_parse_service *fd_parse_service_start(const struct fd_config *cfg, bool *failed) {
  *failed = false;
  if (cfg->parse_workers <= 0) return NULL;
  *failed = true;
  struct fd_parse_service *svc = calloc(1, sizeof *svc);
  if (!svc) return NULL;
  svc->slots = fd_slots_new(FD_PARSE_QUEUE, FD_PARSE_QUEUE_PER_PROJECT);
  svc->workers = svc->slots ? fd_workers_start("fd-parse", cfg->parse_workers, PARSE_NICE) : NULL;
  if (!svc->workers) {
    fd_parse_service_stop(svc);
    return NULL;
  }
  *failed = false;
  return svc;
}

void fd_parse_service_stop(struct fd_parse_service *svc) {
  if (!svc) return;
  fd_workers_stop(svc->workers); /* runs what is queued: each request answered or handed on */
  fd_slots_free(svc->slots);
  free(svc);
}

bool fd_parse_offload(struct fd_parse_service *svc, struct fd_request *req, fd_handler work) {
  if (!svc || req->body_len < FD_PARSE_OFFLOAD_BYTES) return false;
  int64_t project_id = req->auth.project_id;
  if (!fd_slots_take(svc->slots, project_id)) {
    /* the same answer as a full share of the ingest queue (api/ingest_request.c) */
    FD_METRIC_ADD(fd_metrics.rejected_full, 1);
    fd_reply_unavailable(req, "too many large requests are being validated; retry with the same id");
    return true;
  }
  struct parse_job *pj = malloc(sizeof *pj);
  if (!pj) {
    fd_slots_give(svc->slots, project_id);
    return false;
  }
  *pj = (struct parse_job){.job = {.run = parse_run}, .svc = svc, .req = req, .work = work, .project_id = project_id};
  /* suspended before a worker can resume it; the worker sets the resume step */
  fd_request_suspend(req, fd_reply_stashed);
  fd_workers_submit(svc->workers, &pj->job);
  return true;
}

static long test_delay_ms;
static pthread_once_t test_delay_once = PTHREAD_ONCE_INIT;

static void test_delay_read(void) {
  const char *v = getenv("FEEDBACKD_TEST_SLOW_VALIDATION_MS");
  test_delay_ms = v ? strtol(v, NULL, 10) : 0;
}

void fd_parse_test_delay(const struct fd_request *req) {
  if (req->body_len < FD_PARSE_OFFLOAD_BYTES) return;
  pthread_once(&test_delay_once, test_delay_read);
  if (test_delay_ms <= 0) return;
  struct timespec ts = {.tv_sec = test_delay_ms / 1000, .tv_nsec = (test_delay_ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {}
}
