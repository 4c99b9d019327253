/* test_ratelimit.c — token buckets: burst, refill, per key, off when rps = 0, keys that
 * share a slot of the fixed table never reset each other, and the effective burst. */
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "http/ratelimit.h"
#include "unit.h"

static void test_burst_then_refill(void) {
  int after = 0;
  CHECK(fd_ratelimit_take("k1", 10, 3, 1, &after));
  CHECK(fd_ratelimit_take("k1", 10, 3, 1, &after));
  CHECK(fd_ratelimit_take("k1", 10, 3, 1, &after));
  CHECK(!fd_ratelimit_take("k1", 10, 3, 1, &after));
  CHECK(after >= 1);
  CHECK(fd_ratelimit_take("k2", 10, 3, 3, &after)); /* another key has its own bucket */
  usleep(250000);                                   /* 0.25 s at 10/s: 2.5 tokens back */
  CHECK(fd_ratelimit_take("k1", 10, 3, 2, &after));
  CHECK(!fd_ratelimit_take("k1", 10, 3, 1, &after));
}

static void test_off_and_oversized(void) {
  int after = 0;
  for (int i = 0; i < 1000; i++) CHECK(fd_ratelimit_take("k3", 0, 0, 5, &after));
  /* a batch larger than the burst passes when the bucket is full, then waits */
  CHECK(fd_ratelimit_take("k4", 1, 2, 50, &after));
  CHECK(!fd_ratelimit_take("k4", 1, 2, 50, &after));
  CHECK(after == 2);
}

/* 1000 keys in a table of a few thousand buckets: by the birthday bound over a hundred pairs
 * share a hash slot. Every drained key must stay drained while the others are drained. */
static void test_colliding_keys_keep_their_buckets(void) {
  int after = 0;
  char key[40];
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "collide-%d", i);
    for (int t = 0; t < 3; t++) CHECK(fd_ratelimit_take(key, 0.001, 3, 1, &after));
  }
  int refused = 0;
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "collide-%d", i);
    refused += !fd_ratelimit_take(key, 0.001, 3, 1, &after);
  }
  CHECK(refused == 1000);
}

/* More busy keys than the table holds: a drained key is the last to lose its bucket, so a
 * flood of other keys cannot hand it a fresh burst. */
static void test_flood_does_not_reset_a_drained_key(void) {
  int after = 0;
  for (int t = 0; t < 3; t++) CHECK(fd_ratelimit_take("drained", 0.001, 3, 1, &after));
  CHECK(!fd_ratelimit_take("drained", 0.001, 3, 1, &after));
  char key[40];
  for (int i = 0; i < 20000; i++) {
    snprintf(key, sizeof key, "flood-%d", i);
    CHECK(fd_ratelimit_take(key, 0.001, 3, 1, &after));
  }
  CHECK(!fd_ratelimit_take("drained", 0.001, 3, 1, &after));
}

/* The bucket size a request must fit in (ingest answers 413 above it). */
static void test_effective_burst(void) {
  CHECK(isinf(fd_ratelimit_burst(0, 5))); /* off */
  CHECK(fd_ratelimit_burst(1, 5) == 5);
  CHECK(fd_ratelimit_burst(20, 0) == 20); /* 0: the rate */
  CHECK(fd_ratelimit_burst(0.5, 0) == 1); /* at least one */
}

int main(void) {
  RUN(test_burst_then_refill);
  RUN(test_off_and_oversized);
  RUN(test_colliding_keys_keep_their_buckets);
  RUN(test_flood_does_not_reset_a_drained_key);
  RUN(test_effective_burst);
  return unit_report();
}
