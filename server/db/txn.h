/* txn.h — the one transaction runner of the database room.
 *
 * Every write of db/ runs through fd_db_txn: BEGIN (at the isolation level the caller
 * names), the body, COMMIT. What happens on a failure follows its class (db/status.h):
 *
 *   FD_DB_SOFT_ERROR    a serialization failure or deadlock (40001, 40P01): PostgreSQL chose
 *                       this transaction as the victim and rolled it back; nothing of it is
 *                       left, so it is rolled back on our side too and run again, at most
 *                       FD_TXN_ATTEMPTS times in all, after a short jittered pause (so that
 *                       two victims of one another do not collide again in lock step). Still
 *                       SOFT after the last attempt: SOFT is returned (the caller answers 503).
 *   FD_DB_UNAVAILABLE,  rolled back (when the connection is still there) and returned at once:
 *   FD_DB_HARD_ERROR    retrying neither brings the database back nor fixes a bug.
 *
 * A body may run several times, so it must be re-runnable: whatever an attempt produced
 * (out-values, statuses) is overwritten by the next one; only the runner's final success
 * makes them valid. */
#ifndef FD_DB_TXN_H
#define FD_DB_TXN_H

#include <stdint.h>

#include "db/pool.h"
#include "db/status.h"

enum fd_txn_isolation {
  /* No BEGIN/COMMIT: the body runs exactly one statement, which PostgreSQL runs as its own
   * transaction (saves two round trips). A failure of it committed nothing, so the retry
   * rule is the same. Never for a body with two statements: the first would stay committed. */
  FD_TXN_STATEMENT,
  FD_TXN_READ_COMMITTED,
  FD_TXN_REPEATABLE_READ,
  FD_TXN_SERIALIZABLE,
};

/* Attempts in all (the first run included). Each deadlock costs deadlock_timeout (1 s by
 * default) before PostgreSQL breaks it, so a few attempts bound an HTTP request's wait. */
#define FD_TXN_ATTEMPTS 4

typedef enum fd_db_status (*fd_txn_body)(struct fd_db *db, void *arg);

/* Run body(db, arg) in a transaction as described above; `what` names it in log lines.
 * Returns the body's status (a success: >= FD_DB_NONE) once committed, else the failure. */
enum fd_db_status fd_db_txn(struct fd_db *db, enum fd_txn_isolation iso, fd_txn_body body, void *arg, const char *what)
    __attribute__((warn_unused_result));

/* One statement through fd_db_txn (FD_TXN_STATEMENT): its fd_db_result status, a HARD one
 * logged at the caller's file:line. *res is the last attempt's result (NULL when the
 * connection is gone), which the caller PQclear()s on success and failure alike. */
enum fd_db_status fd_db_exec_txn_at(struct fd_db *db, struct fd_stmt *stmt, int nparams, const char *const *params,
                                    PGresult **res, const char *file, int line) __attribute__((warn_unused_result));
#define fd_db_exec_txn(db, stmt, nparams, params, res) \
  fd_db_exec_txn_at((db), (stmt), (nparams), (params), (res), __FILE__, __LINE__)

/* ---- the retry policy (pure, for tests) ---------------------------------------------- */

/* true when an attempt (1 = the first run) that ended with st is to be run again. */
bool fd_txn_should_retry(enum fd_db_status st, int attempt);

/* The pause in µs after failed attempt `attempt` (1-based), from a uniformly random value:
 * exponential (FD_TXN_BACKOFF_US, doubled per attempt, at most FD_TXN_BACKOFF_MAX_US) with
 * jitter, uniformly within [half of it, all of it]. */
#define FD_TXN_BACKOFF_US 2000u
#define FD_TXN_BACKOFF_MAX_US 20000u
unsigned fd_txn_backoff_us(int attempt, uint64_t random);

#endif
