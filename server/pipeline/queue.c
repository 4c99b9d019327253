/* queue.c — bounded job queue with batch-sized takes (see queue.h). */
#include "pipeline/queue.h"

#include <errno.h>

#include "util/clock.h"

long fd_job_rows(const struct fd_ingest_job *job) { return (long)(job->n_events + job->n_messages); }

void fd_queue_init(struct fd_queue *q, long capacity) {
  pthread_mutex_init(&q->lock, NULL);
  fd_cond_init_monotonic(&q->nonempty);
  q->head = q->tail = NULL;
  q->rows = 0;
  q->capacity = capacity;
  q->closed = q->db_down = false;
  q->idle = q->filling = 0;
  q->fill_room = 0;
}

void fd_queue_destroy(struct fd_queue *q) {
  pthread_mutex_destroy(&q->lock);
  pthread_cond_destroy(&q->nonempty);
}

bool fd_queue_push(struct fd_queue *q, struct fd_ingest_job *job) {
  long rows = fd_job_rows(job);
  pthread_mutex_lock(&q->lock);
  /* one oversized job is still accepted into an empty queue, so no valid request is
   * refused forever */
  bool ok = !q->closed && !q->db_down && (q->rows + rows <= q->capacity || q->rows == 0);
  if (ok) {
    job->next_ = NULL;
    if (q->tail)
      q->tail->next_ = job;
    else
      q->head = job;
    q->tail = job;
    q->rows += rows;
    /* a filling writer takes this job at its deadline unless the batch is full now; only
     * without one must an idle writer start */
    if (q->filling > 0 ? q->rows >= q->fill_room : q->idle > 0) pthread_cond_signal(&q->nonempty);
  }
  pthread_mutex_unlock(&q->lock);
  return ok;
}

struct fd_ingest_job *fd_queue_take(struct fd_queue *q, long max_rows, int wait_ms) {
  struct fd_ingest_job *first = NULL, *last = NULL;
  long taken = 0;
  pthread_mutex_lock(&q->lock);
  q->idle++;
  while (!q->head && !q->closed) pthread_cond_wait(&q->nonempty, &q->lock);
  q->idle--;
  struct timespec deadline = fd_deadline_ms(CLOCK_MONOTONIC, wait_ms);
  for (;;) {
    while (q->head && (taken == 0 || taken + fd_job_rows(q->head) <= max_rows)) {
      struct fd_ingest_job *j = q->head;
      q->head = j->next_;
      if (!q->head) q->tail = NULL;
      q->rows -= fd_job_rows(j);
      taken += fd_job_rows(j);
      j->next_ = NULL;
      if (last)
        last->next_ = j;
      else
        first = j;
      last = j;
    }
    /* full batch, or the next job does not fit, or closing: go now */
    if (!first || taken >= max_rows || q->head || q->closed || wait_ms <= 0) break;
    q->filling++;
    q->fill_room = max_rows - taken;
    int rc = pthread_cond_timedwait(&q->nonempty, &q->lock, &deadline);
    q->filling--;
    if (rc == ETIMEDOUT) {
      /* take whatever arrived at the last moment, then go */
      wait_ms = 0;
    }
  }
  /* jobs left behind (this batch is full) go to an idle writer: no push may come to wake it */
  if (q->head && q->idle > 0) pthread_cond_signal(&q->nonempty);
  pthread_mutex_unlock(&q->lock);
  return first;
}

void fd_queue_close(struct fd_queue *q) {
  pthread_mutex_lock(&q->lock);
  q->closed = true;
  pthread_cond_broadcast(&q->nonempty);
  pthread_mutex_unlock(&q->lock);
}

void fd_queue_set_db_down(struct fd_queue *q, bool down) {
  pthread_mutex_lock(&q->lock);
  q->db_down = down;
  pthread_mutex_unlock(&q->lock);
}

bool fd_queue_waits_for_db(struct fd_queue *q) {
  pthread_mutex_lock(&q->lock);
  bool waits = q->db_down && !q->closed;
  pthread_mutex_unlock(&q->lock);
  return waits;
}

struct fd_ingest_job *fd_queue_take_all(struct fd_queue *q) {
  pthread_mutex_lock(&q->lock);
  struct fd_ingest_job *list = q->head;
  q->head = q->tail = NULL;
  q->rows = 0;
  pthread_mutex_unlock(&q->lock);
  return list;
}

long fd_queue_rows(struct fd_queue *q) {
  pthread_mutex_lock(&q->lock);
  long rows = q->rows;
  pthread_mutex_unlock(&q->lock);
  return rows;
}
