/* edit_ratios.c — the edit-ratio worker (see edit_ratios.h). A ring of edit keys filled by
 * the writers after COMMIT; the worker takes a few at a time, reads each edit and each
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
#include "util/workers.h"

/* Edits per round: bounds the memory of one read (each edit and original up to 256 KiB). */
#define ROUND 16
/* Below the writers and HTTP threads (nice 0): their CPU comes first. */
#define WORKER_NICE 10
/* How long a round waits for a full ROUND of edits. A round's two statements cost about a
 * millisecond of planning whatever their size (they are planned per call, db/pool.h): taken
 * as they came, at 500 edits/s rounds held 3.5 edits and the worker's backend spent more CPU
 * than either writer (bench/README.md "ingest: where PostgreSQL's CPU goes"). */
#define GATHER_MS 100

struct fd_edit_ratios {
  pthread_mutex_t lock;
  pthread_cond_t nonempty;
  struct fd_edit_key *ring;
  long capacity, head, count;
  long dropped; /* since the last warning */
  bool closed;
  char *conninfo;
  bool prepared;
  pthread_t thread;
};

void fd_edit_ratios_add(struct fd_edit_ratios *er, int64_t project_id, const char *id) {
  pthread_mutex_lock(&er->lock);
  if (er->closed || er->count == er->capacity) {
    if (er->dropped++ == 0)
      fd_log(FD_LOG_WARN, "msg=\"edit ratio backlog full: new edits keep a null edit_ratio\" capacity=%ld",
             er->capacity);
  } else {
    struct fd_edit_key *k = &er->ring[(er->head + er->count) % er->capacity];
    k->project_id = project_id;
    snprintf(k->id, sizeof k->id, "%s", id);
    if (++er->count == 1 || er->count == ROUND) pthread_cond_signal(&er->nonempty);
  }
  pthread_mutex_unlock(&er->lock);
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
    for (; n < ROUND && er->count > 0; n++) {
      keys[n] = er->ring[er->head];
      er->head = (er->head + 1) % er->capacity;
      er->count--;
    }
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

struct fd_edit_ratios *fd_edit_ratios_start(const char *conninfo, bool prepared, long capacity) {
  struct fd_edit_ratios *er = calloc(1, sizeof *er);
  if (!er) return NULL;
  er->capacity = capacity > 0 ? capacity : 1;
  er->ring = calloc((size_t)er->capacity, sizeof *er->ring);
  er->conninfo = strdup(conninfo);
  er->prepared = prepared;
  pthread_mutex_init(&er->lock, NULL);
  fd_cond_init_monotonic(&er->nonempty);
  if (!er->ring || !er->conninfo || pthread_create(&er->thread, NULL, worker_main, er) != 0) {
    pthread_mutex_destroy(&er->lock);
    pthread_cond_destroy(&er->nonempty);
    free(er->ring);
    free(er->conninfo);
    free(er);
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
  free(er->ring);
  free(er->conninfo);
  free(er);
}
