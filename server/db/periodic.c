/* periodic.c — the background threads of periodic.h. */
#include "db/periodic.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/pool.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/workers.h"

struct fd_periodic {
  char *conninfo;
  struct fd_periodic_job job;
  pthread_t *threads;
  int n_threads;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool stopping;
};

/* Sleep one interval; false when asked to stop. */
static bool wait_interval(struct fd_periodic *c) {
  struct timespec until = fd_deadline_ms(CLOCK_MONOTONIC, c->job.interval_ms);
  pthread_mutex_lock(&c->lock);
  while (!c->stopping && pthread_cond_timedwait(&c->wake, &c->lock, &until) == 0) {}
  bool go_on = !c->stopping;
  pthread_mutex_unlock(&c->lock);
  return go_on;
}

bool fd_periodic_stopping(struct fd_periodic *c) {
  pthread_mutex_lock(&c->lock);
  bool s = c->stopping;
  pthread_mutex_unlock(&c->lock);
  return s;
}

static bool run_once(struct fd_periodic *c, struct fd_db *db, char *err, size_t errlen) {
  if (c->job.run) return c->job.run(db, c->job.arg, c);
  return fd_db_run(db, c->job.sql, err, errlen);
}

static void *periodic_main(void *arg) {
  struct fd_periodic *c = arg;
  fd_thread_name(c->job.name);
  struct fd_db *db = NULL;
  bool failing = false; /* log an outage once, not every interval */
  char err[512];
  for (bool first = true; (first && c->job.at_start) || wait_interval(c); first = false) {
    if (!db) db = fd_db_connect(c->conninfo, c->job.prepared, err, sizeof err);
    uint64_t t0 = fd_now_us();
    bool ok = db && fd_db_ensure(db) && run_once(c, db, err, sizeof err);
    if (ok && c->job.seconds)
      fd_histogram_observe(c->job.seconds, (double)(fd_now_us() - t0) / 1e6);
    else if (!ok && c->job.failures)
      FD_METRIC_ADD(*c->job.failures, 1);
    if (!ok && !failing) fd_log(FD_LOG_WARN, "msg=\"%s failed; retrying every interval\"", c->job.name);
    if (ok && failing) fd_log(FD_LOG_INFO, "msg=\"%s works again\"", c->job.name);
    failing = !ok;
  }
  fd_db_close(db);
  return NULL;
}

struct fd_periodic *fd_periodic_start(const char *conninfo, const struct fd_periodic_job *job) {
  if (job->interval_ms <= 0) return NULL;
  struct fd_periodic *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->conninfo = strdup(conninfo);
  c->job = *job;
  int n = job->threads > 0 ? job->threads : 1;
  c->threads = calloc((size_t)n, sizeof *c->threads);
  pthread_mutex_init(&c->lock, NULL);
  fd_cond_init_monotonic(&c->wake);
  for (int i = 0; c->conninfo && c->threads && i < n; i++) {
    if (pthread_create(&c->threads[i], NULL, periodic_main, c) != 0) break;
    c->n_threads++;
  }
  if (c->n_threads == 0) {
    fd_periodic_stop(c);
    return NULL;
  }
  return c;
}

void fd_periodic_stop(struct fd_periodic *c) {
  if (!c) return;
  pthread_mutex_lock(&c->lock);
  c->stopping = true;
  pthread_cond_broadcast(&c->wake);
  pthread_mutex_unlock(&c->lock);
  for (int i = 0; i < c->n_threads; i++) pthread_join(c->threads[i], NULL);
  pthread_mutex_destroy(&c->lock);
  pthread_cond_destroy(&c->wake);
  free(c->threads);
  free(c->conninfo);
  free(c);
}
