/* auth.c — key authentication with a one-second cache (see auth.h). */
#include "http/auth.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "db/keys_db.h"
#include "db/pool.h"
#include "http/bearer.h"
#include "util/crypto.h"

#define CACHE_SLOTS 1024
#define CACHE_TTL_US 1000000ULL

struct cache_entry {
  unsigned char sha[FD_SHA256_LEN];
  uint64_t expires_us;
  bool used;
  bool found; /* unknown keys are cached too, so a flood of bad keys costs one query/s each */
  struct fd_key_info info;
};

static struct cache_entry cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const unsigned char *sha) {
  size_t h;
  memcpy(&h, sha, sizeof h);
  return h % CACHE_SLOTS;
}

/* 1 hit (info copied, origins deep-copied), 0 miss */
static int cache_get(const unsigned char *sha, struct fd_key_info *info, bool *found) {
  int hit = 0;
  uint64_t now = fd_now_us();
  pthread_mutex_lock(&cache_lock);
  struct cache_entry *e = &cache[slot_of(sha)];
  if (e->used && e->expires_us > now && fd_const_time_eq(e->sha, sha, FD_SHA256_LEN)) {
    hit = 1;
    *found = e->found;
    *info = e->info;
    /* shared, not copied: nothing writes to an origins list once it is cached, and
     * jansson's reference counts are atomic, so a request keeps the list alive even when
     * the entry is replaced meanwhile */
    info->allowed_origins = json_incref(e->info.allowed_origins);
  }
  pthread_mutex_unlock(&cache_lock);
  return hit;
}

static void cache_put(const unsigned char *sha, const struct fd_key_info *info, bool found) {
  pthread_mutex_lock(&cache_lock);
  struct cache_entry *e = &cache[slot_of(sha)];
  if (e->used) json_decref(e->info.allowed_origins);
  memcpy(e->sha, sha, FD_SHA256_LEN);
  e->used = true;
  e->found = found;
  e->expires_us = fd_now_us() + CACHE_TTL_US;
  if (found) {
    e->info = *info;
    e->info.allowed_origins = json_incref(info->allowed_origins); /* read-only from here on */
  } else {
    memset(&e->info, 0, sizeof e->info);
  }
  pthread_mutex_unlock(&cache_lock);
}

void fd_auth_forget_project(int64_t project_id) {
  pthread_mutex_lock(&cache_lock);
  for (size_t i = 0; i < CACHE_SLOTS; i++) {
    struct cache_entry *e = &cache[i];
    /* unknown keys too: a key created here must work at once */
    if (e->used && (!e->found || e->info.project_id == project_id)) {
      json_decref(e->info.allowed_origins);
      memset(e, 0, sizeof *e);
    }
  }
  pthread_mutex_unlock(&cache_lock);
}

bool fd_auth_has_scope(const struct fd_auth *auth, unsigned scope) { return fd_scopes_allow(auth->scopes, scope); }

void fd_auth_clear(struct fd_auth *auth) {
  json_decref(auth->allowed_origins);
  auth->allowed_origins = NULL;
}

enum fd_auth_result fd_auth_request(struct fd_request *req, struct fd_pool *pool) {
  size_t len;
  const char *key = fd_bearer_key(fd_request_header(req, "Authorization"), &len);
  if (!key) return FD_AUTH_UNAUTHORIZED;
  unsigned char sha[FD_SHA256_LEN];
  fd_sha256(key, len, sha);
  struct fd_key_info info;
  bool found = false;
  if (!cache_get(sha, &info, &found)) {
    struct fd_db *db = fd_pool_get(pool, FD_POOL_REQUEST_WAIT_MS);
    if (!db) return FD_AUTH_UNAVAILABLE;
    enum fd_db_status st = fd_keys_lookup(db, sha, &info);
    fd_pool_put(pool, db);
    if (fd_db_failed(st)) return FD_AUTH_UNAVAILABLE;
    found = st == FD_DB_ONE;
    cache_put(sha, &info, found);
  }
  if (!found || info.revoked) {
    if (found) json_decref(info.allowed_origins);
    return FD_AUTH_UNAUTHORIZED;
  }
  req->auth.project_id = info.project_id;
  snprintf(req->auth.project_slug, sizeof req->auth.project_slug, "%s", info.project_slug);
  snprintf(req->auth.key_id, sizeof req->auth.key_id, "%s", info.key_id);
  req->auth.scopes = info.scopes;
  req->auth.allowed_origins = info.allowed_origins;
  req->authed = true;
  return FD_AUTH_OK;
}
