/* periodic.h — background threads that run one job every interval on their own connection:
 * a procedure CALLed (the stats catch-up, migrations/0003_stats_catch_up.sql: every
 * project's stats tables brought up to date, so a GET /v1/stats finds at most one interval of
 * events left to apply; maintenance, migrations/0011_partitions_retention.sql: partitions
 * created ahead, retention enforced) or a function of a layer above (the webhook deliveries,
 * pipeline/webhooks.h). Replicas may all run them: the procedures serialise in the database,
 * the deliveries are claimed with a lease. */
#ifndef FD_DB_PERIODIC_H
#define FD_DB_PERIODIC_H

#include <stdbool.h>
#include <stdint.h>

#include "util/metrics.h"

struct fd_db;
struct fd_periodic;

struct fd_periodic_job {
  const char *name;             /* in log lines: "stats catch-up", "maintenance" */
  const char *sql;              /* run outside a transaction block (a CALL may commit); or NULL and run */
  int interval_ms;              /* <= 0: no thread */
  bool at_start;                /* run once right away, not only after the first interval */
  struct fd_histogram *seconds; /* duration of each run that succeeded; NULL: not measured */
  uint64_t *failures;           /* runs that failed; NULL: not counted */
  /* Instead of sql: one run on the thread's connection (fd_db_ensure'd). false on a database
   * failure (logged once per outage, counted, tried again after the interval). A long run
   * asks fd_periodic_stopping between its steps. */
  bool (*run)(struct fd_db *db, void *arg, struct fd_periodic *p);
  void *arg;
  int threads;   /* threads running the job side by side, each on its connection; 0: one */
  bool prepared; /* the connections' prepared statements (false for a bare CALL) */
};

/* Start the threads (their connections opened lazily). job is copied, its strings and arg
 * must outlive the threads. interval_ms <= 0, out of memory or no thread started: NULL. */
struct fd_periodic *fd_periodic_start(const char *conninfo, const struct fd_periodic_job *job);

/* True once fd_periodic_stop was called (for a run of many steps to end early). */
bool fd_periodic_stopping(struct fd_periodic *c);

/* Stop and join the threads (a run in progress finishes first); NULL ok. */
void fd_periodic_stop(struct fd_periodic *c);

#endif
