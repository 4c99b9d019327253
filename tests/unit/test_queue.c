/* test_queue.c — the ingest queue: bound in rows, FIFO, batch-sized takes, db_down and
 * close refusing submissions, taking every queued job at once, close releasing a waiting writer, and the wake-ups: a
 * filling writer is woken only by a full batch, and no job is ever left without a writer. */
#include <pthread.h>
#include <time.h>

#include "pipeline/queue.h"
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
  CHECK(fd_queue_rows(&q) == 8);
  /* a take of at most 5 rows returns a alone (b does not fit), in FIFO order */
  struct fd_ingest_job *t = fd_queue_take(&q, 5, 0);
  CHECK(t == &a && t->next_ == NULL);
  t = fd_queue_take(&q, 100, 0);
  CHECK(t == &b && t->next_ == NULL);
  CHECK(fd_queue_rows(&q) == 0);
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
  struct fd_ingest_job a = job_of(1), b = job_of(2), c = job_of(3);
  CHECK(fd_queue_push(&q, &b));
  CHECK(fd_queue_push(&q, &c));
  CHECK(!fd_queue_waits_for_db(&q));
  fd_queue_set_db_down(&q, true);
  CHECK(fd_queue_waits_for_db(&q));
  CHECK(!fd_queue_push(&q, &a));
  /* what was queued before goes to the writer that answers it 503, in order */
  struct fd_ingest_job *all = fd_queue_take_all(&q);
  CHECK(all == &b && b.next_ == &c && c.next_ == NULL);
  CHECK(fd_queue_rows(&q) == 0 && fd_queue_take_all(&q) == NULL);
  fd_queue_close(&q);
  CHECK(!fd_queue_waits_for_db(&q)); /* closing: writers stop probing and exit */
  fd_queue_set_db_down(&q, false);
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

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct timed_take {
  struct fd_queue *q;
  long max_rows;
  int wait_ms;
  struct fd_ingest_job *got;
  double seconds;
};

static void *timed_taker(void *arg) {
  struct timed_take *t = arg;
  double t0 = now_s();
  t->got = fd_queue_take(t->q, t->max_rows, t->wait_ms);
  t->seconds = now_s() - t0;
  return NULL;
}

static int list_len(const struct fd_ingest_job *j) {
  int n = 0;
  for (; j; j = j->next_) n++;
  return n;
}

/* wait until the taker is filling (it took the first job and waits for more) */
static void until_filling(struct fd_queue *q) {
  for (;;) {
    pthread_mutex_lock(&q->lock);
    int filling = q->filling;
    pthread_mutex_unlock(&q->lock);
    if (filling) return;
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
}

static void test_filling_writer_woken_only_by_a_full_batch(void) {
  struct fd_queue q;
  fd_queue_init(&q, 100);
  struct fd_ingest_job a = job_of(2), b = job_of(1), c = job_of(2), d = job_of(2);
  /* room for 4 rows, 300 ms to fill: a (2 rows) then b (1 row) leave room, so the writer
   * sleeps to its deadline and takes both */
  struct timed_take t = {&q, 4, 300, NULL, 0};
  pthread_t th;
  pthread_create(&th, NULL, timed_taker, &t);
  CHECK(fd_queue_push(&q, &a));
  until_filling(&q);
  CHECK(fd_queue_push(&q, &b));
  pthread_join(th, NULL);
  CHECK(list_len(t.got) == 2 && t.got == &a);
  CHECK(t.seconds >= 0.25);
  /* a 10 s window: c, then d fills the batch (2 + 2 = 4 rows): the writer goes at once */
  struct timed_take u = {&q, 4, 10000, NULL, 0};
  pthread_create(&th, NULL, timed_taker, &u);
  CHECK(fd_queue_push(&q, &c));
  until_filling(&q);
  CHECK(fd_queue_push(&q, &d));
  pthread_join(th, NULL);
  CHECK(list_len(u.got) == 2 && u.got == &c);
  CHECK(u.seconds < 5);
  fd_queue_destroy(&q);
}

/* Two writers, batches of at most 8 rows, 1 ms to fill, 20,000 one-row jobs pushed as fast as
 * possible: every job is taken, none twice, and nothing waits for a wake-up that never
 * comes (the test would hang). */
#define STRESS_JOBS 20000
struct stress {
  struct fd_queue q;
  long taken;
  pthread_mutex_t lock;
};

static void *stress_writer(void *arg) {
  struct stress *s = arg;
  for (;;) {
    struct fd_ingest_job *j = fd_queue_take(&s->q, 8, 1);
    if (!j) return NULL;
    int n = list_len(j);
    pthread_mutex_lock(&s->lock);
    s->taken += n;
    pthread_mutex_unlock(&s->lock);
  }
}

static void test_no_job_left_behind(void) {
  static struct stress s;
  static struct fd_ingest_job jobs[STRESS_JOBS];
  fd_queue_init(&s.q, STRESS_JOBS);
  pthread_mutex_init(&s.lock, NULL);
  pthread_t w[2];
  for (int i = 0; i < 2; i++) pthread_create(&w[i], NULL, stress_writer, &s);
  bool pushed = true;
  for (int i = 0; i < STRESS_JOBS; i++) {
    jobs[i] = job_of(1);
    pushed = pushed && fd_queue_push(&s.q, &jobs[i]);
  }
  CHECK(pushed);
  double t0 = now_s();
  for (;;) {
    pthread_mutex_lock(&s.lock);
    long taken = s.taken;
    pthread_mutex_unlock(&s.lock);
    if (taken == STRESS_JOBS || now_s() - t0 > 10) break;
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  CHECK(s.taken == STRESS_JOBS);
  fd_queue_close(&s.q);
  for (int i = 0; i < 2; i++) pthread_join(w[i], NULL);
  pthread_mutex_destroy(&s.lock);
  fd_queue_destroy(&s.q);
}

int main(void) {
  RUN(test_bound_and_order);
  RUN(test_batches);
  RUN(test_refusals);
  RUN(test_close_wakes_writer);
  RUN(test_filling_writer_woken_only_by_a_full_batch);
  RUN(test_no_job_left_behind);
  return unit_report();
}
