/* status.h — the one return convention of the database room (modelled on the GNU Taler
 * exchange's enum GNUNET_DB_QueryStatus).
 *
 * Every public function of the db/ headers named *_db.h returns an enum fd_db_status, marked
 * warn_unused_result, and hands its results back through out-parameters:
 *
 *   FD_DB_UNAVAILABLE  (-3) the database cannot be reached: the connection is gone or refused,
 *                           SQLSTATE class 08 (connection exception) or 57P0x (the server is
 *                           shutting down, crashed or not yet accepting). Nothing is wrong with
 *                           the request: the caller answers 503 with Retry-After.
 *   FD_DB_HARD_ERROR   (-2) anything else that failed: a bug in our SQL or in what we fed it
 *                           (logged as a bug with the file:line of the classification), or out
 *                           of memory. Retrying does not help.
 *   FD_DB_SOFT_ERROR   (-1) a serialization failure or deadlock (SQLSTATE 40001, 40P01): the
 *                           transaction was rolled back and may simply be run again.
 *   FD_DB_NONE          (0) success, nothing found / nothing changed.
 *   FD_DB_ONE           (1) success, one row; functions that return lists or write batches
 *                           return the number of rows (>= 1), capped at INT_MAX. Each header
 *                           says what NONE and ONE mean for its function.
 *
 * Connection failures get their own value (rather than HARD, as in Taler) because callers
 * answer them differently: 503 + Retry-After (clients retry) versus a bug. Until every client
 * input is validated before it reaches SQL (invalid UTF-8 in a parameter, for instance, is a
 * HARD 22021 today), the HTTP handlers answer every failure 503 as they always did; HARD is
 * the class that must become a 500 (see fd_db_failed's callers in api/).
 *
 * Ownership: out-parameters are written only on success (>= FD_DB_NONE; on NONE a pointer
 * out-value is set to NULL). JSON out-values are new references the caller owns and
 * json_decref()s; strings and structs documented as owned by a reader stay the reader's. */
#ifndef FD_DB_STATUS_H
#define FD_DB_STATUS_H

#include <libpq-fe.h>
#include <stdbool.h>

struct fd_db;

enum fd_db_status {
  FD_DB_UNAVAILABLE = -3,
  FD_DB_HARD_ERROR = -2,
  FD_DB_SOFT_ERROR = -1,
  FD_DB_NONE = 0,
  FD_DB_ONE = 1, /* >= 1: rows returned or affected */
};

/* true for the three failures. */
static inline bool fd_db_failed(enum fd_db_status st) { return st < FD_DB_NONE; }

/* The class of a failure, from its SQLSTATE (NULL or "" when the server sent none) and
 * whether the connection is still up afterwards. Pure: no logging. Never returns a success. */
enum fd_db_status fd_db_classify(const char *sqlstate, bool connected);

/* The status of a statement's result on db: on success the number of rows it returned
 * (a SELECT or RETURNING) or affected (any other command), capped at INT_MAX; on failure
 * (res NULL included) its class, a HARD one logged as a bug at file:line. Does not PQclear. */
enum fd_db_status fd_db_result_at(struct fd_db *db, const PGresult *res, const char *file, int line);
#define fd_db_result(db, res) fd_db_result_at((db), (res), __FILE__, __LINE__)

/* A failure that left no result (a failed fd_db_run, a lost connection): UNAVAILABLE when
 * the connection is down, else HARD, logged as a bug at file:line with `what`. */
enum fd_db_status fd_db_failure_at(struct fd_db *db, const char *what, const char *file, int line);
#define fd_db_failure(db, what) fd_db_failure_at((db), (what), __FILE__, __LINE__)

/* A HARD error that is ours, not the database's (out of memory, unparseable JSON from our
 * own SQL): logged as a bug at file:line with `what`. */
enum fd_db_status fd_db_bug_at(const char *what, const char *file, int line);
#define fd_db_bug(what) fd_db_bug_at((what), __FILE__, __LINE__)

#endif
