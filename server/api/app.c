/* app.c — pool connections for handlers (see app.h). */
#include "api/app.h"

#include "db/pool.h"
#include "db/replica_db.h"
#include "http/reply.h"
#include "util/log.h"

struct fd_db *fd_api_db_get(struct fd_request *req) {
  struct fd_db *db = fd_pool_get(fd_api_app_of(req)->pool, FD_POOL_REQUEST_WAIT_MS);
  if (!db) fd_reply_unavailable(req, "the database is unavailable");
  return db;
}

struct fd_db *fd_api_read_db_get(struct fd_request *req) {
  const struct fd_api_app *app = fd_api_app_of(req);
  if (!app->read_pool) return fd_api_db_get(req);
  /* the primary's WAL position now: every event acknowledged before this request is below it */
  struct fd_db *primary = fd_api_db_get(req);
  if (!primary) return NULL;
  char lsn[64];
  enum fd_db_status st = fd_replica_primary_lsn(primary, lsn, sizeof lsn);
  if (fd_db_failed(st)) {
    fd_api_db_put(req, primary);
    fd_reply_db_failure(req, st);
    return NULL;
  }
  /* the primary connection is held while we wait: if the standby lags, the read falls back
   * to it without queueing for the pool again */
  struct fd_db *standby = fd_pool_get(app->read_pool, FD_POOL_REQUEST_WAIT_MS);
  if (standby && fd_replica_wait_replayed(standby, lsn, FD_READ_REPLAY_WAIT_MS)) {
    fd_api_db_put(req, primary);
    fd_log(FD_LOG_DEBUG, "msg=\"read routed\" to=standby lsn=%s", lsn);
    return standby;
  }
  if (standby) fd_pool_put(app->read_pool, standby);
  fd_log(FD_LOG_INFO, "msg=\"read routed\" to=primary reason=\"standby %s\" lsn=%s",
         standby ? "has not replayed in time" : "unavailable", lsn);
  return primary;
}

void fd_api_db_put(struct fd_request *req, struct fd_db *db) {
  const struct fd_api_app *app = fd_api_app_of(req);
  fd_pool_put(fd_pool_owns(app->read_pool, db) ? app->read_pool : app->pool, db);
}
