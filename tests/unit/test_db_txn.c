/* test_db_txn.c — the retry policy of the transaction runner (db/txn.h), which needs no
 * database: which outcomes are run again, how often, and how long the pauses are.
 *
 * Expected pauses are written out from the documented rule (2 ms doubled per attempt, at most
 * 20 ms, jittered within [half, all]), not computed with the code's arithmetic. */
#include "db/txn.h"
#include "unit.h"

static void test_only_soft_errors_are_retried(void) {
  CHECK(fd_txn_should_retry(FD_DB_SOFT_ERROR, 1));
  CHECK(!fd_txn_should_retry(FD_DB_HARD_ERROR, 1));
  CHECK(!fd_txn_should_retry(FD_DB_UNAVAILABLE, 1));
  CHECK(!fd_txn_should_retry(FD_DB_NONE, 1));
  CHECK(!fd_txn_should_retry(FD_DB_ONE, 1));
  CHECK(!fd_txn_should_retry((enum fd_db_status)7, 1)); /* seven rows written */
}

static void test_attempts_are_bounded(void) {
  /* four attempts in all: retried after the first three, not after the fourth */
  CHECK(fd_txn_should_retry(FD_DB_SOFT_ERROR, 2));
  CHECK(fd_txn_should_retry(FD_DB_SOFT_ERROR, 3));
  CHECK(!fd_txn_should_retry(FD_DB_SOFT_ERROR, 4));
  CHECK(!fd_txn_should_retry(FD_DB_SOFT_ERROR, 5));
  CHECK(!fd_txn_should_retry(FD_DB_SOFT_ERROR, 0)); /* no attempt 0 */
  /* the runner's loop, replayed: a transaction that always conflicts runs exactly 4 times */
  int runs = 0;
  for (int n = 1;; n++) {
    runs++;
    if (!fd_txn_should_retry(FD_DB_SOFT_ERROR, n)) break;
  }
  CHECK(runs == 4);
}

static void test_backoff_doubles_within_jitter_bounds(void) {
  /* random 0 gives the lower bound (half), a random just below the span's size the upper */
  CHECK(fd_txn_backoff_us(1, 0) == 1000);
  CHECK(fd_txn_backoff_us(1, 1000) == 2000);
  CHECK(fd_txn_backoff_us(1, 1001) == 1000); /* wraps: never above the bound */
  CHECK(fd_txn_backoff_us(2, 0) == 2000);
  CHECK(fd_txn_backoff_us(2, 2000) == 4000);
  CHECK(fd_txn_backoff_us(3, 0) == 4000);
  CHECK(fd_txn_backoff_us(3, 4000) == 8000);
  CHECK(fd_txn_backoff_us(4, 0) == 8000);
  CHECK(fd_txn_backoff_us(4, 8000) == 16000);
}

static void test_backoff_is_capped(void) {
  CHECK(fd_txn_backoff_us(5, 0) == 10000); /* 32 ms capped at 20 ms */
  CHECK(fd_txn_backoff_us(5, 10000) == 20000);
  CHECK(fd_txn_backoff_us(40, 0) == 10000); /* no overflow from many doublings */
  CHECK(fd_txn_backoff_us(1000, UINT64_MAX) <= 20000);
}

static void test_backoff_covers_its_whole_range(void) {
  /* every random value lands in [1000, 2000] for attempt 1, and both ends are reached */
  unsigned lo = 1u << 30, hi = 0;
  for (uint64_t r = 0; r < 5000; r++) {
    unsigned us = fd_txn_backoff_us(1, r * 2654435761u);
    lo = us < lo ? us : lo;
    hi = us > hi ? us : hi;
  }
  CHECK(lo >= 1000 && hi <= 2000);
  CHECK(lo < 1010 && hi > 1990);
}

int main(void) {
  RUN(test_only_soft_errors_are_retried);
  RUN(test_attempts_are_bounded);
  RUN(test_backoff_doubles_within_jitter_bounds);
  RUN(test_backoff_is_capped);
  RUN(test_backoff_covers_its_whole_range);
  return unit_report();
}
