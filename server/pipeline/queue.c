/* queue.c — bounded job queue, fair between projects, with batch-sized takes (see queue.h). */
#include "pipeline/queue.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
  q->turns = (struct fd_turns){0};
  q->vnow = 0;
  q->rows = 0;
  q->capacity = capacity;
  q->project_cap = capacity / FD_QUEUE_PROJECT_SHARE > 0 ? capacity / FD_QUEUE_PROJECT_SHARE : 1;
  q->closed = q->db_down = false;
  q->idle = q->filling = 0;
  q->fill_room = 0;
  q->parts_running = q->parts_max = 0;
  q->bulk_share = 1;
  q->parts_open_us = 0;
  memset(q->active, 0, sizeof q->active);
}

void fd_queue_set_parts_max(struct fd_queue *q, int n) {
  pthread_mutex_lock(&q->lock);
  q->parts_max = n > 0 ? n : 0;
  pthread_mutex_unlock(&q->lock);
}

void fd_queue_set_bulk_share(struct fd_queue *q, double share) {
  pthread_mutex_lock(&q->lock);
  q->bulk_share = share > 0 && share < 1 ? share : 1;
  pthread_mutex_unlock(&q->lock);
}

/* A job of `project` other than a part was taken at now. Under the lock. */
static void note_active(struct fd_queue *q, int64_t project, uint64_t now) {
  if (q->active[0].at_us && q->active[0].project != project) q->active[1] = q->active[0];
  q->active[0] = (struct fd_queue_active){project, now};
}

/* Whether a project other than `project` had a job other than a part taken within the
 * window. The last two distinct projects are enough: the latest other than `project` is
 * always one of them. Under the lock. */
static bool other_active(const struct fd_queue *q, int64_t project, uint64_t now) {
  for (int i = 0; i < 2; i++)
    if (q->active[i].at_us && q->active[i].project != project && now - q->active[i].at_us < FD_QUEUE_ACTIVE_WINDOW_US)
      return true;
  return false;
}

bool fd_queue_others_active(struct fd_queue *q, int64_t project_id) {
  pthread_mutex_lock(&q->lock);
  bool yes = other_active(q, project_id, fd_now_us());
  pthread_mutex_unlock(&q->lock);
  return yes;
}

/* Whether a part of `project` is held back now. Under the lock; reads the clock only while
 * parts may be held back. */
static bool parts_held_for(const struct fd_queue *q, int64_t project) {
  if (q->closed || q->parts_open_us == 0) return false;
  uint64_t now = fd_now_us();
  return now < q->parts_open_us && other_active(q, project, now);
}

/* When parts held back may go again (CLOCK_MONOTONIC us): at parts_open_us, or earlier when
 * every other project fell quiet; 0 when none is held back by the share. Under the lock. */
static uint64_t parts_reopen_us(const struct fd_queue *q) {
  if (q->closed || q->parts_open_us == 0) return 0;
  uint64_t now = fd_now_us(), latest = 0;
  if (now >= q->parts_open_us) return 0;
  for (int i = 0; i < 2; i++)
    if (q->active[i].at_us > latest) latest = q->active[i].at_us;
  uint64_t quiet = latest + FD_QUEUE_ACTIVE_WINDOW_US;
  if (quiet <= now) return 0;
  return quiet < q->parts_open_us ? quiet : q->parts_open_us;
}

uint64_t fd_queue_part_done(struct fd_queue *q, int64_t project_id, uint64_t busy_us) {
  uint64_t pause = 0;
  pthread_mutex_lock(&q->lock);
  if (q->parts_running > 0) q->parts_running--;
  uint64_t now = fd_now_us();
  if (q->bulk_share < 1 && other_active(q, project_id, now)) {
    double want = (double)busy_us * (1 / q->bulk_share - 1);
    pause = want < FD_QUEUE_BULK_PAUSE_MAX_US ? (uint64_t)want : FD_QUEUE_BULK_PAUSE_MAX_US;
    /* parts of several writers add up: together they take at most the share of one writer */
    uint64_t from = q->parts_open_us > now ? q->parts_open_us : now;
    q->parts_open_us = from + pause;
    if (q->parts_open_us > now + FD_QUEUE_BULK_PAUSE_MAX_US) q->parts_open_us = now + FD_QUEUE_BULK_PAUSE_MAX_US;
  }
  /* a writer may be waiting with only parts queued */
  if (q->turns.head) pthread_cond_broadcast(&q->nonempty);
  pthread_mutex_unlock(&q->lock);
  return pause;
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
    fd_turns_join(&q->turns, &p->turn); /* its turn comes after the projects already waiting */
    /* a project that was idle starts at the clock: no credit for the time it sent nothing */
    if (p->vstart < q->vnow) p->vstart = q->vnow;
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

/* Remove the first job of p (after prev in the turn order, NULL if first), which then goes
 * to the end of the turn order (or leaves it, empty); the projects passed over keep their
 * places. */
static struct fd_ingest_job *pop_from(struct fd_queue *q, struct fd_queue_project *prev, struct fd_queue_project *p) {
  struct fd_ingest_job *j = p->head;
  p->head = j->next_;
  if (!p->head) p->tail = NULL;
  p->rows -= j->rows_;
  q->rows -= j->rows_;
  j->next_ = NULL;
  if (p->vstart > q->vnow) q->vnow = p->vstart;
  /* a project passed over for long (held-back parts) catches up at most one share ahead */
  if (p->vstart + (uint64_t)q->project_cap < q->vnow) p->vstart = q->vnow - (uint64_t)q->project_cap;
  p->vstart += (uint64_t)j->rows_;
  fd_turns_leave(&q->turns, prev ? &prev->turn : NULL, &p->turn);
  if (p->head) fd_turns_join(&q->turns, &p->turn);
  return j;
}

static struct fd_queue_project *turn_project(struct fd_turn *t) {
  return t ? FD_TURN_OWNER(t, struct fd_queue_project, turn) : NULL;
}

static struct fd_ingest_job *pop_next(struct fd_queue *q) { return pop_from(q, NULL, turn_project(q->turns.head)); }

/* The project whose next job may join a batch of `taken` rows (0: a new batch): of those
 * whose next job may be taken at all (a part only as a batch of its own, under parts_max and
 * not held back; else it is passed over, keeping its row clock), the one with the lowest row
 * clock, the first in turn order among equals; NULL when none may, or when that one's job
 * does not fit in max_rows (the batch is full). */
static struct fd_queue_project *next_takeable(struct fd_queue *q, long taken, long max_rows,
                                              struct fd_queue_project **prev_out) {
  struct fd_queue_project *prev = NULL, *best = NULL, *best_prev = NULL;
  for (struct fd_queue_project *p = turn_project(q->turns.head); p; prev = p, p = turn_project(p->turn.next)) {
    const struct fd_ingest_job *j = p->head;
    if (j->part_ &&
        !(taken == 0 && (q->parts_max == 0 || q->parts_running < q->parts_max) && !parts_held_for(q, p->id)))
      continue; /* passed over */
    if (!best || p->vstart < best->vstart) {
      best = p;
      best_prev = prev;
    }
  }
  if (!best || (taken > 0 && taken + best->head->rows_ > max_rows)) return NULL; /* none, or the batch is full */
  *prev_out = best_prev;
  return best;
}

/* whether a job other than a part is queued (one that did not fit this batch) */
static bool light_left(const struct fd_queue *q) {
  for (const struct fd_queue_project *p = turn_project(q->turns.head); p; p = turn_project(p->turn.next))
    if (!p->head->part_) return true;
  return false;
}

struct fd_ingest_job *fd_queue_take(struct fd_queue *q, long max_rows, int wait_ms) {
  struct fd_ingest_job *first = NULL, *last = NULL;
  struct fd_queue_project *p, *prev;
  long taken = 0;
  uint64_t now = 0;
  pthread_mutex_lock(&q->lock);
  q->idle++;
  /* closing: wait until the queue is empty, not only until nothing may be taken now (a part
   * held back by parts_max is taken once the running one is done) */
  while (!next_takeable(q, 0, max_rows, &prev) && !(q->closed && !q->turns.head)) {
    /* parts held back by bulk_share: nobody wakes us when they may go again */
    uint64_t reopen = q->turns.head ? parts_reopen_us(q) : 0;
    if (reopen) {
      struct timespec at = {(time_t)(reopen / 1000000), (long)(reopen % 1000000) * 1000};
      pthread_cond_timedwait(&q->nonempty, &q->lock, &at);
    } else {
      pthread_cond_wait(&q->nonempty, &q->lock);
    }
  }
  q->idle--;
  struct timespec deadline = fd_deadline_ms(CLOCK_MONOTONIC, wait_ms);
  bool part = false;
  for (;;) {
    while (!part && (p = next_takeable(q, taken, max_rows, &prev))) {
      struct fd_ingest_job *j = pop_from(q, prev, p);
      taken += j->rows_;
      if (j->part_) {
        part = true; /* a batch of its own */
        q->parts_running++;
      } else {                       /* for bulk_share and the parse workers' budget (fd_queue_others_active) */
        if (!now) now = fd_now_us(); /* one clock read per batch */
        note_active(q, j->project_id, now);
      }
      if (last)
        last->next_ = j;
      else
        first = j;
      last = j;
    }
    /* full batch, a part, or a job that does not fit, or closing: go now */
    if (!first || part || taken >= max_rows || light_left(q) || q->closed || wait_ms <= 0) break;
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
  if (q->turns.head && q->idle > 0) pthread_cond_signal(&q->nonempty);
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
  while (q->turns.head) {
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
