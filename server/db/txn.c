/* txn.c — the transaction runner (contract in txn.h). */
#include "db/txn.h"

#include <string.h>
#include <time.h>

#include "util/crypto.h"
#include "util/log.h"

bool fd_txn_should_retry(enum fd_db_status st, int attempt) {
  return st == FD_DB_SOFT_ERROR && attempt >= 1 && attempt < FD_TXN_ATTEMPTS;
}

unsigned fd_txn_backoff_us(int attempt, uint64_t random) {
  unsigned full = FD_TXN_BACKOFF_US;
  for (int i = 1; i < attempt && full < FD_TXN_BACKOFF_MAX_US; i++) full *= 2;
  if (full > FD_TXN_BACKOFF_MAX_US) full = FD_TXN_BACKOFF_MAX_US;
  unsigned half = full / 2;
  return half + (unsigned)(random % (uint64_t)(full - half + 1));
}

static const char *const begin_sql[] = {
    [FD_TXN_READ_COMMITTED] = "BEGIN ISOLATION LEVEL READ COMMITTED",
    [FD_TXN_REPEATABLE_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ",
    [FD_TXN_SERIALIZABLE] = "BEGIN ISOLATION LEVEL SERIALIZABLE",
};

/* End an open transaction after a failure. When the connection is gone the server rolled
 * it back already; a transaction PostgreSQL aborted itself still needs the ROLLBACK. */
static void roll_back(struct fd_db *db) {
  PGconn *c = fd_db_conn(db);
  if (!c || PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) == PQTRANS_IDLE) return;
  if (!fd_db_run(db, "ROLLBACK", NULL, 0)) { /* logged by fd_db_run; the pool drops the connection */
  }
}

/* COMMIT, with its SQLSTATE: at SERIALIZABLE the serialization failure may come only here.
 * Not through fd_db_exec: COMMIT cannot be prepared. */
static enum fd_db_status commit(struct fd_db *db, const char *what) {
  PGconn *c = fd_db_conn(db);
  if (!c) return fd_db_failure(db, what);
  PGresult *r = PQexec(c, "COMMIT");
  enum fd_db_status st = fd_db_result(db, r);
  /* COMMIT of a transaction that an error aborted answers "ROLLBACK": the body reported
   * success for work that was not done */
  if (!fd_db_failed(st) && strcmp(PQcmdStatus(r), "ROLLBACK") == 0) st = fd_db_bug(what);
  PQclear(r);
  return st;
}

static enum fd_db_status attempt(struct fd_db *db, enum fd_txn_isolation iso, fd_txn_body body, void *arg,
                                 const char *what) {
  if (iso == FD_TXN_STATEMENT) return body(db, arg);
  if (!fd_db_run(db, begin_sql[iso], NULL, 0)) return fd_db_failure(db, what);
  enum fd_db_status st = body(db, arg);
  if (!fd_db_failed(st)) {
    enum fd_db_status c = commit(db, what);
    if (!fd_db_failed(c)) return st;
    st = c;
  }
  roll_back(db);
  return st;
}

static void pause_us(unsigned us) {
  struct timespec ts = {.tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000L};
  while (nanosleep(&ts, &ts) != 0) {}
}

enum fd_db_status fd_db_txn(struct fd_db *db, enum fd_txn_isolation iso, fd_txn_body body, void *arg,
                            const char *what) {
  for (int n = 1;; n++) {
    enum fd_db_status st = attempt(db, iso, body, arg, what);
    if (!fd_txn_should_retry(st, n)) {
      if (st == FD_DB_SOFT_ERROR)
        fd_log(FD_LOG_WARN, "msg=\"transaction still conflicting, giving up\" what=\"%s\" attempts=%d", what, n);
      return st;
    }
    unsigned us = fd_txn_backoff_us(n, fd_fast_random_u64());
    fd_log(FD_LOG_INFO, "msg=\"transaction conflicted, retrying\" what=\"%s\" attempt=%d pause_us=%u", what, n, us);
    pause_us(us);
  }
}

struct exec_arg {
  struct fd_stmt *stmt;
  int nparams;
  const char *const *params;
  PGresult *res;
  const char *file;
  int line;
};

static enum fd_db_status exec_body(struct fd_db *db, void *arg) {
  struct exec_arg *a = arg;
  PQclear(a->res); /* an earlier attempt's failure */
  a->res = fd_db_exec(db, a->stmt, a->nparams, a->params);
  return fd_db_result_at(db, a->res, a->file, a->line);
}

enum fd_db_status fd_db_exec_txn_at(struct fd_db *db, struct fd_stmt *stmt, int nparams, const char *const *params,
                                    PGresult **res, const char *file, int line) {
  struct exec_arg a = {stmt, nparams, params, NULL, file, line};
  enum fd_db_status st = fd_db_txn(db, FD_TXN_STATEMENT, exec_body, &a, stmt->name);
  *res = a.res;
  return st;
}
