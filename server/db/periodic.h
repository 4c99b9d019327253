/* periodic.h — background threads that CALL one procedure every interval on their own
 * connection: the stats catch-up (migrations/0003_stats_catch_up.sql: every project's stats
 * tables brought up to date, so a GET /v1/stats finds at most one interval of events left to
 * apply) and maintenance (migrations/0011_partitions_retention.sql: partitions created ahead,
 * retention enforced). Replicas may all run them: the procedures serialise in the database. */
#ifndef FD_DB_PERIODIC_H
#define FD_DB_PERIODIC_H

#include <stdbool.h>
#include <stdint.h>

#include "util/metrics.h"

struct fd_periodic;

struct fd_periodic_job {
  const char *name;             /* in log lines: "stats catch-up", "maintenance" */
  const char *sql;              /* run outside a transaction block (a CALL may commit) */
  int interval_ms;              /* <= 0: no thread */
  bool at_start;                /* run once right away, not only after the first interval */
  struct fd_histogram *seconds; /* duration of each run that succeeded */
  uint64_t *failures;           /* runs that failed */
};

/* Start the thread (its connection opened lazily). job is copied, its strings must outlive
 * the thread. interval_ms <= 0 or out of memory: no thread, NULL. */
struct fd_periodic *fd_periodic_start(const char *conninfo, const struct fd_periodic_job *job);

/* Stop and join the thread (a run in progress finishes first); NULL ok. */
void fd_periodic_stop(struct fd_periodic *c);

#endif
