/* edit_ratios.c — the edit-ratio worker (see edit_ratios.h). A backlog of edit keys filled by
 * the writers after COMMIT, one FIFO per project taken in turn, no project holding more than
 * half of it (so one project's flood of edits against a large original neither delays nor
 * crowds out another project's ratios); the worker takes a few at a time, reads each edit and each
 * distinct original once, computes the bounded ratio (ingest/edit_ratio.h) and UPDATEs
 * the rows. It runs at a lower scheduling priority: a flood of edits slows the ratios, not
 * the acknowledgements. And each project's ratios may use only a share of one core (its CPU
 * budget, docs/edit-ratio.md "CPU budget"): the worker's CPU is a debt of the project that
 * drains with wall time, and a project in debt is passed over until it has paid. */
#include "pipeline/edit_ratios.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/edit_ratio_db.h"
#include "ingest/edit_ratio.h"
#include "util/clock.h"
#include "util/cpu_debt.h"
#include "util/log.h"
#include "util/metrics.h"
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

/* One project's waiting edits and CPU debt. Kept for the worker's life (projects are few). */
struct er_project {
  struct fd_cpu_account acct; /* first (util/cpu_debt.h): the project's id and CPU debt */
  long head, tail, count;     /* head and tail mean something while count > 0 */
  struct fd_turn turn;        /* in the turn order while it has edits */
};

struct fd_edit_ratios {
  pthread_mutex_t lock;
  pthread_cond_t nonempty;
  struct pending *nodes; /* capacity of them */
  long capacity, count, free_head;
  struct fd_cpu_accounts projects; /* er_project entries; their debts drain at the share of one core */
  struct fd_turns turns;           /* projects with edits, the next turn first */
  long dropped;                    /* since the last warning */
  bool closed;
  char *conninfo;
  bool prepared;
  pthread_t thread;
};

/* The project's entry, created on its first edit; NULL when memory runs out. Under the lock. */
static struct er_project *project_of(struct fd_edit_ratios *er, int64_t id) {
  return fd_cpu_account_of(&er->projects, id, sizeof(struct er_project));
}

void fd_edit_ratios_add(struct fd_edit_ratios *er, int64_t project_id, const char *id) {
  pthread_mutex_lock(&er->lock);
  struct er_project *p = er->closed ? NULL : project_of(er, project_id);
  /* a project may hold half of the backlog: the other half stays for the others */
  if (!p || er->free_head < 0 || p->count >= (er->capacity + 1) / 2) {
    FD_METRIC_ADD(fd_metrics.edit_ratio_dropped, 1);
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
    bool joined = p->count == 0;
    if (!joined) {
      er->nodes[p->tail].next = n;
    } else {
      p->head = n;
      fd_turns_join(&er->turns, &p->turn); /* its turn comes after the projects already waiting */
    }
    p->tail = n;
    p->count++;
    /* the worker may be waiting for debtors while this project can be served at once */
    if (++er->count == 1 || er->count == ROUND || joined || p->count == ROUND) pthread_cond_signal(&er->nonempty);
  }
  pthread_mutex_unlock(&er->lock);
}

/* What p still owes at `now` (0: servable). */
static int64_t debt_now(const struct fd_edit_ratios *er, const struct er_project *p, int64_t now) {
  return fd_cpu_account_owed(&er->projects, &p->acct, now);
}

/* Waiting edits of the projects not in debt at `now`; *wake = when the first debtor with
 * edits will have paid (INT64_MAX: none). A debtor passed over is counted once per debt.
 * Under the lock. */
static long servable(struct fd_edit_ratios *er, int64_t now, int64_t *wake) {
  long n = 0;
  *wake = INT64_MAX;
  for (struct fd_turn *t = er->turns.head; t; t = t->next) {
    struct er_project *p = FD_TURN_OWNER(t, struct er_project, turn);
    if (debt_now(er, p, now))
      fd_cpu_account_pass(&er->projects, &p->acct, now, wake);
    else
      n += p->count;
  }
  return n;
}

/* The next edit in turn: the first of the first project not in debt, which then goes to the
 * end of the turn order (or leaves it, empty); the debtors before it keep their places.
 * Under the lock, with servable(now) > 0. */
static struct fd_edit_key take_next(struct fd_edit_ratios *er, int64_t now, struct er_project **owner) {
  struct fd_turn *prev = NULL, *t = er->turns.head;
  while (debt_now(er, FD_TURN_OWNER(t, struct er_project, turn), now)) {
    prev = t;
    t = t->next;
  }
  struct er_project *p = FD_TURN_OWNER(t, struct er_project, turn);
  long n = p->head;
  struct fd_edit_key key = er->nodes[n].key;
  p->head = er->nodes[n].next;
  p->count--;
  er->count--;
  er->nodes[n].next = er->free_head;
  er->free_head = n;
  fd_turns_leave(&er->turns, prev, &p->turn);
  if (p->count > 0) fd_turns_join(&er->turns, &p->turn);
  *owner = p;
  return key;
}

/* p used cpu nanoseconds in a round that ran from t0 to t1: its debt grows by them and
 * drains by the share of the round's wall time (a project alone on an idle core at share 1
 * never owes anything). Under the lock. */
static void charge(struct fd_edit_ratios *er, struct er_project *p, int64_t cpu, int64_t t0, int64_t t1) {
  fd_cpu_account_charge(&er->projects, &p->acct, cpu, t0, t1);
}

/* The key of a pair (among the round's n keys); n when none matches. */
static size_t key_of(const struct fd_edit_pair *p, const struct fd_edit_key *keys, size_t n) {
  size_t j = 0;
  while (j < n && !(keys[j].project_id == p->project_id && strcmp(keys[j].id, p->id) == 0)) j++;
  return j;
}

/* One round: ratios of the pairs that have an original, each one's thread CPU added to
 * cpu[its key]; a database error drops the round (the ratios stay NULL; fd_db_ensure
 * reconnects for the next one). */
static void compute_round(struct fd_db *db, const struct fd_edit_key *keys, size_t n, int64_t *cpu) {
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
    if (!p->original) continue;
    int64_t c0 = fd_thread_cpu_ns();
    bool ok = fd_edit_ratio(p->original, p->original_len, p->edited, p->edited_len, &ratios[k]);
    size_t j = key_of(p, keys, n);
    if (j < n) cpu[j] += fd_thread_cpu_ns() - c0;
    if (ok) known[k++] = *p;
  }
  FD_METRIC_ADD(fd_metrics.edit_ratios_computed, (uint64_t)k);
  if (fd_db_failed(fd_db_set_edit_ratios(db, known, ratios, k)))
    fd_log(FD_LOG_WARN, "msg=\"edit ratios: could not store them\" edits=%zu", k);
  fd_edit_pairs_free(&pairs);
}

/* Wait until a round can be taken (up to ROUND edits of projects not in debt, or fewer once
 * the first of them has waited GATHER_MS) and take it; 0 once closed. Under the lock. */
static size_t take_round(struct fd_edit_ratios *er, struct fd_edit_key *keys, struct er_project **owners) {
  int64_t gather_until = -1;
  for (;;) {
    if (er->closed) return 0;
    int64_t now = fd_mono_ns(), wake;
    long ready = servable(er, now, &wake);
    if (ready > 0 && gather_until < 0) gather_until = now + (int64_t)GATHER_MS * 1000000;
    if (ready >= ROUND || (ready > 0 && now >= gather_until)) {
      size_t n = 0;
      for (; n < ROUND && servable(er, now, &wake) > 0; n++) keys[n] = take_next(er, now, &owners[n]);
      return n;
    }
    if (ready > 0 && gather_until < wake) wake = gather_until;
    if (wake == INT64_MAX) {
      pthread_cond_wait(&er->nonempty, &er->lock);
    } else {
      struct timespec until = {(time_t)(wake / 1000000000), (long)(wake % 1000000000)};
      pthread_cond_timedwait(&er->nonempty, &er->lock, &until);
    }
  }
}

static void *worker_main(void *arg) {
  struct fd_edit_ratios *er = arg;
  fd_thread_name("fd-editratio");
  fd_thread_set_nice(WORKER_NICE);
  char err[256];
  struct fd_db *db = NULL;
  struct fd_edit_key keys[ROUND];
  struct er_project *owners[ROUND];
  for (;;) {
    pthread_mutex_lock(&er->lock);
    size_t n = take_round(er, keys, owners);
    if (er->dropped) {
      fd_log(FD_LOG_WARN, "msg=\"edit ratio backlog: edits left with a null edit_ratio\" dropped=%ld", er->dropped);
      er->dropped = 0;
    }
    pthread_mutex_unlock(&er->lock);
    if (n == 0) break; /* closed */
    int64_t t0 = fd_mono_ns(), c0 = fd_thread_cpu_ns(), cpu[ROUND] = {0};
    if (!db) db = fd_db_connect(er->conninfo, er->prepared, err, sizeof err);
    if (db) compute_round(db, keys, n, cpu);
    int64_t used = fd_thread_cpu_ns() - c0, t1 = fd_mono_ns(), ratios = 0;
    FD_METRIC_ADD(fd_metrics.edit_ratio_cpu_ns, (uint64_t)used);
    /* the round's reads, writes and connecting are shared by its edits alike, each ratio
     * goes to its own project */
    for (size_t i = 0; i < n; i++) ratios += cpu[i];
    int64_t common = used > ratios ? (used - ratios) / (int64_t)n : 0;
    pthread_mutex_lock(&er->lock);
    for (size_t i = 0; i < n; i++) {
      if (!owners[i]) continue;
      int64_t sum = 0;
      for (size_t j = i; j < n; j++) /* every key of this project, once */
        if (owners[j] == owners[i]) {
          sum += cpu[j] + common;
          if (j > i) owners[j] = NULL;
        }
      charge(er, owners[i], sum, t0, t1);
    }
    pthread_mutex_unlock(&er->lock);
  }
  fd_db_close(db);
  return NULL;
}

static void er_free(struct fd_edit_ratios *er) {
  fd_cpu_accounts_free(&er->projects);
  free(er->nodes);
  free(er->conninfo);
  free(er);
}

struct fd_edit_ratios *fd_edit_ratios_start(const char *conninfo, bool prepared, long capacity, double cpu_share) {
  struct fd_edit_ratios *er = calloc(1, sizeof *er);
  if (!er) return NULL;
  er->capacity = capacity > 0 ? capacity : 1;
  fd_cpu_accounts_init(&er->projects, cpu_share, &fd_metrics.edit_ratio_throttled);
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
