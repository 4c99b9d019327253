/* ratelimit.c — token buckets in a fixed table keyed by API key id.
 *
 * The table is set-associative: a key hashes to a set of WAYS buckets, each holding the key
 * it belongs to. A key keeps its bucket while it has one; a newcomer to a full set takes the
 * bucket that has the most tokens (after refill). A bucket that has refilled to the burst is
 * indistinguishable from a fresh one, so evicting it loses nothing; only when every bucket of
 * a set is partly spent (WAYS keys of one set busy at once) does a key get a fresh bucket
 * early, and then the one closest to full. A drained key is the last one evicted, so
 * no other key can reset it. Memory stays bounded whatever the traffic. */
#include "http/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "http/request.h"

#define SETS 1024
#define WAYS 8

struct bucket {
  char key_id[40]; /* "" = unused */
  double tokens;
  uint64_t updated_us;
};

static struct bucket buckets[SETS][WAYS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static size_t set_of(const char *key) {
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char *p = (const unsigned char *)key; *p; p++) h = (h ^ *p) * 1099511628211ULL;
  return h % SETS;
}

/* The tokens b would hold at `now`; an unused bucket counts as more than any used one. */
static double tokens_at(const struct bucket *b, double rps, double burst, uint64_t now) {
  if (!b->key_id[0]) return HUGE_VAL;
  return now > b->updated_us ? fmin(burst, b->tokens + (double)(now - b->updated_us) / 1e6 * rps) : b->tokens;
}

/* The key's bucket, or the one it takes over (see the top of the file). Key ids longer than
 * the slot (never: they are UUIDs) share a bucket by their prefix, which never resets one. */
static struct bucket *bucket_for(const char *key_id, double rps, double burst, uint64_t now) {
  struct bucket *set = buckets[set_of(key_id)], *victim = NULL;
  double victim_tokens = -1;
  for (int i = 0; i < WAYS; i++) {
    struct bucket *b = &set[i];
    if (b->key_id[0] && strncmp(b->key_id, key_id, sizeof b->key_id - 1) == 0) return b;
    double t = tokens_at(b, rps, burst, now);
    if (t > victim_tokens) {
      victim = b;
      victim_tokens = t;
    }
  }
  strncpy(victim->key_id, key_id, sizeof victim->key_id - 1);
  victim->key_id[sizeof victim->key_id - 1] = '\0';
  victim->tokens = burst;
  victim->updated_us = now;
  return victim;
}

double fd_ratelimit_burst(double rps, double burst) {
  if (rps <= 0) return HUGE_VAL;
  return burst >= 1 ? burst : rps < 1 ? 1 : rps;
}

bool fd_ratelimit_take(const char *key_id, double rps, double burst, double cost, int *retry_after_s) {
  if (rps <= 0) return true;
  burst = fd_ratelimit_burst(rps, burst);
  uint64_t now = fd_now_us();
  bool ok;
  pthread_mutex_lock(&lock);
  struct bucket *b = bucket_for(key_id, rps, burst, now);
  b->tokens = tokens_at(b, rps, burst, now);
  b->updated_us = now;
  /* a request bigger than the burst can never pass: let it through when the bucket is full */
  double need = fmin(cost, burst);
  ok = b->tokens >= need;
  if (ok) {
    b->tokens -= need;
  } else {
    *retry_after_s = (int)ceil((need - b->tokens) / rps);
    if (*retry_after_s < 1) *retry_after_s = 1;
  }
  pthread_mutex_unlock(&lock);
  return ok;
}
