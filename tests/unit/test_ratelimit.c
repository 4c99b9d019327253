/* test_ratelimit.c — token buckets: burst, refill, per key, off when rps = 0. */
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

int main(void) {
  RUN(test_burst_then_refill);
  RUN(test_off_and_oversized);
  return unit_report();
}
