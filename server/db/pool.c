/* pool.c — connection pool and statement helpers over libpq. */
#include "db/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"

#define MAX_STMTS 256

struct fd_db {
  PGconn *conn;
  char *conninfo;
  bool prepared_statements;
  bool in_use;
  unsigned char prepared[MAX_STMTS]; /* per statement id: prepared on this connection */
};

struct fd_pool {
  pthread_mutex_t lock;
  pthread_cond_t freed;
  int size;
  int in_use;
  long waits;
  struct fd_db *dbs;
};

static int next_stmt_id = 0; /* guarded by atomics; ids index fd_db.prepared */
static long db_errors = 0;

long fd_db_error_count(void) { return __atomic_load_n(&db_errors, __ATOMIC_RELAXED); }

static void count_error(void) { __atomic_add_fetch(&db_errors, 1, __ATOMIC_RELAXED); }

PGconn *fd_db_conn(struct fd_db *db) { return db->conn; }

static void drop_conn(struct fd_db *db) {
  if (db->conn) PQfinish(db->conn);
  db->conn = NULL;
  memset(db->prepared, 0, sizeof db->prepared);
}

/* Server NOTICEs ("relation ... already exists, skipping") are for debugging only. */
static void on_notice(void *arg, const char *message) {
  char clean[512];
  snprintf(clean, sizeof clean, "%s", message);
  for (char *p = clean; *p; p++)
    if (*p == '\n' || *p == '"') *p = ' ';
  fd_log(FD_LOG_DEBUG, "msg=\"database notice\" notice=\"%s\"", clean);
}

/* application_name (unless the connection string sets one): "feedbackd" and the name of the
 * opening thread (fd-writer, fd-export, fd-http for the pool, ...), so pg_stat_activity and
 * per-backend CPU tell the kinds of work apart (docs/operations.md "Threads"). */
static void fallback_app_name(char *out, size_t len) {
  char thread[16] = "";
  (void)pthread_getname_np(pthread_self(), thread, sizeof thread);
  if (thread[0] && strcmp(thread, "feedbackd") != 0)
    snprintf(out, len, "feedbackd %s", thread);
  else
    snprintf(out, len, "feedbackd");
}

static bool open_conn(struct fd_db *db, char *err, size_t errlen) {
  drop_conn(db);
  char app[64];
  fallback_app_name(app, sizeof app);
  const char *const keys[] = {"dbname", "fallback_application_name", NULL};
  const char *const values[] = {db->conninfo, app, NULL};
  db->conn = PQconnectdbParams(keys, values, 1);
  if (PQstatus(db->conn) != CONNECTION_OK) {
    if (err) {
      snprintf(err, errlen, "%s", PQerrorMessage(db->conn));
      size_t n = strlen(err);
      while (n && (err[n - 1] == '\n' || err[n - 1] == ' ')) err[--n] = '\0';
    }
    drop_conn(db);
    return false;
  }
  PQsetNoticeProcessor(db->conn, on_notice, NULL);
  /* UTC everywhere: timestamps leave the database as RFC 3339 with a Z-equivalent offset */
  PGresult *r = PQexec(db->conn, "SET TIME ZONE 'UTC'");
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!ok) {
    if (err) snprintf(err, errlen, "SET TIME ZONE failed: %s", PQerrorMessage(db->conn));
    drop_conn(db);
  }
  return ok;
}

bool fd_db_ensure(struct fd_db *db) {
  if (db->conn && PQstatus(db->conn) == CONNECTION_OK) return true;
  char err[512];
  if (open_conn(db, err, sizeof err)) return true;
  count_error();
  fd_log(FD_LOG_WARN, "msg=\"database connection failed\" error=\"%s\"", err);
  return false;
}

struct fd_db *fd_db_connect(const char *conninfo, bool prepared_statements, char *err, size_t errlen) {
  struct fd_db *db = calloc(1, sizeof *db);
  if (!db || !(db->conninfo = strdup(conninfo))) {
    free(db);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  db->prepared_statements = prepared_statements;
  if (!open_conn(db, err, errlen)) {
    fd_db_close(db);
    return NULL;
  }
  return db;
}

void fd_db_close(struct fd_db *db) {
  if (!db) return;
  drop_conn(db);
  free(db->conninfo);
  free(db);
}

struct fd_pool *fd_pool_new(const char *conninfo, int size, bool prepared_statements) {
  struct fd_pool *pool = calloc(1, sizeof *pool);
  if (!pool) return NULL;
  pool->dbs = calloc((size_t)size, sizeof *pool->dbs);
  if (!pool->dbs) {
    free(pool);
    return NULL;
  }
  pool->size = size;
  for (int i = 0; i < size; i++) {
    pool->dbs[i].conninfo = strdup(conninfo);
    pool->dbs[i].prepared_statements = prepared_statements;
    if (!pool->dbs[i].conninfo) {
      fd_pool_free(pool);
      return NULL;
    }
  }
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->freed, NULL);
  return pool;
}

void fd_pool_free(struct fd_pool *pool) {
  if (!pool) return;
  for (int i = 0; i < pool->size; i++) {
    drop_conn(&pool->dbs[i]);
    free(pool->dbs[i].conninfo);
  }
  free(pool->dbs);
  pthread_mutex_destroy(&pool->lock);
  pthread_cond_destroy(&pool->freed);
  free(pool);
}

struct fd_db *fd_pool_get(struct fd_pool *pool, int timeout_ms) {
  struct timespec deadline = fd_deadline_ms(CLOCK_REALTIME, timeout_ms); /* pool->freed: default clock */
  struct fd_db *db = NULL;
  pthread_mutex_lock(&pool->lock);
  for (;;) {
    /* prefer a connection that is already open */
    for (int i = 0; i < pool->size && !db; i++)
      if (!pool->dbs[i].in_use && pool->dbs[i].conn) db = &pool->dbs[i];
    for (int i = 0; i < pool->size && !db; i++)
      if (!pool->dbs[i].in_use) db = &pool->dbs[i];
    if (db) break;
    pool->waits++;
    if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT) break;
  }
  if (db) {
    db->in_use = true;
    pool->in_use++;
  }
  pthread_mutex_unlock(&pool->lock);
  if (!db) return NULL;
  /* checkout check: connected and idle, else reset (done outside the lock: it may block) */
  if (db->conn && (PQstatus(db->conn) != CONNECTION_OK || PQtransactionStatus(db->conn) != PQTRANS_IDLE)) drop_conn(db);
  if (!fd_db_ensure(db)) {
    fd_pool_put(pool, db);
    return NULL;
  }
  return db;
}

bool fd_pool_owns(const struct fd_pool *pool, const struct fd_db *db) {
  return pool && db >= pool->dbs && db < pool->dbs + pool->size;
}

void fd_pool_put(struct fd_pool *pool, struct fd_db *db) {
  if (!db) return;
  if (db->conn) {
    PGTransactionStatusType ts = PQtransactionStatus(db->conn);
    if (PQstatus(db->conn) != CONNECTION_OK || ts == PQTRANS_UNKNOWN || ts == PQTRANS_ACTIVE) {
      drop_conn(db);
    } else if (ts != PQTRANS_IDLE) {
      PGresult *r = PQexec(db->conn, "ROLLBACK");
      if (PQresultStatus(r) != PGRES_COMMAND_OK) drop_conn(db);
      PQclear(r);
    }
  }
  pthread_mutex_lock(&pool->lock);
  db->in_use = false;
  pool->in_use--;
  pthread_cond_signal(&pool->freed);
  pthread_mutex_unlock(&pool->lock);
}

bool fd_db_ok(const PGresult *res) {
  if (!res) return false;
  ExecStatusType st = PQresultStatus(res);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE;
}

const char *fd_db_sqlstate(const PGresult *res) {
  const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  return s ? s : "";
}

static int stmt_id(struct fd_stmt *stmt) {
  int id = __atomic_load_n(&stmt->id, __ATOMIC_ACQUIRE);
  if (id) return id;
  int fresh = __atomic_add_fetch(&next_stmt_id, 1, __ATOMIC_RELAXED);
  int expected = 0;
  if (!__atomic_compare_exchange_n(&stmt->id, &expected, fresh, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return expected; /* another thread won; its id stands */
  return fresh;
}

static void log_failure(const char *what, const PGresult *res, PGconn *conn) {
  count_error();
  const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  char clean[512];
  snprintf(clean, sizeof clean, "%s", msg ? msg : "");
  for (char *p = clean; *p; p++)
    if (*p == '\n' || *p == '"') *p = ' ';
  fd_log(FD_LOG_WARN, "msg=\"database statement failed\" stmt=%s sqlstate=%s error=\"%s\"", what, fd_db_sqlstate(res),
         clean);
}

static PGresult *exec(struct fd_db *db, struct fd_stmt *stmt, int nparams, const char *const *params, bool prepare) {
  if (!db->conn) return NULL;
  PGresult *res;
  int id = stmt_id(stmt);
  if (prepare && db->prepared_statements && id < MAX_STMTS) {
    if (!db->prepared[id]) {
      res = PQprepare(db->conn, stmt->name, stmt->sql, 0, NULL);
      bool ok = fd_db_ok(res);
      if (!ok) log_failure(stmt->name, res, db->conn);
      if (!ok) return res; /* the caller sees the failure */
      PQclear(res);
      db->prepared[id] = 1;
    }
    res = PQexecPrepared(db->conn, stmt->name, nparams, params, NULL, NULL, 0);
  } else {
    res = PQexecParams(db->conn, stmt->sql, nparams, NULL, params, NULL, NULL, 0);
  }
  if (!fd_db_ok(res)) {
    log_failure(stmt->name, res, db->conn);
    if (PQstatus(db->conn) != CONNECTION_OK) memset(db->prepared, 0, sizeof db->prepared);
  }
  if (!res) return NULL;
  return res;
}

PGresult *fd_db_exec(struct fd_db *db, struct fd_stmt *stmt, int nparams, const char *const *params) {
  return exec(db, stmt, nparams, params, true);
}

PGresult *fd_db_exec_replanned(struct fd_db *db, struct fd_stmt *stmt, int nparams, const char *const *params) {
  return exec(db, stmt, nparams, params, false);
}

bool fd_db_run(struct fd_db *db, const char *sql, char *err, size_t errlen) {
  if (!db->conn) {
    if (err) snprintf(err, errlen, "not connected");
    return false;
  }
  PGresult *res = PQexec(db->conn, sql);
  bool ok = fd_db_ok(res);
  if (!ok) {
    if (err) snprintf(err, errlen, "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
    log_failure("sql", res, db->conn);
  }
  PQclear(res);
  return ok;
}

void fd_pool_stats(struct fd_pool *pool, int *size, int *in_use, long *waits, long *errors) {
  pthread_mutex_lock(&pool->lock);
  *size = pool->size;
  *in_use = pool->in_use;
  *waits = pool->waits;
  pthread_mutex_unlock(&pool->lock);
  *errors = fd_db_error_count();
}
