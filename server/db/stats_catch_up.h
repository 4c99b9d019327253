/* stats_catch_up.h — the background thread that keeps the stats tables current.
 *
 * The ingest writers only INSERT; every interval this thread runs the catch-up of
 * migrations/0003_stats_catch_up.sql for every project, so a GET /v1/stats (which catches up
 * its own project first anyway) finds at most one interval of events left to apply. Replicas
 * may all run it: the catch-up serialises per project in the database. */
#ifndef FD_DB_STATS_CATCH_UP_H
#define FD_DB_STATS_CATCH_UP_H

struct fd_stats_catch_up;

/* Start the thread (its own connection, opened lazily). interval_ms <= 0: no thread, NULL. */
struct fd_stats_catch_up *fd_stats_catch_up_start(const char *conninfo, int interval_ms);

/* Stop and join the thread (a catch-up in progress finishes first); NULL ok. */
void fd_stats_catch_up_stop(struct fd_stats_catch_up *c);

#endif
