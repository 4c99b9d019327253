/* test_queue.c — the ingest queue: bound in rows, FIFO, batch-sized takes, db_down and
 * close refusing submissions, taking every queued job at once, close releasing a waiting writer, and the wake-ups: a
 * filling writer is woken only by a full batch, and no job is ever left without a writer. */
#include <pthread.h>
#include <time.h>

#include "pipeline/queue.h"
#include "unit.h"

static int list_len(const struct fd_ingest_job *j) {
  int n = 0;
  for (; j; j = j->next_) n++;
  return n;
}

/* A job of `rows` rows (messages: no event rows to look into) of project 0. */
static struct fd_ingest_job job_of(size_t rows) {
  struct fd_ingest_job j;
  memset(&j, 0, sizeof j);
  j.n_messages = rows;
  return j;
}

static struct fd_ingest_job job_in(int64_t project, size_t rows) {
  struct fd_ingest_job j = job_of(rows);
  j.project_id = project;
  return j;
}

static void test_bound_and_order(void) {
  struct fd_queue q;
  fd_queue_init(&q, 40); /* 10 rows per project */
  struct fd_ingest_job a = job_in(1, 10), b = job_in(2, 10), c = job_in(3, 10), d = job_in(4, 10), e = job_in(5, 10),
                       big = job_in(1, 50);
  CHECK(fd_queue_push(&q, &a));
  CHECK(fd_queue_push(&q, &b));
  CHECK(fd_queue_push(&q, &c));
  CHECK(fd_queue_push(&q, &d));
  CHECK(!fd_queue_push(&q, &e)); /* 50 rows > 40 */
  CHECK(fd_queue_rows(&q) == 40);
  /* a take of at most 15 rows returns a alone (b does not fit), in arrival order */
  struct fd_ingest_job *t = fd_queue_take(&q, 15, 0);
  CHECK(t == &a && t->next_ == NULL);
  t = fd_queue_take(&q, 100, 0);
  CHECK(t == &b && list_len(t) == 3 && t->next_ == &c && c.next_ == &d);
  CHECK(fd_queue_rows(&q) == 0);
  /* an oversized job still enters an empty queue, so it is never refused forever */
  CHECK(fd_queue_push(&q, &big));
  t = fd_queue_take(&q, 5, 0);
  CHECK(t == &big);
  fd_queue_destroy(&q);
}

/* Rows are what a job stores: inline turns of events count. */
static void test_rows_count_inline_turns(void) {
  struct fd_feedback_row ev1, ev2;
  memset(&ev1, 0, sizeof ev1);
  memset(&ev2, 0, sizeof ev2);
  ev1.n_turns = 30;
  ev2.n_turns = 0;
  struct fd_feedback_row *events[2] = {&ev1, &ev2};
  struct fd_ingest_job j;
  memset(&j, 0, sizeof j);
  j.events = events;
  j.n_events = 2;
  CHECK(fd_job_rows(&j) == 2 + 30);
  struct fd_queue q;
  fd_queue_init(&q, 40);
  struct fd_ingest_job other = job_in(7, 1);
  CHECK(fd_queue_push(&q, &other));
  CHECK(!fd_queue_push(&q, &j)); /* 32 rows: over project 0's share of 10 */
  fd_queue_destroy(&q);
}

/* No project fills the queue: one project is refused past its share (a quarter of the
 * capacity) while others still enter, and a project below its share is not refused because
 * another is over it. */
static void test_project_share(void) {
  struct fd_queue q;
  fd_queue_init(&q, 100); /* 25 rows per project */
  struct fd_ingest_job a[30], b = job_in(2, 25), c = job_in(3, 1);
  for (int i = 0; i < 30; i++) a[i] = job_in(1, 1);
  int accepted = 0;
  for (int i = 0; i < 30; i++) accepted += fd_queue_push(&q, &a[i]);
  CHECK(accepted == 25);
  CHECK(fd_queue_push(&q, &b)); /* another project, up to its own share */
  CHECK(fd_queue_push(&q, &c));
  CHECK(fd_queue_rows(&q) == 51);
  /* a job larger than the share enters only an empty queue */
  struct fd_ingest_job big = job_in(4, 26);
  CHECK(!fd_queue_push(&q, &big));
  /* once project 1's jobs are taken, it may queue again */
  struct fd_ingest_job *t = fd_queue_take(&q, 1000, 0);
  CHECK(list_len(t) == 27);
  struct fd_ingest_job again = job_in(1, 25);
  CHECK(fd_queue_push(&q, &again));
  CHECK(fd_queue_push(&q, &big) == false); /* not empty: 25 queued */
  t = fd_queue_take(&q, 1000, 0);
  CHECK(t == &again);
  CHECK(fd_queue_push(&q, &big)); /* empty queue: the oversized job enters */
  CHECK(fd_queue_take(&q, 1000, 0) == &big);
  fd_queue_destroy(&q);
}

/* Projects take turns, one job each, FIFO within a project: a project with one job waits
 * behind at most one job of each other project, not behind their whole backlog. */
static void test_round_robin(void) {
  struct fd_queue q;
  fd_queue_init(&q, 400);
  struct fd_ingest_job a[20], b1 = job_in(2, 1), b2 = job_in(2, 1), c1 = job_in(3, 1);
  for (int i = 0; i < 20; i++) {
    a[i] = job_in(1, 1);
    CHECK(fd_queue_push(&q, &a[i]));
  }
  CHECK(fd_queue_push(&q, &b1));
  CHECK(fd_queue_push(&q, &b2));
  CHECK(fd_queue_push(&q, &c1));
  /* expected order: a0 b1 c1 a1 b2 a2 a3 ... a19 */
  struct fd_ingest_job *want[23] = {&a[0], &b1, &c1, &a[1], &b2};
  for (int i = 2; i < 20; i++) want[i + 3] = &a[i];
  struct fd_ingest_job *t = fd_queue_take(&q, 3, 0);
  CHECK(list_len(t) == 3);
  int k = 0;
  for (; t; t = t->next_) CHECK(t == want[k++]);
  t = fd_queue_take(&q, 1000, 0);
  CHECK(list_len(t) == 20);
  for (; t; t = t->next_) CHECK(t == want[k++]);
  CHECK(k == 23 && fd_queue_rows(&q) == 0);
  /* take_all keeps the same turn order */
  struct fd_ingest_job x1 = job_in(1, 1), x2 = job_in(1, 1), y1 = job_in(2, 1);
  CHECK(fd_queue_push(&q, &x1) && fd_queue_push(&q, &x2) && fd_queue_push(&q, &y1));
  t = fd_queue_take_all(&q);
  CHECK(t == &x1 && x1.next_ == &y1 && y1.next_ == &x2 && x2.next_ == NULL);
  CHECK(fd_queue_rows(&q) == 0);
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
    jobs[i] = job_in(i % 8, 1); /* eight projects: each stays within its share */
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
  RUN(test_rows_count_inline_turns);
  RUN(test_project_share);
  RUN(test_round_robin);
  RUN(test_batches);
  RUN(test_refusals);
  RUN(test_close_wakes_writer);
  RUN(test_filling_writer_woken_only_by_a_full_batch);
  RUN(test_no_job_left_behind);
  return unit_report();
}
