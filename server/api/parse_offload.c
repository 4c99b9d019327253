/* parse_offload.c — the parse workers (see parse_offload.h): requests wait in arrival order;
 * a worker takes the first whose project may be parsed now (its CPU budget, below). */
#include "api/parse_offload.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "http/reply.h"
#include "pipeline/pipeline.h"
#include "util/clock.h"
#include "util/cpu_debt.h"
#include "util/metrics.h"
#include "util/slots.h"
#include "util/workers.h"

/* Slightly below the HTTP threads and writers (nice 0): a large body is bulk work, and when
 * the cores are busy the small events of other projects, answered on the HTTP threads,
 * should come first; still above exports (5), since a client waits for this answer. */
#define PARSE_NICE 3
/* A project counts as active here for this long after a large body of it was parsed (as in
 * the ingest queue, pipeline/queue.h FD_QUEUE_ACTIVE_WINDOW_US). */
#define ACTIVE_WINDOW_NS 1000000000LL
/* While every waiting request's project owes, the workers look again at least this often:
 * the other projects falling quiet, which ends the budget, wakes nobody. */
#define HELD_RECHECK_NS 100000000LL

/* A project that had large bodies parsed: its CPU debt. Kept for the service's life
 * (projects are created by operators, so their number is bounded). */
struct parse_project {
  struct fd_cpu_account acct; /* first (util/cpu_debt.h): the project's id and CPU debt */
  int64_t last_ns;            /* when its last request here was done (CLOCK_MONOTONIC; 0: never) */
  int waiting, running;
};

struct parse_job {
  struct parse_job *next;
  struct fd_request *req;
  fd_handler work;
  struct parse_project *p;
};

struct fd_parse_service {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct parse_job *head;          /* waiting, in arrival order (FD_PARSE_QUEUE at most) */
  struct fd_cpu_accounts projects; /* parse_project entries; debts drain at parse_cpu_share */
  struct fd_slots *slots;
  struct fd_ingest *ingest; /* tells whether other projects' events are being written */
  bool stopping;
  int n_threads;
  pthread_t *threads;
};

/* Whether a project other than p is active at now: a large body of it waiting or being
 * parsed or done in the last ACTIVE_WINDOW_NS, or its events taken by a writer in the last
 * second (small events never come here). Under mu. */
static bool others_active(struct fd_parse_service *svc, const struct parse_project *p, int64_t now) {
  for (size_t i = 0; i < svc->projects.n; i++) {
    const struct parse_project *o = (const struct parse_project *)svc->projects.all[i];
    if (o != p && (o->waiting || o->running || (o->last_ns && now - o->last_ns < ACTIVE_WINDOW_NS))) return true;
  }
  return svc->ingest && fd_ingest_others_active(svc->ingest, p->acct.id);
}

/* Whether a request of p may be parsed now: always while stopping, without a budget, when p
 * owes nothing, or when no other project is active (a project alone keeps full speed).
 * Otherwise *wake = when p will have paid, if sooner. Under mu. */
static bool may_run(struct fd_parse_service *svc, struct parse_project *p, int64_t now, int64_t *wake) {
  if (svc->stopping || !fd_cpu_account_owed(&svc->projects, &p->acct, now) || !others_active(svc, p, now)) return true;
  fd_cpu_account_pass(&svc->projects, &p->acct, now, wake);
  return false;
}

/* The first waiting request whose project may be parsed (the others keep their places);
 * waits for one. NULL once stopping and nothing waits. Under mu. */
static struct parse_job *take(struct fd_parse_service *svc) {
  for (;;) {
    int64_t now = fd_mono_ns(), wake = now + HELD_RECHECK_NS;
    for (struct parse_job **at = &svc->head; *at; at = &(*at)->next) {
      struct parse_job *j = *at;
      if (!may_run(svc, j->p, now, &wake)) continue;
      *at = j->next;
      j->p->waiting--;
      j->p->running++;
      return j;
    }
    if (!svc->head) {
      if (svc->stopping) return NULL;
      pthread_cond_wait(&svc->cv, &svc->mu);
    } else { /* every waiting project owes while others are active */
      struct timespec until = {(time_t)(wake / 1000000000), (long)(wake % 1000000000)};
      pthread_cond_timedwait(&svc->cv, &svc->mu, &until);
    }
  }
}

/* A parse worker's request: the connection is suspended, so only this thread touches req
 * until the connection is resumed (by this thread, or by a writer the work handed it to).
 * Its thread CPU is charged to its project while another project is active; a project
 * alone owes nothing. */
static void run(struct fd_parse_service *svc, struct parse_job *pj) {
  struct fd_request *req = pj->req;
  struct parse_project *p = pj->p;
  fd_handler work = pj->work;
  free(pj);
  int64_t t0 = fd_mono_ns(), c0 = fd_thread_cpu_ns();
  bool handed_on = false;
  req->offload = &handed_on;
  work(req);
  if (!handed_on) { /* answered here (kept for the HTTP thread), or a bug: fd_reply_stashed */
    req->offload = NULL;
    req->resume = fd_reply_stashed;
    fd_request_resume(req);
  }
  /* req is not ours any more: the HTTP thread may have freed it */
  int64_t cpu = fd_thread_cpu_ns() - c0, t1 = fd_mono_ns();
  FD_METRIC_ADD(fd_metrics.parse_cpu_ns, (uint64_t)cpu);
  pthread_mutex_lock(&svc->mu);
  p->running--;
  p->last_ns = t1;
  if (others_active(svc, p, t1))
    fd_cpu_account_charge(&svc->projects, &p->acct, cpu, t0, t1);
  else
    fd_cpu_account_clear(&p->acct);
  pthread_mutex_unlock(&svc->mu);
  fd_slots_give(svc->slots, p->acct.id);
}

static void *worker_main(void *arg) {
  struct fd_parse_service *svc = arg;
  fd_thread_name("fd-parse");
  fd_thread_set_nice(PARSE_NICE);
  pthread_mutex_lock(&svc->mu);
  for (struct parse_job *j; (j = take(svc));) {
    pthread_mutex_unlock(&svc->mu);
    run(svc, j);
    pthread_mutex_lock(&svc->mu);
  }
  pthread_mutex_unlock(&svc->mu);
  return NULL;
}

static void service_free(struct fd_parse_service *svc) {
  fd_cpu_accounts_free(&svc->projects);
  free(svc->threads);
  fd_slots_free(svc->slots);
  pthread_cond_destroy(&svc->cv);
  pthread_mutex_destroy(&svc->mu);
  free(svc);
}

struct fd_parse_service *fd_parse_service_start(const struct fd_config *cfg, struct fd_ingest *ingest, bool *failed) {
  *failed = false;
  if (cfg->parse_workers <= 0) return NULL;
  *failed = true;
  struct fd_parse_service *svc = calloc(1, sizeof *svc);
  if (!svc) return NULL;
  pthread_mutex_init(&svc->mu, NULL);
  fd_cond_init_monotonic(&svc->cv);
  svc->ingest = ingest;
  fd_cpu_accounts_init(&svc->projects, cfg->parse_cpu_share, &fd_metrics.parse_throttled);
  svc->slots = fd_slots_new(FD_PARSE_QUEUE, FD_PARSE_QUEUE_PER_PROJECT);
  svc->threads = calloc((size_t)cfg->parse_workers, sizeof *svc->threads);
  if (svc->slots && svc->threads)
    for (; svc->n_threads < cfg->parse_workers; svc->n_threads++)
      if (pthread_create(&svc->threads[svc->n_threads], NULL, worker_main, svc) != 0) break;
  if (svc->n_threads == 0) {
    service_free(svc);
    return NULL;
  }
  *failed = false;
  return svc;
}

void fd_parse_service_stop(struct fd_parse_service *svc) {
  if (!svc) return;
  pthread_mutex_lock(&svc->mu);
  svc->stopping = true; /* what waits is run, whatever the debts: each answered or handed on */
  pthread_cond_broadcast(&svc->cv);
  pthread_mutex_unlock(&svc->mu);
  for (int i = 0; i < svc->n_threads; i++) pthread_join(svc->threads[i], NULL);
  service_free(svc);
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
  pthread_mutex_lock(&svc->mu);
  struct parse_project *p = pj ? fd_cpu_account_of(&svc->projects, project_id, sizeof *p) : NULL; /* entries stay */
  pthread_mutex_unlock(&svc->mu);
  if (!p) {
    free(pj);
    fd_slots_give(svc->slots, project_id);
    return false;
  }
  *pj = (struct parse_job){.req = req, .work = work, .p = p};
  /* suspended before a worker can resume it; the worker sets the resume step */
  fd_request_suspend(req, fd_reply_stashed);
  pthread_mutex_lock(&svc->mu);
  struct parse_job **at = &svc->head; /* FD_PARSE_QUEUE at most */
  while (*at) at = &(*at)->next;
  *at = pj;
  p->waiting++;
  pthread_cond_signal(&svc->cv);
  pthread_mutex_unlock(&svc->mu);
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
