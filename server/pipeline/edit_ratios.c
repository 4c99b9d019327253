/* edit_ratios.c — the edit-ratio worker (see edit_ratios.h). A backlog of edit keys filled by
 * the writers after COMMIT, one FIFO per project taken in turn, no project holding more than
 * half of it (so one project's flood of edits against a large original neither delays nor
 * crowds out another project's ratios); the worker takes a few at a time, reads each edit and each
 * distinct original once, computes the bounded ratio (ingest/edit_ratio.h) and UPDATEs
 * the rows. It runs at a lower scheduling priority: a flood of edits slows the ratios, not
 * the acknowledgements. */
#include "pipeline/edit_ratios.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/edit_ratio_db.h"
#include "ingest/edit_ratio.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/turns.h"
#include "util/workers.h"

/* Edits per round: bounds the memory of one read (each edit and original up to 256 KiB). */
#define ROUND 16
/* The lowest priority: the writers' and HTTP threads' CPU (nice 0) comes first. At nice 10 it
 * took 5 of the 15 CPU-seconds the HTTP threads got while bench/hostile's attacker flooded
 * edits against a 256 KiB original (bench/README.md "hostile"); ratios may lag. */
#define WORKER_NICE 19
/* How long a round waits for a full ROUND of edits. A round's two statements cost about a
 * millisecond of planning whatever their size (they are planned per call, db/pool.h): taken
 * as they came, at 500 edits/s rounds held 3.5 edits and the worker's backend spent more CPU
 * than either writer (bench/README.md "ingest: where PostgreSQL's CPU goes"). */
#define GATHER_MS 100

/* A waiting edit: in its project's FIFO or in the free list (next: index, -1 = the end). */
struct pending {
  struct fd_edit_key key;
  long next;
};

/* One project's waiting edits. Kept for the worker's life (projects are few). */
struct er_project {
  int64_t id;
  long head, tail, count;
  struct fd_turn turn; /* in the turn order while it has edits */
};

struct fd_edit_ratios {
  pthread_mutex_t lock;
  pthread_cond_t nonempty;
  struct pending *nodes; /* capacity of them */
  long capacity, count, free_head;
  struct er_project **projects;
  size_t n_projects, cap_projects;
  struct fd_turns turns; /* projects with edits, the next turn first */
  long dropped;          /* since the last warning */
  bool closed;
  char *conninfo;
  bool prepared;
  pthread_t thread;
};

/* The project's entry, created on its first edit; NULL when memory runs out. Under the lock. */
static struct er_project *project_of(struct fd_edit_ratios *er, int64_t id) {
  for (size_t i = 0; i < er->n_projects; i++)
    if (er->projects[i]->id == id) return er->projects[i];
  if (er->n_projects == er->cap_projects) {
    size_t n = er->cap_projects ? 2 * er->cap_projects : 8;
    struct er_project **grown = realloc(er->projects, n * sizeof *grown);
    if (!grown) return NULL;
    er->projects = grown;
    er->cap_projects = n;
  }
  struct er_project *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->id = id;
  p->head = p->tail = -1;
  er->projects[er->n_projects++] = p;
  return p;
}

void fd_edit_ratios_add(struct fd_edit_ratios *er, int64_t project_id, const char *id) {
  pthread_mutex_lock(&er->lock);
  struct er_project *p = er->closed ? NULL : project_of(er, project_id);
  /* a project may hold half of the backlog: the other half stays for the others */
  if (!p || er->free_head < 0 || p->count >= (er->capacity + 1) / 2) {
    if (er->dropped++ == 0)
      fd_log(FD_LOG_WARN,
             "msg=\"edit ratio backlog full (or a project holds half of it): new edits keep a null edit_ratio\" "
             "capacity=%ld project=%lld",
             er->capacity, (long long)project_id);
  } else {
    long n = er->free_head;
    er->free_head = er->nodes[n].next;
    er->nodes[n].key.project_id = project_id;
    snprintf(er->nodes[n].key.id, sizeof er->nodes[n].key.id, "%s", id);
    er->nodes[n].next = -1;
    if (p->tail >= 0) {
      er->nodes[p->tail].next = n;
    } else {
      p->head = n;
      fd_turns_join(&er->turns, &p->turn); /* its turn comes after the projects already waiting */
    }
    p->tail = n;
    p->count++;
    if (++er->count == 1 || er->count == ROUND) pthread_cond_signal(&er->nonempty);
  }
  pthread_mutex_unlock(&er->lock);
}

/* The next edit in turn: the first of the first project, which then goes to the end of the
 * turn order (or leaves it, empty). Under the lock, with count > 0. */
static struct fd_edit_key take_next(struct fd_edit_ratios *er) {
  struct er_project *p = FD_TURN_OWNER(er->turns.head, struct er_project, turn);
  long n = p->head;
  struct fd_edit_key key = er->nodes[n].key;
  p->head = er->nodes[n].next;
  if (p->head < 0) p->tail = -1;
  p->count--;
  er->count--;
  er->nodes[n].next = er->free_head;
  er->free_head = n;
  fd_turns_leave(&er->turns, NULL, &p->turn);
  if (p->head >= 0) fd_turns_join(&er->turns, &p->turn);
  return key;
}

/* One round: ratios of the pairs that have an original; a database error drops the round
 * (the ratios stay NULL; fd_db_ensure reconnects for the next one). */
static void compute_round(struct fd_db *db, const struct fd_edit_key *keys, size_t n) {
  struct fd_edit_pairs pairs;
  if (!fd_db_ensure(db) || fd_db_failed(fd_db_edit_pairs(db, keys, n, &pairs))) {
    fd_log(FD_LOG_WARN, "msg=\"edit ratios: could not read the edits\" edits=%zu", n);
    return;
  }
  double ratios[ROUND];
  struct fd_edit_pair known[ROUND];
  size_t k = 0;
  for (size_t i = 0; i < pairs.n && k < ROUND; i++) {
    const struct fd_edit_pair *p = &pairs.pairs[i];
    if (!p->original || !fd_edit_ratio(p->original, p->original_len, p->edited, p->edited_len, &ratios[k])) continue;
    known[k++] = *p;
  }
  if (fd_db_failed(fd_db_set_edit_ratios(db, known, ratios, k)))
    fd_log(FD_LOG_WARN, "msg=\"edit ratios: could not store them\" edits=%zu", k);
  fd_edit_pairs_free(&pairs);
}

static void *worker_main(void *arg) {
  struct fd_edit_ratios *er = arg;
  fd_thread_name("fd-editratio");
  fd_thread_set_nice(WORKER_NICE);
  char err[256];
  struct fd_db *db = NULL;
  struct fd_edit_key keys[ROUND];
  for (;;) {
    pthread_mutex_lock(&er->lock);
    while (er->count == 0 && !er->closed) pthread_cond_wait(&er->nonempty, &er->lock);
    struct timespec until = fd_deadline_ms(CLOCK_MONOTONIC, GATHER_MS);
    while (er->count < ROUND && !er->closed && pthread_cond_timedwait(&er->nonempty, &er->lock, &until) == 0) {}
    if (er->closed) {
      pthread_mutex_unlock(&er->lock);
      break;
    }
    size_t n = 0;
    for (; n < ROUND && er->count > 0; n++) keys[n] = take_next(er);
    if (er->dropped) {
      fd_log(FD_LOG_WARN, "msg=\"edit ratio backlog: edits left with a null edit_ratio\" dropped=%ld", er->dropped);
      er->dropped = 0;
    }
    pthread_mutex_unlock(&er->lock);
    if (!db) db = fd_db_connect(er->conninfo, er->prepared, err, sizeof err);
    if (db) compute_round(db, keys, n);
  }
  fd_db_close(db);
  return NULL;
}

static void er_free(struct fd_edit_ratios *er) {
  for (size_t i = 0; i < er->n_projects; i++) free(er->projects[i]);
  free(er->projects);
  free(er->nodes);
  free(er->conninfo);
  free(er);
}

struct fd_edit_ratios *fd_edit_ratios_start(const char *conninfo, bool prepared, long capacity) {
  struct fd_edit_ratios *er = calloc(1, sizeof *er);
  if (!er) return NULL;
  er->capacity = capacity > 0 ? capacity : 1;
  er->nodes = calloc((size_t)er->capacity, sizeof *er->nodes);
  er->conninfo = strdup(conninfo);
  er->prepared = prepared;
  er->free_head = -1;
  for (long i = er->capacity - 1; er->nodes && i >= 0; i--) {
    er->nodes[i].next = er->free_head;
    er->free_head = i;
  }
  pthread_mutex_init(&er->lock, NULL);
  fd_cond_init_monotonic(&er->nonempty);
  if (!er->nodes || !er->conninfo || pthread_create(&er->thread, NULL, worker_main, er) != 0) {
    pthread_mutex_destroy(&er->lock);
    pthread_cond_destroy(&er->nonempty);
    er_free(er);
    return NULL;
  }
  return er;
}

void fd_edit_ratios_stop(struct fd_edit_ratios *er) {
  if (!er) return;
  pthread_mutex_lock(&er->lock);
  er->closed = true;
  pthread_cond_broadcast(&er->nonempty);
  pthread_mutex_unlock(&er->lock);
  pthread_join(er->thread, NULL);
  pthread_mutex_destroy(&er->lock);
  pthread_cond_destroy(&er->nonempty);
  er_free(er);
}
