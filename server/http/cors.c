/* cors.c — CORS preflights and response headers (rules in cors.h). */
#include "http/cors.h"

#include <pthread.h>
#include <string.h>

#include "db/pool.h"
#include "db/projects_db.h"
#include "http/reply.h"

#define EXPOSED "X-Request-Id, X-Export-Id, X-Export-Watermark, Retry-After, Content-Disposition"

/* Every origin some project allows, kept for at most ORIGINS_TTL_US: a preflight carries no
 * key, so without it every OPTIONS from any page on the web would cost a query on an HTTP
 * thread. One thread reloads the set when it is older than that (one query per second
 * per replica at most, none when idle); a change made on this replica drops it at once
 * (fd_cors_forget_origins), other replicas see it within a second. */
#define ORIGINS_TTL_US 1000000ULL

static struct {
  pthread_mutex_t lock;
  json_t *set; /* origin -> true; NULL until loaded */
  bool any;    /* some project allows "*" */
  uint64_t loaded_us;
  bool stale; /* forgotten: reload before the next use */
} origins = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool origins_reload(struct fd_pool *pool) {
  struct fd_db *db = fd_pool_get(pool, FD_POOL_REQUEST_WAIT_MS);
  if (!db) return false;
  json_t *list = NULL;
  if (fd_db_failed(fd_projects_all_origins(db, &list))) list = NULL;
  fd_pool_put(pool, db);
  json_t *set = list ? json_object() : NULL;
  bool any = false;
  size_t i;
  json_t *v;
  json_array_foreach(list, i, v) {
    const char *o = json_string_value(v);
    if (!o) continue;
    any = any || strcmp(o, "*") == 0;
    json_object_set_new(set, o, json_true());
  }
  json_decref(list);
  if (!set) return false;
  json_decref(origins.set);
  origins.set = set;
  origins.any = any;
  origins.loaded_us = fd_now_us();
  origins.stale = false;
  return true;
}

int fd_cors_origin_known(struct fd_pool *pool, const char *origin) {
  pthread_mutex_lock(&origins.lock);
  bool fresh = origins.set && !origins.stale && fd_now_us() - origins.loaded_us < ORIGINS_TTL_US;
  if (!fresh && !origins_reload(pool) && origins.set) {
    /* the database is unreachable: origin lists change rarely, so the last set serves
     * until it is back, and the next attempt waits a second instead of every preflight
     * waiting for a connection under this lock */
    origins.loaded_us = fd_now_us();
    origins.stale = false;
  }
  int out = origins.set ? origins.any || json_object_get(origins.set, origin) != NULL : -1;
  pthread_mutex_unlock(&origins.lock);
  return out;
}

void fd_cors_forget_origins(void) {
  pthread_mutex_lock(&origins.lock);
  origins.stale = true;
  pthread_mutex_unlock(&origins.lock);
}

void fd_cors_preflight(struct fd_request *req, struct fd_pool *pool, const char *allow_methods) {
  if (!req->origin) {
    /* not a browser preflight: just say what the route allows */
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Allow", allow_methods);
    fd_reply_response(req, 204, r);
    return;
  }
  int allowed = fd_cors_origin_known(pool, req->origin);
  if (allowed < 0) {
    fd_reply_unavailable(req, "the database is unavailable");
    return;
  }
  if (!allowed) {
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
  /* Only the key's own project's origins may read a reply, its 403s included. A 401 has no
   * project: the daemon keeps req->origin for it only when some project allows that origin
   * (fd_cors_origin_known), so a widget on a page its preflight admitted can say "bad key"
   * and stop retrying, while any other page learns nothing. */
  bool ok = req->authed ? fd_cors_origin_allowed(req->auth.allowed_origins, req->origin) : status == 401;
  if (!ok) return;
  MHD_add_response_header(resp, "Access-Control-Allow-Origin", req->origin);
  MHD_add_response_header(resp, "Access-Control-Expose-Headers", EXPOSED);
  MHD_add_response_header(resp, "Vary", "Origin");
}
