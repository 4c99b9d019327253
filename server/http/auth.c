/* auth.c — key authentication with a one-second cache (see auth.h). */
#include "http/auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The keys that exist, as the first 8 bytes of their hash, at most KNOWN_TTL_US old, so that
 * a flood of made-up keys (a new one per request defeats any cache of answers) costs no
 * query per request: a key whose prefix is not in the set gets its full lookup only while
 * the second's small budget (MISS_LOOKUPS_PER_S) lasts (that lets a key just created by
 * another process work at once in the ordinary case); past it, it is refused unasked. The
 * set is reloaded when older than a second (one query per second per replica at most, none
 * when idle), so a new key is refused for at most a second even under a flood; one created
 * here drops the set at once (fd_auth_forget_project). 8 bytes per key: a million keys
 * take 8 MB. A prefix that matches goes on to the full lookup. */
#define KNOWN_TTL_US 1000000ULL
#define MISS_LOOKUPS_PER_S 10

static struct {
  pthread_mutex_t lock;
  uint64_t *prefixes; /* sorted */
  size_t n;
  uint64_t loaded_us; /* of the last attempt, successful or not */
  bool valid;         /* the last attempt succeeded */
  bool forgotten;     /* reload before the next use */
  uint64_t miss_window_us;
  int miss_lookups; /* full lookups of keys not in the set, in the second from miss_window_us */
} known = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t prefix_of(const unsigned char *sha) {
  uint64_t p = 0;
  for (int i = 0; i < 8; i++) p = p << 8 | sha[i];
  return p;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* false only when the key surely does not exist; true when it may (or the set could not be
 * loaded: then the full lookup decides, as it would without the set). */
static bool key_may_exist(struct fd_pool *pool, const unsigned char *sha) {
  bool may = true;
  pthread_mutex_lock(&known.lock);
  uint64_t now = fd_now_us();
  if (known.forgotten || known.loaded_us == 0 || now - known.loaded_us >= KNOWN_TTL_US) {
    struct fd_db *db = fd_pool_get(pool, FD_POOL_REQUEST_WAIT_MS);
    uint64_t *v = NULL;
    size_t n = 0;
    bool ok = db && !fd_db_failed(fd_keys_active_prefixes(db, &v, &n));
    if (db) fd_pool_put(pool, db);
    if (ok) {
      qsort(v, n, sizeof *v, cmp_u64);
      free(known.prefixes);
      known.prefixes = v;
      known.n = n;
    }
    known.valid = ok; /* after a failure the full lookups decide, and the next try is in a second */
    known.loaded_us = now;
    known.forgotten = false;
  }
  if (known.valid) {
    uint64_t p = prefix_of(sha);
    may = bsearch(&p, known.prefixes, known.n, sizeof p, cmp_u64) != NULL;
    if (!may) {
      if (now - known.miss_window_us >= 1000000ULL) {
        known.miss_window_us = now;
        known.miss_lookups = 0;
      }
      may = known.miss_lookups++ < MISS_LOOKUPS_PER_S;
    }
  }
  pthread_mutex_unlock(&known.lock);
  return may;
}

void fd_auth_forget_project(int64_t project_id) {
  pthread_mutex_lock(&known.lock);
  known.forgotten = true; /* a key created here must work at once */
  pthread_mutex_unlock(&known.lock);
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
    if (!key_may_exist(pool, sha)) return FD_AUTH_UNAUTHORIZED;
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
