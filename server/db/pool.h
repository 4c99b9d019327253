/* pool.h — a bounded pool of PostgreSQL connections shared by the HTTP threads.
 *
 * Checkout hands out a connection that is connected and idle (no open transaction); a
 * connection found broken is reset, one left inside a transaction is rolled back (Kore's
 * pgsql.c does the same). Statements are described once (struct fd_stmt) and prepared
 * lazily per connection; after a reconnect they are prepared again. With
 * prepared_statements off (PgBouncer transaction pooling) they run as PQexecParams. */
#ifndef FD_DB_POOL_H
#define FD_DB_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>

struct fd_pool;
struct fd_db;

/* A statement known by name. `id` is assigned on first use (leave it 0). */
struct fd_stmt {
  const char *name;
  const char *sql;
  int id;
};

/* Create a pool of `size` connections to `conninfo` (copied). Connections are opened on
 * demand. Returns NULL on allocation failure only. */
struct fd_pool *fd_pool_new(const char *conninfo, int size, bool prepared_statements);
void fd_pool_free(struct fd_pool *pool);

/* How long an HTTP request waits for a free pool connection before it answers 503 with
 * Retry-After. The wait only happens when all pool_size connections are checked out; the
 * queries behind them take milliseconds, so 2 s passes a burst of concurrent requests, and
 * a wait that long means the pool is stuck (a hung or unreachable database): the client's
 * retry then serves it better than a request hanging on an HTTP thread. */
#define FD_POOL_REQUEST_WAIT_MS 2000

/* Check out a connection, waiting at most timeout_ms for a free one. NULL when none is free
 * in time or the database cannot be reached (the caller answers 503). */
struct fd_db *fd_pool_get(struct fd_pool *pool, int timeout_ms) __attribute__((warn_unused_result));

/* Return a connection. A connection inside a transaction is rolled back; one whose last
 * command failed at the connection level is dropped and reopened on next checkout. NULL ok. */
void fd_pool_put(struct fd_pool *pool, struct fd_db *db);

/* A standalone connection (migrations, CLI, writer threads), outside any pool. */
struct fd_db *fd_db_connect(const char *conninfo, bool prepared_statements, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void fd_db_close(struct fd_db *db);

/* Make sure db is connected (reconnecting if the server went away). */
bool fd_db_ensure(struct fd_db *db) __attribute__((warn_unused_result));

PGconn *fd_db_conn(struct fd_db *db);

/* Run a statement with text parameters (NULL = SQL NULL). The caller PQclear()s the result.
 * Returns NULL only if the connection is gone; otherwise check PQresultStatus. */
PGresult *fd_db_exec(struct fd_db *db, struct fd_stmt *stmt, int nparams, const char *const *params)
    __attribute__((warn_unused_result));

/* fd_db_exec without the prepared statement: parsed and planned for these parameters every
 * time. For by-key lookups that join an array of keys to a growing table off the request
 * path: a prepared statement's generic plan, once chosen while the table (or this month's
 * partition of feedback) was nearly empty, hash-joins a sequential scan of it and stays
 * cached until the table is next analyzed, so every call meanwhile reads the whole table;
 * a plan made for the actual keys and the table's current size probes its index. */
PGresult *fd_db_exec_replanned(struct fd_db *db, struct fd_stmt *stmt, int nparams, const char *const *params)
    __attribute__((warn_unused_result));

/* Run plain SQL without parameters (BEGIN, COMMIT, migrations). true on success; on failure
 * the message is logged and, if err is given, copied there. */
bool fd_db_run(struct fd_db *db, const char *sql, char *err, size_t errlen) __attribute__((warn_unused_result));

/* true if a result is a success (COMMAND_OK or TUPLES_OK). */
bool fd_db_ok(const PGresult *res);

/* The SQLSTATE of a failed result ("" if none). */
const char *fd_db_sqlstate(const PGresult *res);

/* Whether db is one of pool's connections (a caller holding connections of two pools gives
 * each back to its own). */
bool fd_pool_owns(const struct fd_pool *pool, const struct fd_db *db);

/* Pool usage for /metrics. */
void fd_pool_stats(struct fd_pool *pool, int *size, int *in_use, long *waits, long *errors);

/* Total database errors seen by any connection (for /metrics). */
long fd_db_error_count(void);

#endif
