/* queue.c — bounded job queue, fair between projects, with batch-sized takes (see queue.h). */
#include "pipeline/queue.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/clock.h"

long fd_job_rows(const struct fd_ingest_job *job) {
  long rows = (long)(job->n_events + job->n_messages);
  for (size_t e = 0; e < job->n_events; e++) rows += (long)job->events[e]->n_turns;
  /* a part of a split job (pipeline.h): only its own turns, and no open event's row */
  rows -= (long)job->turn_from_;
  if (job->event_open_) rows -= 1 + (long)(job->events[job->n_events - 1]->n_turns - job->turn_to_);
  return rows;
}

void fd_queue_init(struct fd_queue *q, long capacity) {
  pthread_mutex_init(&q->lock, NULL);
  fd_cond_init_monotonic(&q->nonempty);
  q->slots = NULL;
  q->n_slots = q->n_projects = 0;
  q->active = q->active_tail = NULL;
  q->rows = 0;
  q->capacity = capacity;
  q->project_cap = capacity / FD_QUEUE_PROJECT_SHARE > 0 ? capacity / FD_QUEUE_PROJECT_SHARE : 1;
  q->closed = q->db_down = false;
  q->idle = q->filling = 0;
  q->fill_room = 0;
}

void fd_queue_destroy(struct fd_queue *q) {
  for (size_t i = 0; i < q->n_slots; i++) free(q->slots[i]);
  free(q->slots);
  pthread_mutex_destroy(&q->lock);
  pthread_cond_destroy(&q->nonempty);
}

static size_t slot_of(int64_t id, size_t n_slots) {
  uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 32) & (n_slots - 1);
}

/* The project's entry, created on its first job; NULL when memory runs out. */
static struct fd_queue_project *project_of(struct fd_queue *q, int64_t id) {
  if (q->n_slots) {
    for (size_t s = slot_of(id, q->n_slots);; s = (s + 1) & (q->n_slots - 1)) {
      if (!q->slots[s]) break;
      if (q->slots[s]->id == id) return q->slots[s];
    }
  }
  if (2 * (q->n_projects + 1) > q->n_slots) { /* keep the table at most half full */
    size_t n = q->n_slots ? 2 * q->n_slots : 16;
    struct fd_queue_project **grown = calloc(n, sizeof *grown);
    if (!grown) return NULL;
    for (size_t i = 0; i < q->n_slots; i++) {
      if (!q->slots[i]) continue;
      size_t s = slot_of(q->slots[i]->id, n);
      while (grown[s]) s = (s + 1) & (n - 1);
      grown[s] = q->slots[i];
    }
    free(q->slots);
    q->slots = grown;
    q->n_slots = n;
  }
  struct fd_queue_project *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->id = id;
  size_t s = slot_of(id, q->n_slots);
  while (q->slots[s]) s = (s + 1) & (q->n_slots - 1);
  q->slots[s] = p;
  q->n_projects++;
  return p;
}

/* Append a job to its project's FIFO (the project joins the turn order if it was idle) and
 * wake a writer if one must start. Under the lock. */
static void append(struct fd_queue *q, struct fd_queue_project *p, struct fd_ingest_job *job) {
  job->next_ = NULL;
  if (p->tail) {
    p->tail->next_ = job;
  } else {
    p->head = job;
    p->next_active = NULL; /* its turn comes after the projects already waiting */
    if (q->active_tail)
      q->active_tail->next_active = p;
    else
      q->active = p;
    q->active_tail = p;
  }
  p->tail = job;
  q->rows += job->rows_;
  /* a filling writer takes this job at its deadline unless the batch is full now; only
   * without one must an idle writer start */
  if (q->filling > 0 ? q->rows >= q->fill_room : q->idle > 0) pthread_cond_signal(&q->nonempty);
}

bool fd_queue_project_full(struct fd_queue *q, int64_t project_id) {
  bool full = false;
  pthread_mutex_lock(&q->lock);
  if (q->n_slots) {
    for (size_t s = slot_of(project_id, q->n_slots); q->slots[s]; s = (s + 1) & (q->n_slots - 1)) {
      if (q->slots[s]->id != project_id) continue;
      full = q->rows > 0 && q->slots[s]->rows >= q->project_cap;
      break;
    }
  }
  pthread_mutex_unlock(&q->lock);
  return full;
}

bool fd_queue_push(struct fd_queue *q, struct fd_ingest_job *job) {
  long rows = job->rows_ = fd_job_rows(job);
  pthread_mutex_lock(&q->lock);
  struct fd_queue_project *p = q->closed || q->db_down ? NULL : project_of(q, job->project_id);
  /* one oversized job is still accepted into an empty queue, so no valid request is
   * refused forever; otherwise both the queue's bound and the project's share hold */
  bool ok = p && (q->rows == 0 || (q->rows + rows <= q->capacity && p->rows + rows <= q->project_cap));
  if (ok) {
    p->rows += rows;
    append(q, p, job);
  }
  pthread_mutex_unlock(&q->lock);
  return ok;
}

bool fd_queue_push_first_part(struct fd_queue *q, struct fd_ingest_job *part, long total_rows) {
  part->rows_ = fd_job_rows(part);
  pthread_mutex_lock(&q->lock);
  struct fd_queue_project *p = q->closed || q->db_down ? NULL : project_of(q, part->project_id);
  /* the project's share counts the whole job; a job over the share enters only when the
   * project has nothing queued. The queue's bound counts the parts queued (one at a time),
   * so other projects still get in while it is written. */
  bool ok = p && (p->rows == 0 || p->rows + total_rows <= q->project_cap) &&
            (q->rows == 0 || q->rows + part->rows_ <= q->capacity);
  if (ok) {
    p->rows += total_rows;
    append(q, p, part);
  }
  pthread_mutex_unlock(&q->lock);
  return ok;
}

void fd_queue_push_next_part(struct fd_queue *q, struct fd_ingest_job *part) {
  part->rows_ = fd_job_rows(part);
  pthread_mutex_lock(&q->lock);
  struct fd_queue_project *p = project_of(q, part->project_id); /* exists: its first part came in */
  append(q, p, part);
  pthread_mutex_unlock(&q->lock);
}

void fd_queue_release(struct fd_queue *q, int64_t project_id, long rows) {
  pthread_mutex_lock(&q->lock);
  struct fd_queue_project *p = project_of(q, project_id);
  if (p) p->rows -= rows;
  pthread_mutex_unlock(&q->lock);
}

/* Remove the next job in turn: the first of the first active project, which then goes to
 * the end of the turn order (or leaves it, empty). */
static struct fd_ingest_job *pop_next(struct fd_queue *q) {
  struct fd_queue_project *p = q->active;
  struct fd_ingest_job *j = p->head;
  p->head = j->next_;
  if (!p->head) p->tail = NULL;
  p->rows -= j->rows_;
  q->rows -= j->rows_;
  j->next_ = NULL;
  q->active = p->next_active;
  if (!q->active) q->active_tail = NULL;
  p->next_active = NULL;
  if (p->head) {
    if (q->active_tail)
      q->active_tail->next_active = p;
    else
      q->active = p;
    q->active_tail = p;
  }
  return j;
}

struct fd_ingest_job *fd_queue_take(struct fd_queue *q, long max_rows, int wait_ms) {
  struct fd_ingest_job *first = NULL, *last = NULL;
  long taken = 0;
  pthread_mutex_lock(&q->lock);
  q->idle++;
  while (!q->active && !q->closed) pthread_cond_wait(&q->nonempty, &q->lock);
  q->idle--;
  struct timespec deadline = fd_deadline_ms(CLOCK_MONOTONIC, wait_ms);
  bool has_part = false;
  for (;;) {
    /* at most one part of a split job per batch: a transaction holds at most part_rows rows
     * of oversized requests, whatever else it carries */
    while (q->active &&
           (taken == 0 || (taken + q->active->head->rows_ <= max_rows && !(has_part && q->active->head->part_)))) {
      struct fd_ingest_job *j = pop_next(q);
      taken += j->rows_;
      has_part = has_part || j->part_;
      if (last)
        last->next_ = j;
      else
        first = j;
      last = j;
    }
    /* full batch, or the next job does not fit, or closing: go now */
    if (!first || taken >= max_rows || q->active || q->closed || wait_ms <= 0) break;
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
  if (q->active && q->idle > 0) pthread_cond_signal(&q->nonempty);
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
  struct fd_ingest_job *first = NULL, *last = NULL;
  pthread_mutex_lock(&q->lock);
  while (q->active) {
    struct fd_ingest_job *j = pop_next(q);
    if (last)
      last->next_ = j;
    else
      first = j;
    last = j;
  }
  pthread_mutex_unlock(&q->lock);
  return first;
}

long fd_queue_rows(struct fd_queue *q) {
  pthread_mutex_lock(&q->lock);
  long rows = q->rows;
  pthread_mutex_unlock(&q->lock);
  return rows;
}
