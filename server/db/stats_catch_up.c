/* stats_catch_up.c — the background stats catch-up thread (see stats_catch_up.h). */
#include "db/stats_catch_up.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/pool.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"

struct fd_stats_catch_up {
  char *conninfo;
  int interval_ms;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool stopping;
};

/* Sleep one interval; false when asked to stop. */
static bool wait_interval(struct fd_stats_catch_up *c) {
  struct timespec until = fd_deadline_ms(CLOCK_MONOTONIC, c->interval_ms);
  pthread_mutex_lock(&c->lock);
  while (!c->stopping && pthread_cond_timedwait(&c->wake, &c->lock, &until) == 0) {}
  bool go_on = !c->stopping;
  pthread_mutex_unlock(&c->lock);
  return go_on;
}

static void *catch_up_main(void *arg) {
  struct fd_stats_catch_up *c = arg;
  struct fd_db *db = NULL;
  bool failing = false; /* log an outage once, not every interval */
  char err[512];
  while (wait_interval(c)) {
    if (!db) db = fd_db_connect(c->conninfo, false, err, sizeof err);
    uint64_t t0 = fd_now_us();
    /* CALL outside a transaction block: the procedure commits after each project */
    bool ok = db && fd_db_ensure(db) && fd_db_run(db, "CALL fd_stats_catch_up_all()", err, sizeof err);
    if (ok)
      fd_histogram_observe(&fd_metrics.stats_catch_up_seconds, (double)(fd_now_us() - t0) / 1e6);
    else
      FD_METRIC_ADD(fd_metrics.stats_catch_up_failures, 1);
    if (!ok && !failing) fd_log(FD_LOG_WARN, "msg=\"stats catch-up failed; retrying every interval\"");
    if (ok && failing) fd_log(FD_LOG_INFO, "msg=\"stats catch-up works again\"");
    failing = !ok;
  }
  fd_db_close(db);
  return NULL;
}

struct fd_stats_catch_up *fd_stats_catch_up_start(const char *conninfo, int interval_ms) {
  if (interval_ms <= 0) return NULL;
  struct fd_stats_catch_up *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->conninfo = strdup(conninfo);
  c->interval_ms = interval_ms;
  pthread_mutex_init(&c->lock, NULL);
  fd_cond_init_monotonic(&c->wake);
  if (!c->conninfo || pthread_create(&c->thread, NULL, catch_up_main, c) != 0) {
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    free(c->conninfo);
    free(c);
    return NULL;
  }
  return c;
}

void fd_stats_catch_up_stop(struct fd_stats_catch_up *c) {
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
