/* ratelimit.c — token buckets in a fixed table keyed by API key id. A collision simply
 * shares a bucket between two keys until one of them goes idle; the table is large
 * enough for that to be rare, and it keeps memory bounded whatever the traffic. */
#include "http/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "http/request.h"

#define SLOTS 4096

struct bucket {
  char key_id[40];
  double tokens;
  uint64_t updated_us;
};

static struct bucket buckets[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const char *key) {
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char *p = (const unsigned char *)key; *p; p++) h = (h ^ *p) * 1099511628211ULL;
  return h % SLOTS;
}

bool fd_ratelimit_take(const char *key_id, double rps, double burst, double cost, int *retry_after_s) {
  if (rps <= 0) return true;
  if (burst < 1) burst = rps < 1 ? 1 : rps;
  uint64_t now = fd_now_us();
  bool ok;
  pthread_mutex_lock(&lock);
  struct bucket *b = &buckets[slot_of(key_id)];
  if (strcmp(b->key_id, key_id) != 0) {
    strncpy(b->key_id, key_id, sizeof b->key_id - 1);
    b->key_id[sizeof b->key_id - 1] = '\0';
    b->tokens = burst;
    b->updated_us = now;
  }
  b->tokens = fmin(burst, b->tokens + (double)(now - b->updated_us) / 1e6 * rps);
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
