/* health.c — GET /healthz (process alive) and GET /readyz (database answers, the schema
 * is current and its applied migrations match the ones compiled in). */
#include <stdio.h>

#include "api/api.h"
#include "api/app.h"
#include "db/migrate.h"
#include "db/pool.h"
#include "http/reply.h"

void fd_api_healthz(struct fd_request *req) { fd_reply_json(req, 200, json_pack("{s:s}", "status", "ok")); }

void fd_api_readyz(struct fd_request *req) {
  const struct fd_api_app *app = fd_api_app_of(req);
  struct fd_db *db = fd_pool_get(app->pool, 1000);
  if (!db) {
    fd_reply_json(req, 503, json_pack("{s:s, s:s}", "status", "unavailable", "database", "unreachable"));
    return;
  }
  int have = 0, want = 0;
  bool mismatch = false;
  char err[1024];
  bool ok = fd_migrate_versions(db, &have, &want);
  if (ok && !fd_migrate_verify(db, &mismatch, err, sizeof err)) ok = mismatch;
  fd_pool_put(app->pool, db);
  if (!ok) {
    fd_reply_json(req, 503, json_pack("{s:s, s:s}", "status", "unavailable", "database", "unreachable"));
  } else if (mismatch) {
    fd_reply_json(req, 503, json_pack("{s:s, s:s}", "status", "migration_checksum_mismatch", "error", err));
  } else if (have < want) {
    fd_reply_json(
        req, 503,
        json_pack("{s:s, s:i, s:i}", "status", "migrations_pending", "schema_version", have, "expected_version", want));
  } else {
    fd_reply_json(req, 200, json_pack("{s:s, s:i}", "status", "ok", "schema_version", have));
  }
}
