/* cors.c — CORS preflights and response headers (rules in cors.h). */
#include "http/cors.h"

#include <string.h>

#include "db/pool.h"
#include "db/projects_db.h"
#include "http/reply.h"

#define EXPOSED "X-Request-Id, X-Export-Id, X-Export-Watermark, Retry-After, Content-Disposition"

void fd_cors_preflight(struct fd_request *req, struct fd_pool *pool, const char *allow_methods) {
  if (!req->origin) {
    /* not a browser preflight: just say what the route allows */
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Allow", allow_methods);
    fd_reply_response(req, 204, r);
    return;
  }
  struct fd_db *db = fd_pool_get(pool, FD_POOL_REQUEST_WAIT_MS);
  if (!db) {
    fd_reply_unavailable(req, "the database is unavailable");
    return;
  }
  enum fd_db_status allowed = fd_projects_any_allows_origin(db, req->origin);
  fd_pool_put(pool, db);
  if (fd_db_failed(allowed)) {
    fd_reply_db_failure(req, allowed);
    return;
  }
  if (allowed == FD_DB_NONE) {
    fd_reply_error(req, FD_ERR_FORBIDDEN, NULL, "origin %s is not allowed by any project", req->origin);
    return;
  }
  struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(r, "Access-Control-Allow-Origin", req->origin);
  MHD_add_response_header(r, "Access-Control-Allow-Methods", allow_methods);
  MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key");
  MHD_add_response_header(r, "Access-Control-Max-Age", "600");
  MHD_add_response_header(r, "Vary", "Origin");
  req->origin = NULL; /* headers set here; keep fd_cors_add_headers from adding them twice */
  fd_reply_response(req, 204, r);
}

void fd_cors_add_headers(struct fd_request *req, struct MHD_Response *resp, unsigned int status) {
  if (!req->origin) return;
  /* A 401 or 403 carries no data; letting the page read it lets a widget say "bad key" or
   * "origin not allowed" and stop retrying. Otherwise only the key's own project's origins
   * may read the reply. */
  bool ok =
      status == 401 || status == 403 || (req->authed && fd_cors_origin_allowed(req->auth.allowed_origins, req->origin));
  if (!ok) return;
  MHD_add_response_header(resp, "Access-Control-Allow-Origin", req->origin);
  MHD_add_response_header(resp, "Access-Control-Expose-Headers", EXPOSED);
  MHD_add_response_header(resp, "Vary", "Origin");
}
