/* app.h — what the handlers share: the configuration, the connection pool and the ingest
 * pipeline. `feedbackd serve` (cli/serve_cmd.c) builds one before the HTTP daemon starts and
 * hands it to the daemon (fd_http_deps.app), which gives it to every request as req->app.
 * Read-only while the daemon runs (the objects it points to are thread-safe). */
#ifndef FD_API_APP_H
#define FD_API_APP_H

#include "core/limits.h"
#include "http/request.h"
#include "util/config.h"

struct fd_db;
struct fd_pool;
struct fd_ingest;
struct fd_export_service;
struct fd_parse_service;

struct fd_api_app {
  const struct fd_config *cfg;
  struct fd_pool *pool;              /* request handlers' connections */
  struct fd_pool *read_pool;         /* read_database_url's (a hot standby), or NULL: reads use pool */
  struct fd_ingest *ingest;          /* queue + writer threads (server/pipeline) */
  struct fd_export_service *exports; /* HTTP exports' worker threads and limits (api/export_stream.h) */
  struct fd_parse_service *parse;    /* large ingest bodies' validation threads, or NULL (api/parse_offload.h) */
  struct fd_limits limits;           /* from cfg, for the validators */
  const char *conninfo;              /* for handlers that open their own connection (exports) */
};

/* The application a request is served for. */
static inline const struct fd_api_app *fd_api_app_of(const struct fd_request *req) { return req->app; }

/* A pool connection for this request, waited for at most FD_POOL_REQUEST_WAIT_MS
 * (db/pool.h). NULL after replying 503 unavailable: the handler just returns. */
struct fd_db *fd_api_db_get(struct fd_request *req) __attribute__((warn_unused_result));

/* A connection for a read-only request (GET /v1/feedback, /v1/stats, leaderboard, agreement).
 * Without read_database_url: fd_api_db_get. With it: a standby connection once the standby
 * has replayed the primary's WAL up to the moment of this call (waited for at most
 * FD_READ_REPLAY_WAIT_MS), so a read sees every event acknowledged before it; if the standby
 * lags longer or is unreachable, a primary connection (docs/operations.md "Read routing").
 * NULL after replying 503. Give it back with fd_api_db_put. */
#define FD_READ_REPLAY_WAIT_MS 1000
struct fd_db *fd_api_read_db_get(struct fd_request *req) __attribute__((warn_unused_result));

/* Give back a connection from fd_api_db_get or fd_api_read_db_get. NULL ok. */
void fd_api_db_put(struct fd_request *req, struct fd_db *db);

#endif
