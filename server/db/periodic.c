/* periodic.c — the background threads of periodic.h. */
#include "db/periodic.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/pool.h"
#include "util/clock.h"
#include "util/log.h"

struct fd_periodic {
  char *conninfo;
  struct fd_periodic_job job;
  pthread_t thread;
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

static void *periodic_main(void *arg) {
  struct fd_periodic *c = arg;
  struct fd_db *db = NULL;
  bool failing = false; /* log an outage once, not every interval */
  char err[512];
  for (bool first = true; (first && c->job.at_start) || wait_interval(c); first = false) {
    if (!db) db = fd_db_connect(c->conninfo, false, err, sizeof err);
    uint64_t t0 = fd_now_us();
    bool ok = db && fd_db_ensure(db) && fd_db_run(db, c->job.sql, err, sizeof err);
    if (ok)
      fd_histogram_observe(c->job.seconds, (double)(fd_now_us() - t0) / 1e6);
    else
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
  pthread_mutex_init(&c->lock, NULL);
  fd_cond_init_monotonic(&c->wake);
  if (!c->conninfo || pthread_create(&c->thread, NULL, periodic_main, c) != 0) {
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    free(c->conninfo);
    free(c);
    return NULL;
  }
  return c;
}

void fd_periodic_stop(struct fd_periodic *c) {
  if (!c) return;
  pthread_mutex_lock(&c->lock);
  c->stopping = true;
  pthread_cond_signal(&c->wake);
  pthread_mutex_unlock(&c->lock);
  pthread_join(c->thread, NULL);
  pthread_mutex_destroy(&c->lock);
  pthread_cond_destroy(&c->wake);
  free(c->conninfo);
  free(c);
}
