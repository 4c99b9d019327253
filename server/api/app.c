/* app.c — pool connections for handlers (see app.h). */
#include "api/app.h"

#include "db/pool.h"
#include "http/reply.h"

struct fd_db *fd_api_db_get(struct fd_request *req) {
  struct fd_db *db = fd_pool_get(fd_api_app_of(req)->pool, FD_POOL_REQUEST_WAIT_MS);
  if (!db) fd_reply_unavailable(req, "the database is unavailable");
  return db;
}

void fd_api_db_put(struct fd_request *req, struct fd_db *db) { fd_pool_put(fd_api_app_of(req)->pool, db); }
