/* test_queue.c — the ingest queue: bound in rows, FIFO, batch-sized takes, db_down and
 * close refusing submissions, close releasing a waiting writer. */
#include <pthread.h>

#include "ingest/queue.h"
#include "unit.h"

static struct fd_ingest_job job_of(size_t events) {
  struct fd_ingest_job j;
  memset(&j, 0, sizeof j);
  j.n_events = events;
  return j;
}

static void test_bound_and_order(void) {
  struct fd_queue q;
  fd_queue_init(&q, 10);
  struct fd_ingest_job a = job_of(4), b = job_of(4), c = job_of(4), big = job_of(50);
  CHECK(fd_queue_push(&q, &a));
  CHECK(fd_queue_push(&q, &b));
  CHECK(!fd_queue_push(&q, &c)); /* 12 rows > 10 */
  CHECK(q.rows == 8);
  /* a take of at most 5 rows returns a alone (b does not fit), in FIFO order */
  struct fd_ingest_job *t = fd_queue_take(&q, 5, 0);
  CHECK(t == &a && t->next_ == NULL);
  t = fd_queue_take(&q, 100, 0);
  CHECK(t == &b && t->next_ == NULL);
  CHECK(q.rows == 0);
  /* an oversized job still enters an empty queue, so it is never refused forever */
  CHECK(fd_queue_push(&q, &big));
  t = fd_queue_take(&q, 5, 0);
  CHECK(t == &big);
  fd_queue_destroy(&q);
}

static void test_batches(void) {
  struct fd_queue q;
  fd_queue_init(&q, 100);
  struct fd_ingest_job j[6];
  for (int i = 0; i < 6; i++) {
    j[i] = job_of(2);
    CHECK(fd_queue_push(&q, &j[i]));
  }
  struct fd_ingest_job *t = fd_queue_take(&q, 6, 1);
  int n = 0;
  for (; t; t = t->next_) n++;
  CHECK(n == 3); /* 3 jobs of 2 rows fill a batch of 6 */
  fd_queue_destroy(&q);
}

static void test_refusals(void) {
  struct fd_queue q;
  fd_queue_init(&q, 100);
  struct fd_ingest_job a = job_of(1);
  q.db_down = true;
  CHECK(!fd_queue_push(&q, &a));
  q.db_down = false;
  fd_queue_close(&q);
  CHECK(!fd_queue_push(&q, &a));
  CHECK(fd_queue_take(&q, 10, 0) == NULL); /* closed and empty: writers exit */
  fd_queue_destroy(&q);
}

static void *taker(void *arg) { return fd_queue_take(arg, 10, 0); }

static void test_close_wakes_writer(void) {
  struct fd_queue q;
  fd_queue_init(&q, 100);
  pthread_t t;
  pthread_create(&t, NULL, taker, &q);
  fd_queue_close(&q);
  void *got = &q;
  pthread_join(t, &got);
  CHECK(got == NULL);
  fd_queue_destroy(&q);
}

int main(void) {
  RUN(test_bound_and_order);
  RUN(test_batches);
  RUN(test_refusals);
  RUN(test_close_wakes_writer);
  return unit_report();
}
