/* queue.h — the bounded queue between HTTP threads and writer threads (private to pipeline/):
 * one FIFO per project, taken in turns weighed by rows, each project limited to a share of the
 * capacity, so no project can fill the queue nor make another wait behind its backlog.
 * The struct is visible so the pipeline can embed it; its fields are the queue's own, read
 * and written under `lock` by queue.c only: the writers use the functions below. */
#ifndef FD_PIPELINE_QUEUE_H
#define FD_PIPELINE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>

#include "pipeline/pipeline.h"
#include "util/turns.h"

/* A project may hold at most capacity / FD_QUEUE_PROJECT_SHARE rows (docs/operations.md). */
#define FD_QUEUE_PROJECT_SHARE 4

/* Bulk yields to other projects' interactive work (docs/operations.md `bulk_share`): a project
 * counts as active for this long after a job of it other than a part was taken, and one
 * part's batch holds the parts back for at most FD_QUEUE_BULK_PAUSE_MAX_US. */
#define FD_QUEUE_ACTIVE_WINDOW_US 1000000
#define FD_QUEUE_BULK_PAUSE_MAX_US 2000000

/* One project's queued jobs (FIFO). Kept for the queue's life: projects are created by
 * operators, so their number is bounded. */
struct fd_queue_project {
  int64_t id;
  long rows;
  struct fd_ingest_job *head, *tail;
  struct fd_turn turn; /* in the turn order while it has jobs */
  /* Rows weigh turns (start-time fair queuing): the queue's row clock at which this project's
   * next job starts. Taking a job moves it on by the job's rows; the project with jobs whose
   * clock is lowest goes next (ties: the turn order). A 100-row batch so takes the turns of a
   * hundred single events, not one (docs/architecture.md "The write path"). */
  uint64_t vstart;
};

struct fd_queue {
  pthread_mutex_t lock;
  pthread_cond_t nonempty;
  struct fd_queue_project **slots; /* open addressing by project id; NULL = free */
  size_t n_slots, n_projects;
  struct fd_turns turns; /* projects with jobs: the next turn first */
  uint64_t vnow;         /* row clock: the highest vstart a job was taken at */
  long rows;             /* rows queued (the bound counts rows, not requests) */
  long capacity;
  long project_cap; /* rows one project may have queued */
  bool closed;      /* no more submissions; writers drain and exit */
  bool db_down;     /* set by writers while the database is unreachable */
  /* Who a push must wake (a futex wake and a context switch per request were ~10% of a
   * POST's CPU): while a writer fills its batch, nobody until the queue holds what it still
   * has room for (it takes the rest at its deadline anyway); else a writer waiting for a
   * first job. A writer that leaves jobs behind wakes an idle one itself. */
  int idle;       /* writers waiting for a first job */
  int filling;    /* writers waiting, until their deadline, for more jobs */
  long fill_room; /* rows the last writer to start filling still takes */
  /* Parts of split jobs (pipeline.h) are written alone, never in a transaction with other
   * jobs, and by at most parts_max writers at once (0: no bound), so other projects' small
   * jobs neither wait for a part's commit nor find every writer busy with parts. */
  int parts_running, parts_max;
  /* Parts yield to other projects' small jobs: after a part's batch took d while a project
   * other than the part's was active, parts are held back until parts_open_us (CLOCK_MONOTONIC),
   * d * (1 / bulk_share - 1) later, as long as such a project stays active. Parts so use at
   * most bulk_share of one writer's time while others send events, and all of it alone. */
  double bulk_share; /* 1: parts never yield */
  uint64_t parts_open_us;
  struct fd_queue_active {
    int64_t project;
    uint64_t at_us; /* 0: none */
  } active[2];      /* the last two distinct projects whose jobs other than parts were taken */
};

void fd_queue_init(struct fd_queue *q, long capacity);
/* At most n writers hold a part at once (the writers call fd_queue_part_done after each
 * batch that held one); 0 (the default) = no bound. */
void fd_queue_set_parts_max(struct fd_queue *q, int n);
/* The share of one writer's time parts may take while another project is active (0 < share
 * <= 1; 1, the value after init, = no limit). */
void fd_queue_set_bulk_share(struct fd_queue *q, double share);
/* A batch holding a part of project_id is done after busy_us: returns how long (us) parts are
 * now held back for it, 0 when no other project was active in the last
 * FD_QUEUE_ACTIVE_WINDOW_US (a lone bulk importer keeps the writers' full speed). */
uint64_t fd_queue_part_done(struct fd_queue *q, int64_t project_id, uint64_t busy_us);
void fd_queue_destroy(struct fd_queue *q);
/* Queue a job, unless closed, the database is down, the queue is full or the job's project
 * would exceed its share. A job larger than either bound still enters an empty queue, so
 * no valid request is refused forever. */
bool fd_queue_push(struct fd_queue *q, struct fd_ingest_job *job);
/* A job split into parts (pipeline.h) is queued one part at a time: the first part with
 * the whole job's rows counted against the project's share (a job over the share enters
 * only while the project has nothing queued), the queue's bound counting only the part.
 * Each next part is queued by the writer after the previous one committed, at the end of
 * its project's FIFO, without any check (its rows were counted with the first part); each
 * part's rows leave the project's count as it is taken. A job given up before its last
 * part releases the rows of the parts never queued. */
bool fd_queue_push_first_part(struct fd_queue *q, struct fd_ingest_job *part, long total_rows);
void fd_queue_push_next_part(struct fd_queue *q, struct fd_ingest_job *part);
void fd_queue_release(struct fd_queue *q, int64_t project_id, long rows);
/* true when a project other than project_id had a job other than a part taken in the last
 * FD_QUEUE_ACTIVE_WINDOW_US (whatever bulk_share). */
bool fd_queue_others_active(struct fd_queue *q, int64_t project_id);
/* true when the project holds its whole share: any job of it would be refused now. */
bool fd_queue_project_full(struct fd_queue *q, int64_t project_id);
/* Take jobs for one batch: wait for the first (returns NULL once closed and empty), then
 * up to max_rows rows, waiting at most wait_ms for more. A part of a split job (pipeline.h)
 * is a batch of its own, taken only while fewer than parts_max writers hold one and parts
 * are not held back for another project (bulk_share; never once closed); a project whose
 * next job is such a part is passed over (keeping its turn) while it may not be taken or
 * the batch already has other jobs. Jobs come from the project whose row clock (vstart) is
 * lowest (FIFO within a project): while several projects have jobs queued, each gets about the
 * same number of rows written, however it groups them into requests. Returns a linked list. */
struct fd_ingest_job *fd_queue_take(struct fd_queue *q, long max_rows, int wait_ms);
void fd_queue_close(struct fd_queue *q);

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
