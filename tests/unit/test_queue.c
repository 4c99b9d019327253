/* test_queue.c — the ingest queue: bound in rows, FIFO, batch-sized takes, db_down and
 * close refusing submissions, taking every queued job at once, close releasing a waiting writer, and the wake-ups: a
 * filling writer is woken only by a full batch, and no job is ever left without a writer. */
#include <pthread.h>
#include <time.h>

#include "pipeline/queue.h"
#include "pipeline/split.h"
#include "unit.h"
#include "util/clock.h"

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

/* Turns weigh rows: a project sending 10-row jobs gets a job for every ten single-row jobs of
 * another while both have jobs queued (one job each in turn gave it ten rows for every one). A
 * project that was idle starts level with the others, not ahead by what it did not send. */
static void test_turns_weigh_rows(void) {
  struct fd_queue q;
  fd_queue_init(&q, 400);
  struct fd_ingest_job a[3], b[25];
  for (int i = 0; i < 3; i++) {
    a[i] = job_in(1, 10);
    CHECK(fd_queue_push(&q, &a[i]));
  }
  for (int i = 0; i < 25; i++) {
    b[i] = job_in(2, 1);
    CHECK(fd_queue_push(&q, &b[i]));
  }
  /* one job per take: a0, then b0..b9 (their clock 0..9 is below a's 10), then a1 at the tie
   * (a is first in turn order), b10..b19, a2, b20..b24 */
  int k_a = 0, k_b = 0;
  for (int n = 0; n < 28; n++) {
    struct fd_ingest_job *t = fd_queue_take(&q, 1, 0);
    CHECK(t && t->next_ == NULL);
    bool is_a = t->project_id == 1;
    int want_a = n == 0 || n == 11 || n == 22;
    CHECK(is_a == want_a);
    CHECK(t == (is_a ? &a[k_a++] : &b[k_b++]));
  }
  CHECK(fd_queue_rows(&q) == 0);
  /* a batch of at most 25 rows: c0, then d's single rows up to c's clock, then c1 does not
   * fit — ten rows each (in turns of one job each: c0 d0 c1 d1, 20 rows of c for 2 of d) */
  struct fd_ingest_job c[3], d[30];
  for (int i = 0; i < 3; i++) {
    c[i] = job_in(3, 10);
    CHECK(fd_queue_push(&q, &c[i]));
  }
  for (int i = 0; i < 30; i++) {
    d[i] = job_in(4, 1);
    CHECK(fd_queue_push(&q, &d[i]));
  }
  long rows_c = 0, rows_d = 0;
  for (struct fd_ingest_job *t = fd_queue_take(&q, 25, 0); t; t = t->next_)
    *(t->project_id == 3 ? &rows_c : &rows_d) += t->rows_;
  CHECK(rows_c == 10 && rows_d == 10);
  CHECK(list_len(fd_queue_take(&q, 1000, 0)) == 22 && fd_queue_rows(&q) == 0);
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

/* A split job's parts (pipeline.h, split.h): every row in exactly one part, in the order one
 * transaction would write them, no part over the bound, each event's row after all its turns,
 * each detected row with the part that stores its turn. Checked by replaying the parts row by row against a
 * sequence computed here from the job alone. */
static void test_split_parts(void) {
  enum { N_EV = 5 };
  size_t turns[N_EV] = {0, 7, 23, 1, 0};
  struct fd_feedback_row ev[N_EV];
  struct fd_feedback_row *events[N_EV];
  enum fd_item_status st[N_EV];
  struct fd_message_row *msgs[3] = {NULL, NULL, NULL};
  enum fd_item_status mst[3];
  struct fd_message_row turn_rows[N_EV][23], m1;
  struct fd_detected_row det[3];
  for (size_t i = 0; i < N_EV; i++) {
    memset(&ev[i], 0, sizeof ev[i]);
    ev[i].n_turns = turns[i];
    ev[i].turns = turn_rows[i];
    events[i] = &ev[i];
  }
  msgs[1] = &m1;
  /* detections of message 1, turn 5 of event 2, turn 0 of event 3 (in turn order) */
  det[0].turn = &m1;
  det[1].turn = &turn_rows[2][5];
  det[2].turn = &turn_rows[3][0];
  struct fd_ingest_job j;
  memset(&j, 0, sizeof j);
  j.project_id = 9;
  j.events = events;
  j.n_events = N_EV;
  j.event_status = st;
  j.messages = msgs;
  j.n_messages = 3;
  j.message_status = mst;
  j.detected = det;
  j.n_detected = 3;
  long total = fd_job_rows(&j);
  CHECK(total == 3 + N_EV + 31);
  for (long max = 1; max <= total + 1; max++) {
    size_t cap = fd_job_parts_max(total, max);
    struct fd_ingest_job *parts = calloc(cap, sizeof *parts);
    size_t n = fd_job_split(&j, max, parts);
    CHECK(n >= 1 && n <= cap && n == (size_t)((total + max - 1) / max));
    /* the expected sequence: message i -> -(i+1); turn t of event e -> e*100+t; row of e -> e*100+99 */
    long want[64], got[64];
    size_t nw = 0, ng = 0;
    for (size_t i = 0; i < 3; i++) want[nw++] = -(long)(i + 1);
    for (size_t e = 0; e < N_EV; e++) {
      for (size_t t = 0; t < turns[e]; t++) want[nw++] = (long)(e * 100 + t);
      want[nw++] = (long)(e * 100 + 99);
    }
    long sum = 0;
    for (size_t p = 0; p < n; p++) {
      struct fd_ingest_job *pt = &parts[p];
      long rows = fd_job_rows(pt);
      CHECK(rows >= 1 && rows <= max);
      CHECK(p + 1 == n || rows == max);
      CHECK(pt->project_id == 9 && pt->done == NULL && pt->part_);
      sum += rows;
      size_t first = ng; /* this part's rows start at got[first] */
      for (size_t i = 0; i < pt->n_messages; i++) got[ng++] = -(long)(pt->messages + i - msgs + 1);
      CHECK(pt->message_status == mst + (pt->messages - msgs));
      for (size_t e = 0; e < pt->n_events; e++) {
        size_t idx = (size_t)(pt->events + e - events);
        CHECK(pt->event_status + e == &st[idx]);
        bool open = pt->event_open_ && e + 1 == pt->n_events;
        size_t t_end = open ? pt->turn_to_ : turns[idx];
        for (size_t t = e == 0 ? pt->turn_from_ : 0; t < t_end; t++) got[ng++] = (long)(idx * 100 + t);
        if (!open) got[ng++] = (long)(idx * 100 + 99);
      }
      /* the detected rows here are exactly those whose turn this part stores */
      long det_at[3] = {-2, 205, 300};
      for (size_t d = 0; d < 3; d++) {
        bool here = false;
        for (size_t g = first; g < ng; g++) here = here || got[g] == det_at[d];
        bool given = pt->detected <= &det[d] && &det[d] < pt->detected + pt->n_detected;
        CHECK(here == given);
      }
    }
    CHECK(sum == total);
    CHECK(ng == nw && memcmp(got, want, nw * sizeof *want) == 0);
    free(parts);
  }
}

/* Parts are queued one at a time: the whole job counts against its project's share, the
 * queue's bound only the queued part; another project's job is taken before the next part. */
static void test_parts_take_turns(void) {
  struct fd_queue q;
  fd_queue_init(&q, 40); /* 10 rows per project */
  struct fd_ingest_job p1 = job_in(1, 5), p2 = job_in(1, 5), p3 = job_in(1, 5), more = job_in(1, 1), b = job_in(2, 1),
                       c = job_in(2, 1);
  /* a 15-row job of project 1, over its share: enters because project 1 has nothing queued */
  CHECK(fd_queue_push_first_part(&q, &p1, 15));
  CHECK(fd_queue_rows(&q) == 5);
  CHECK(!fd_queue_push(&q, &more));               /* project 1 is at its share */
  CHECK(!fd_queue_push_first_part(&q, &more, 1)); /* nor a second split job */
  CHECK(fd_queue_push(&q, &b));                   /* project 2 still gets in */
  struct fd_ingest_job *t = fd_queue_take(&q, 5, 0);
  CHECK(t == &p1 && t->next_ == NULL);
  /* the first part committed: its next part goes behind project 2's waiting job */
  fd_queue_push_next_part(&q, &p2);
  CHECK(fd_queue_push(&q, &c));
  t = fd_queue_take(&q, 5, 0);
  CHECK(t == &b);
  /* project 2 is 5 rows behind project 1 in the row clock: c comes before p2 as well */
  CHECK(t->next_ == &c && c.next_ == NULL);
  t = fd_queue_take(&q, 5, 0);
  CHECK(t == &p2 && t->next_ == NULL);
  CHECK(fd_queue_rows(&q) == 0);
  /* the job is given up after its second part: the third part's 5 rows are released */
  struct fd_ingest_job d = job_in(2, 1), six = job_in(1, 6);
  CHECK(fd_queue_push(&q, &d));    /* the queue is not empty: the share applies */
  CHECK(!fd_queue_push(&q, &six)); /* 5 still counted + 6 > 10 */
  fd_queue_release(&q, 1, 5);
  CHECK(fd_queue_push(&q, &six));
  (void)more;
  while (fd_queue_take(&q, 100, 0) && fd_queue_rows(&q) > 0) {}
  /* a part is a batch of its own, whatever room is left: parts of two split jobs (projects 3
   * and 4) are passed over by a batch that has other jobs (they keep their turn) */
  struct fd_ingest_job x = job_in(3, 4), y = job_in(4, 4), z = job_in(2, 1);
  p3 = job_in(5, 1);
  CHECK(fd_queue_push(&q, &p3));
  x.part_ = y.part_ = true;
  CHECK(fd_queue_push_first_part(&q, &x, 8));
  CHECK(fd_queue_push_first_part(&q, &y, 8));
  CHECK(fd_queue_push(&q, &z));
  t = fd_queue_take(&q, 100, 0);
  CHECK(t == &p3 && t->next_ == &z && z.next_ == NULL);
  t = fd_queue_take(&q, 100, 0);
  CHECK(t == &x && x.next_ == NULL);
  t = fd_queue_take(&q, 100, 0);
  CHECK(t == &y && y.next_ == NULL);
  fd_queue_part_done(&q, 3, 0);
  fd_queue_part_done(&q, 4, 0);
  fd_queue_destroy(&q);
}

/* With parts_max writers holding parts, further parts wait (keeping their turn) while other
 * projects' jobs are taken; a part is taken again once one is done. */
static void test_parts_max(void) {
  struct fd_queue q;
  fd_queue_init(&q, 400);
  fd_queue_set_parts_max(&q, 1);
  struct fd_ingest_job a1 = job_in(1, 50), a2 = job_in(2, 50), b = job_in(3, 1), c = job_in(3, 1);
  a1.part_ = a2.part_ = true;
  CHECK(fd_queue_push_first_part(&q, &a1, 200));
  CHECK(fd_queue_push_first_part(&q, &a2, 200));
  CHECK(fd_queue_push(&q, &b));
  struct fd_ingest_job *t = fd_queue_take(&q, 100, 0);
  CHECK(t == &a1 && a1.next_ == NULL); /* alone */
  t = fd_queue_take(&q, 100, 0);
  CHECK(t == &b && b.next_ == NULL); /* a2 waits: one writer holds a part */
  CHECK(fd_queue_push(&q, &c));
  t = fd_queue_take(&q, 100, 0);
  CHECK(t == &c);
  fd_queue_part_done(&q, 1, 0);
  t = fd_queue_take(&q, 100, 0);
  CHECK(t == &a2 && a2.next_ == NULL);
  fd_queue_part_done(&q, 2, 0);
  CHECK(fd_queue_rows(&q) == 0);
  fd_queue_destroy(&q);
}

static double ms_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* bulk_share: after a part's batch of busy_us while another project's small jobs are taken,
 * parts wait busy_us * (1 / share - 1) (other jobs still go); a project whose only activity is
 * its own is never held back; a closed queue drains at once. */
static void test_bulk_share(void) {
  struct fd_queue q;
  fd_queue_init(&q, 4000);
  fd_queue_set_bulk_share(&q, 0.25);
  struct fd_ingest_job a1 = job_in(1, 50), a2 = job_in(1, 50), a3 = job_in(1, 50), own = job_in(1, 1),
                       b1 = job_in(2, 1), b2 = job_in(2, 1);
  a1.part_ = a2.part_ = a3.part_ = true;
  /* alone: project 1's own small job does not count as another project's activity */
  CHECK(fd_queue_push(&q, &own));
  CHECK(fd_queue_take(&q, 100, 0) == &own);
  CHECK(fd_queue_push_first_part(&q, &a1, 150));
  CHECK(fd_queue_take(&q, 100, 0) == &a1);
  CHECK(fd_queue_part_done(&q, 1, 100000) == 0);
  /* project 2 active: a part of 100 ms holds the next one back 300 ms */
  CHECK(fd_queue_push(&q, &b1));
  CHECK(fd_queue_take(&q, 100, 0) == &b1);
  fd_queue_push_next_part(&q, &a2);
  CHECK(fd_queue_take(&q, 100, 0) == &a2);
  CHECK(fd_queue_part_done(&q, 1, 100000) == 300000);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  fd_queue_push_next_part(&q, &a3);
  CHECK(fd_queue_push(&q, &b2));
  CHECK(fd_queue_take(&q, 100, 0) == &b2); /* b2 passes the held part */
  CHECK(b2.next_ == NULL);
  CHECK(fd_queue_take(&q, 100, 0) == &a3); /* waits until the parts may go */
  double waited = ms_since(&t0);
  CHECK(waited >= 290 && waited < 5000);
  /* parts of several writers add up, from where the pause already reaches */
  CHECK(fd_queue_part_done(&q, 1, 1000) == 3000);
  CHECK(fd_queue_part_done(&q, 1, 1000) == 3000);
  CHECK(q.parts_open_us >= fd_now_us() + 5000 - 1000);
  /* a long part is held back at most FD_QUEUE_BULK_PAUSE_MAX_US */
  struct fd_ingest_job b3 = job_in(3, 1), d1 = job_in(1, 50), d2 = job_in(1, 50);
  d1.part_ = d2.part_ = true;
  CHECK(fd_queue_push(&q, &b3));
  CHECK(fd_queue_take(&q, 100, 0) == &b3);
  CHECK(fd_queue_push_first_part(&q, &d1, 100));
  CHECK(fd_queue_take(&q, 100, 0) == &d1);
  CHECK(fd_queue_part_done(&q, 1, 60000000) == FD_QUEUE_BULK_PAUSE_MAX_US);
  /* closing: the held part is taken at once (shutdown drains) */
  fd_queue_push_next_part(&q, &d2);
  fd_queue_close(&q);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK(fd_queue_take(&q, 100, 0) == &d2);
  CHECK(ms_since(&t0) < 1000);
  fd_queue_part_done(&q, 1, 0);
  CHECK(fd_queue_take(&q, 100, 0) == NULL);
  fd_queue_destroy(&q);
}

/* share 1 (the value after init): parts never yield */
static void test_bulk_share_off(void) {
  struct fd_queue q;
  fd_queue_init(&q, 4000);
  struct fd_ingest_job a1 = job_in(1, 50), a2 = job_in(1, 50), b1 = job_in(2, 1);
  a1.part_ = a2.part_ = true;
  CHECK(fd_queue_push(&q, &b1));
  CHECK(fd_queue_take(&q, 100, 0) == &b1);
  CHECK(fd_queue_push_first_part(&q, &a1, 100));
  CHECK(fd_queue_take(&q, 100, 0) == &a1);
  CHECK(fd_queue_part_done(&q, 1, 100000) == 0);
  fd_queue_push_next_part(&q, &a2);
  CHECK(fd_queue_take(&q, 100, 0) == &a2);
  fd_queue_part_done(&q, 1, 0);
  fd_queue_destroy(&q);
}

int main(void) {
  RUN(test_bound_and_order);
  RUN(test_rows_count_inline_turns);
  RUN(test_project_share);
  RUN(test_round_robin);
  RUN(test_turns_weigh_rows);
  RUN(test_batches);
  RUN(test_parts_max);
  RUN(test_refusals);
  RUN(test_close_wakes_writer);
  RUN(test_filling_writer_woken_only_by_a_full_batch);
  RUN(test_no_job_left_behind);
  RUN(test_split_parts);
  RUN(test_parts_take_turns);
  RUN(test_bulk_share);
  RUN(test_bulk_share_off);
  return unit_report();
}
