/* queue.h — the bounded FIFO between HTTP threads and writer threads (private to pipeline/).
 * The struct is visible so the pipeline can embed it; its fields are the queue's own, read
 * and written under `lock` by queue.c only: the writers use the functions below. */
#ifndef FD_PIPELINE_QUEUE_H
#define FD_PIPELINE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>

#include "pipeline/pipeline.h"

struct fd_queue {
  pthread_mutex_t lock;
  pthread_cond_t nonempty;
  struct fd_ingest_job *head, *tail;
  long rows; /* rows queued (the bound counts rows, not requests) */
  long capacity;
  bool closed;  /* no more submissions; writers drain and exit */
  bool db_down; /* set by writers while the database is unreachable */
  /* Who a push must wake (a futex wake and a context switch per request were ~10% of a
   * POST's CPU): while a writer fills its batch, nobody until the queue holds what it still
   * has room for (it takes the rest at its deadline anyway); else a writer waiting for a
   * first job. A writer that leaves jobs behind wakes an idle one itself. */
  int idle;       /* writers waiting for a first job */
  int filling;    /* writers waiting, until their deadline, for more jobs */
  long fill_room; /* rows the last writer to start filling still takes */
};

void fd_queue_init(struct fd_queue *q, long capacity);
void fd_queue_destroy(struct fd_queue *q);
bool fd_queue_push(struct fd_queue *q, struct fd_ingest_job *job);
/* Take jobs for one batch: wait for the first (returns NULL once closed and empty), then
 * up to max_rows rows, waiting at most wait_ms for more. Returns a linked list. */
struct fd_ingest_job *fd_queue_take(struct fd_queue *q, long max_rows, int wait_ms);
void fd_queue_close(struct fd_queue *q);
long fd_job_rows(const struct fd_ingest_job *job);

/* Writers mark the database unreachable (pushes are refused: the HTTP thread answers 503)
 * and reachable again. */
void fd_queue_set_db_down(struct fd_queue *q, bool down);
/* true while the database is marked down and the queue is not closed: the writers probe
 * the database instead of taking jobs. */
bool fd_queue_waits_for_db(struct fd_queue *q);
/* Detach and return every queued job (a linked list, NULL if none); wakes nobody. */
struct fd_ingest_job *fd_queue_take_all(struct fd_queue *q);
/* Rows queued now. */
long fd_queue_rows(struct fd_queue *q);

#endif
