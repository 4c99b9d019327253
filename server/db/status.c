/* status.c — classifying database failures (contract in status.h). */
#include "db/status.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "db/pool.h"
#include "util/log.h"

enum fd_db_status fd_db_classify(const char *sqlstate, bool connected) {
  if (!connected) return FD_DB_UNAVAILABLE;
  if (!sqlstate || strlen(sqlstate) != 5) return FD_DB_HARD_ERROR;
  /* class 08: connection exception; 57P01 admin_shutdown, 57P02 crash_shutdown,
   * 57P03 cannot_connect_now, 57P04 database_dropped, 57P05 idle_session_timeout */
  if (strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "57P0", 4) == 0) return FD_DB_UNAVAILABLE;
  /* 40001 serialization_failure, 40P01 deadlock_detected: the transaction may be retried */
  if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0) return FD_DB_SOFT_ERROR;
  return FD_DB_HARD_ERROR;
}

static bool connected(struct fd_db *db) {
  PGconn *c = db ? fd_db_conn(db) : NULL;
  return c && PQstatus(c) == CONNECTION_OK;
}

static enum fd_db_status logged(enum fd_db_status st, const char *what, const char *sqlstate, const char *file,
                                int line) {
  /* fd_db_exec logged the statement's own message already; this line says where it came
   * from, so that a HARD error (a bug) can be found */
  if (st == FD_DB_HARD_ERROR)
    fd_log(FD_LOG_ERROR, "src=%s:%d msg=\"database error (a bug)\" what=\"%s\" sqlstate=%s", file, line, what,
           sqlstate && *sqlstate ? sqlstate : "none");
  return st;
}

enum fd_db_status fd_db_result_at(struct fd_db *db, const PGresult *res, const char *file, int line) {
  if (fd_db_ok(res)) {
    long n =
        PQresultStatus(res) == PGRES_COMMAND_OK ? strtol(PQcmdTuples((PGresult *)res), NULL, 10) : (long)PQntuples(res);
    return (enum fd_db_status)(n > INT_MAX ? INT_MAX : n);
  }
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  return logged(fd_db_classify(state, connected(db)), "statement", state, file, line);
}

enum fd_db_status fd_db_failure_at(struct fd_db *db, const char *what, const char *file, int line) {
  return logged(fd_db_classify(NULL, connected(db)), what, NULL, file, line);
}

enum fd_db_status fd_db_bug_at(const char *what, const char *file, int line) {
  return logged(FD_DB_HARD_ERROR, what, NULL, file, line);
}
