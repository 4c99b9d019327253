/* writer.c — the writer threads: take a batch of jobs, write all their rows in one
 * transaction (messages first, then events), COMMIT, then hand each
 * job back (job->done). A job larger than a batch is written as parts, one transaction
 * each, taken in turn with other projects' jobs (fd_ingest_submit). A batch that fails is retried job by job, so one
 * bad job cannot lose the others; a lost connection answers the batch 503 and marks the database down until a reconnect
 * succeeds (submissions fail fast meanwhile). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "db/ingest_db.h"
#include "db/txn.h"
#include "ingest/signal_names.h"
#include "pipeline/edit_ratios.h"
#include "pipeline/pipeline.h"
#include "pipeline/queue.h"
#include "pipeline/split.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/workers.h"

/* Stored edits waiting for their ratio (about 140 bytes each). */
#define EDIT_RATIO_BACKLOG 8192

struct fd_ingest {
  struct fd_queue q;
  char *conninfo;
  bool prepared;
  long batch_size;
  long part_rows; /* min(part_rows, batch_size) */
  int batch_wait_ms;
  int n_writers;
  pthread_t *threads;
  struct fd_edit_ratios *edit_ratios; /* fills feedback.edit_ratio after COMMIT */
};

/* Edits this batch stored go to the edit-ratio worker: a ratio costs up to milliseconds of
 * CPU and must not hold up the writer's next COMMIT, nor any acknowledgement. */
static void hand_over_edits(struct fd_ingest *ing, struct fd_ingest_job **jobs, size_t n) {
  if (!ing->edit_ratios) return;
  for (size_t i = 0; i < n; i++)
    for (size_t e = 0; e < jobs[i]->n_events; e++)
      if (jobs[i]->events[e]->kind == FD_KIND_EDIT && jobs[i]->event_status[e] == FD_ITEM_STORED)
        fd_edit_ratios_add(ing->edit_ratios, jobs[i]->project_id, jobs[i]->events[e]->id);
}

static int64_t created_or(int64_t created, bool defaulted, int64_t received) { return defaulted ? received : created; }

static enum fd_stored_kind stored_kind(enum fd_feedback_kind k) {
  switch (k) {
    case FD_KIND_RATING: return FD_STORED_RATING;
    case FD_KIND_COMMENT: return FD_STORED_COMMENT;
    case FD_KIND_EDIT: return FD_STORED_EDIT;
    case FD_KIND_COMPARISON: return FD_STORED_COMPARISON;
    case FD_KIND_SPAN: return FD_STORED_SPAN;
    case FD_KIND_STEP: return FD_STORED_STEP;
    case FD_KIND_REACTION: return FD_STORED_REACTION;
    case FD_KIND_SIGNAL: return FD_STORED_SIGNAL;
  }
  return FD_STORED_RATING;
}

/* Indexes of the first row with the same (project, id) — rows of one INSERT must be
 * distinct. O(n^2) over a batch's ids would be too slow at 5000 rows: use a hash table. */
struct keyset {
  size_t cap;
  long *slots; /* index+1 of the first row, 0 = empty */
};

static uint64_t key_hash(int64_t project, const char *id) {
  uint64_t h = 1469598103934665603ULL ^ (uint64_t)project;
  for (const unsigned char *p = (const unsigned char *)id; *p; p++) h = (h ^ *p) * 1099511628211ULL;
  return h;
}

/* first[i] = index of the first row sharing row i's key (i itself when it is first) */
static bool first_occurrences(size_t n, int64_t (*project)(const void *, size_t),
                              const char *(*id)(const void *, size_t), const void *refs, size_t *first) {
  struct keyset ks = {.cap = 16};
  while (ks.cap < 2 * n) ks.cap *= 2;
  ks.slots = calloc(ks.cap, sizeof *ks.slots);
  if (!ks.slots) return false;
  for (size_t i = 0; i < n; i++) {
    size_t s = key_hash(project(refs, i), id(refs, i)) & (ks.cap - 1);
    for (;;) {
      if (!ks.slots[s]) {
        ks.slots[s] = (long)i + 1;
        first[i] = i;
        break;
      }
      size_t j = (size_t)ks.slots[s] - 1;
      if (project(refs, j) == project(refs, i) && strcmp(id(refs, j), id(refs, i)) == 0) {
        first[i] = j;
        break;
      }
      s = (s + 1) & (ks.cap - 1);
    }
  }
  free(ks.slots);
  return true;
}

static const char *m_id(const void *r, size_t i) { return ((const struct fd_msg_ref *)r)[i].row->id; }
static int64_t m_proj(const void *r, size_t i) { return ((const struct fd_msg_ref *)r)[i].project_id; }
static const char *f_id(const void *r, size_t i) { return ((const struct fd_fb_ref *)r)[i].row->id; }
static int64_t f_proj(const void *r, size_t i) { return ((const struct fd_fb_ref *)r)[i].project_id; }

struct batch {
  struct fd_msg_ref *msgs;
  enum fd_item_status **msg_status; /* where each message row's status goes (NULL: inline turn) */
  size_t n_msgs;
  struct fd_fb_ref *fbs;
  enum fd_item_status **fb_status;
  size_t n_fbs;
  struct fd_det_ref *dets; /* detected feedback, first occurrence of each (project, id) */
  bool *det_inserted;      /* rewritten by every attempt of the transaction */
  size_t n_dets;
};

static void batch_free(struct batch *b) {
  free(b->msgs);
  free(b->msg_status);
  free(b->fbs);
  free(b->fb_status);
  free(b->dets);
  free(b->det_inserted);
}

/* The same turn in two jobs of a batch gives the same detected id: keep the first, the
 * rows of one INSERT must be distinct. */
static const char *d_id(const void *r, size_t i) { return ((const struct fd_det_ref *)r)[i].row->id; }
static int64_t d_proj(const void *r, size_t i) { return ((const struct fd_det_ref *)r)[i].project_id; }
static bool dets_build(struct batch *b, struct fd_ingest_job **jobs, size_t n) {
  size_t nd = 0;
  for (size_t j = 0; j < n; j++) nd += jobs[j]->n_detected;
  if (nd == 0) return true;
  b->dets = calloc(nd, sizeof *b->dets);
  b->det_inserted = calloc(nd, sizeof *b->det_inserted);
  size_t *first = calloc(nd, sizeof *first);
  bool ok = b->dets && b->det_inserted && first;
  for (size_t j = 0; ok && j < n; j++)
    for (size_t i = 0; i < jobs[j]->n_detected; i++)
      b->dets[b->n_dets++] = (struct fd_det_ref){jobs[j]->project_id, &jobs[j]->detected[i]};
  ok = ok && first_occurrences(b->n_dets, d_proj, d_id, b->dets, first);
  size_t kept = 0;
  for (size_t i = 0; ok && i < b->n_dets; i++)
    if (first[i] == i) b->dets[kept++] = b->dets[i];
  if (ok) b->n_dets = kept;
  free(first);
  return ok;
}

static bool batch_build(struct batch *b, struct fd_ingest_job **jobs, size_t n) {
  memset(b, 0, sizeof *b);
  size_t nm = 0, nf = 0;
  for (size_t j = 0; j < n; j++) {
    nm += jobs[j]->n_messages;
    nf += jobs[j]->n_events;
    for (size_t e = 0; e < jobs[j]->n_events; e++) nm += jobs[j]->events[e]->n_turns;
  }
  b->msgs = calloc(nm + 1, sizeof *b->msgs);
  b->msg_status = calloc(nm + 1, sizeof *b->msg_status);
  b->fbs = calloc(nf + 1, sizeof *b->fbs);
  b->fb_status = calloc(nf + 1, sizeof *b->fb_status);
  if (!b->msgs || !b->msg_status || !b->fbs || !b->fb_status) return false;
  for (size_t j = 0; j < n; j++) {
    struct fd_ingest_job *job = jobs[j];
    for (size_t m = 0; m < job->n_messages; m++) {
      const struct fd_message_row *row = job->messages[m];
      b->msg_status[b->n_msgs] = &job->message_status[m];
      b->msgs[b->n_msgs++] = (struct fd_msg_ref){
          job->project_id, created_or(row->created_at_us, row->created_at_defaulted, job->received_us), row};
    }
    for (size_t e = 0; e < job->n_events; e++) {
      const struct fd_feedback_row *row = job->events[e];
      int64_t created = created_or(row->created_at_us, row->created_at_defaulted, job->received_us);
      /* a part of a split job (pipeline.h): its own range of turns, and no open event's row */
      bool open = job->event_open_ && e + 1 == job->n_events;
      size_t t_end = open ? job->turn_to_ : row->n_turns;
      for (size_t t = e == 0 ? job->turn_from_ : 0; t < t_end; t++) {
        const struct fd_message_row *turn = &row->turns[t];
        b->msgs[b->n_msgs++] = (struct fd_msg_ref){
            job->project_id, created_or(turn->created_at_us, turn->created_at_defaulted, created), turn};
      }
      if (open) continue;
      b->fb_status[b->n_fbs] = &job->event_status[e];
      b->fbs[b->n_fbs++] = (struct fd_fb_ref){job->project_id, created, row};
    }
  }
  return dets_build(b, jobs, n);
}

/* Statuses of rows that were not inserted: same hash as the stored row -> duplicate, else
 * conflict. Inline turns (no status slot) never conflict. */
static void settle(size_t n, const bool *inserted_first, const size_t *first, enum fd_item_status **status,
                   const unsigned char (*hashes)[FD_SHA256_LEN], const bool *found,
                   const unsigned char *(*own_hash)(const void *, size_t), const void *refs) {
  for (size_t i = 0; i < n; i++) {
    if (!status[i]) continue;
    if (first[i] == i && inserted_first[i]) {
      *status[i] = FD_ITEM_STORED;
    } else if (found[i] && memcmp(hashes[i], own_hash(refs, i), FD_SHA256_LEN) == 0) {
      *status[i] = FD_ITEM_DUPLICATE;
    } else {
      *status[i] = FD_ITEM_CONFLICT;
    }
  }
}

static const unsigned char *m_hash(const void *r, size_t i) {
  return ((const struct fd_msg_ref *)r)[i].row->content_sha256;
}
static const unsigned char *f_hash(const void *r, size_t i) {
  return ((const struct fd_fb_ref *)r)[i].row->content_sha256;
}

/* Insert one kind of rows: distinct keys go into the INSERT, then every row is settled (each
 * status slot is rewritten, so a retried transaction overwrites what its failed attempt set).
 * own_commit: feedback rows outside a transaction, stored by fd_db_store_feedback (binary COPY
 * when it can). FD_DB_NONE or the failure. */
static enum fd_db_status write_rows(struct fd_db *db, void *refs, size_t n, size_t elem, enum fd_item_status **status,
                                    int64_t (*proj)(const void *, size_t), const char *(*id)(const void *, size_t),
                                    const unsigned char *(*own_hash)(const void *, size_t), bool is_messages,
                                    bool own_commit) {
  if (n == 0) return FD_DB_NONE;
  enum fd_db_status st = FD_DB_NONE;
  size_t *first = calloc(n, sizeof *first);
  bool *ins_uniq = calloc(n, sizeof *ins_uniq), *inserted = calloc(n, sizeof *inserted),
       *found = calloc(n, sizeof *found);
  unsigned char(*hashes)[FD_SHA256_LEN] = calloc(n, sizeof *hashes);
  char *uniq = calloc(n, elem);
  size_t *uniq_of = calloc(n, sizeof *uniq_of);
  if (!first || !ins_uniq || !inserted || !found || !hashes || !uniq || !uniq_of ||
      !first_occurrences(n, proj, id, refs, first)) {
    st = fd_db_bug("writer: out of memory");
    goto out;
  }
  size_t nu = 0;
  for (size_t i = 0; i < n; i++) {
    if (first[i] != i) continue;
    memcpy(uniq + nu * elem, (char *)refs + i * elem, elem);
    uniq_of[nu++] = i;
  }
  if (is_messages)
    st = fd_db_insert_messages(db, (struct fd_msg_ref *)(void *)uniq, nu, ins_uniq);
  else if (own_commit)
    st = fd_db_store_feedback(db, (struct fd_fb_ref *)(void *)uniq, nu, ins_uniq);
  else
    st = fd_db_insert_feedback(db, (struct fd_fb_ref *)(void *)uniq, nu, ins_uniq);
  if (fd_db_failed(st)) goto out;
  for (size_t u = 0; u < nu; u++) inserted[uniq_of[u]] = ins_uniq[u];
  /* hashes are needed for every row with a status that is not a fresh insert */
  bool need = false;
  for (size_t i = 0; i < n && !need; i++) need = status[i] && !(first[i] == i && inserted[i]);
  if (need) {
    st = is_messages ? fd_db_message_hashes(db, refs, n, hashes, found)
                     : fd_db_feedback_hashes(db, refs, n, hashes, found);
    if (fd_db_failed(st)) goto out;
  }
  settle(n, inserted, first, status, (const unsigned char(*)[FD_SHA256_LEN])hashes, found, own_hash, refs);
  st = FD_DB_NONE;
out:
  free(first);
  free(ins_uniq);
  free(inserted);
  free(found);
  free(hashes);
  free(uniq);
  free(uniq_of);
  return st;
}

/* /metrics: the rows a write stored, by kind, counted once it committed (not per attempt). */
static void count_stored(const struct batch *b) {
  for (size_t i = 0; i < b->n_msgs; i++)
    if (b->msg_status[i] && *b->msg_status[i] == FD_ITEM_STORED) FD_METRIC_ADD(fd_metrics.stored[FD_STORED_MESSAGE], 1);
  for (size_t i = 0; i < b->n_fbs; i++) {
    const struct fd_feedback_row *row = b->fbs[i].row;
    if (!b->fb_status[i] || *b->fb_status[i] != FD_ITEM_STORED) continue;
    FD_METRIC_ADD(fd_metrics.stored[stored_kind(row->kind)], 1);
    if (row->kind == FD_KIND_REACTION) fd_metrics_reaction(row->reaction);
    int s = row->kind == FD_KIND_SIGNAL ? fd_signal_index(row->signal) : -1;
    if (s >= 0) FD_METRIC_ADD(fd_metrics.signals[s], 1);
  }
  for (size_t i = 0; i < b->n_dets; i++) {
    if (!b->det_inserted[i]) continue;
    FD_METRIC_ADD(fd_metrics.stored[FD_STORED_SIGNAL], 1);
    int s = fd_signal_index(b->dets[i].row->signal);
    if (s >= 0) FD_METRIC_ADD(fd_metrics.signals[s], 1);
  }
}
_Static_assert(FD_METRIC_SIGNALS == FD_SIGNALS_ALL, "one /metrics counter per signal name");

/* The body of a batch's transaction (db/txn.h): messages first, then the feedback rows,
 * then the feedback detected in the turns (which reads the stored turns and parents).
 * Re-runnable: every status slot and det_inserted are rewritten. */
static enum fd_db_status write_batch_rows(struct fd_db *db, void *arg) {
  struct batch *b = arg;
  enum fd_db_status st =
      write_rows(db, b->msgs, b->n_msgs, sizeof *b->msgs, b->msg_status, m_proj, m_id, m_hash, true, false);
  if (!fd_db_failed(st))
    st = write_rows(db, b->fbs, b->n_fbs, sizeof *b->fbs, b->fb_status, f_proj, f_id, f_hash, false, false);
  if (!fd_db_failed(st) && b->n_dets) {
    enum fd_db_status d = fd_db_insert_detected(db, b->dets, b->n_dets, b->det_inserted);
    if (fd_db_failed(d)) st = d;
  }
  return st;
}

/* feedbackd_events_{duplicate,conflict}_total: counted once the jobs' statuses are final
 * (committed), so a batch retried job by job after a failure is not counted twice. */
static void count_outcomes(struct fd_ingest_job **jobs, size_t n) {
  uint64_t dup = 0, conflict = 0;
  for (size_t j = 0; j < n; j++) {
    for (size_t i = 0; i < jobs[j]->n_events; i++) {
      dup += jobs[j]->event_status[i] == FD_ITEM_DUPLICATE;
      conflict += jobs[j]->event_status[i] == FD_ITEM_CONFLICT;
    }
    for (size_t i = 0; i < jobs[j]->n_messages; i++) {
      dup += jobs[j]->message_status[i] == FD_ITEM_DUPLICATE;
      conflict += jobs[j]->message_status[i] == FD_ITEM_CONFLICT;
    }
  }
  if (dup) FD_METRIC_ADD(fd_metrics.duplicates, dup);
  if (conflict) FD_METRIC_ADD(fd_metrics.conflicts, conflict);
}

bool fd_ingest_write_jobs(struct fd_db *db, struct fd_ingest_job **jobs, size_t n) {
  struct batch b;
  bool ok = false;
  if (!batch_build(&b, jobs, n)) goto out;
  if (b.n_msgs == 0) {
    /* The common batch (feedback rows only) is committed on its own, by binary COPY or one
     * INSERT (fd_db_store_feedback). The duplicate/conflict lookup that may follow only
     * reads rows that conflicted, i.e. rows committed before. Not through the transaction runner (two statements, no
     * transaction): a retry after the INSERT committed (a failed lookup) would insert again and call its own rows
     * duplicates; a failure falls back to write_batch's job-by-job writes instead. */
    ok = !fd_db_failed(write_rows(db, b.fbs, b.n_fbs, sizeof *b.fbs, b.fb_status, f_proj, f_id, f_hash, false, true));
  } else {
    /* a deadlock with another writer (the same ids in another order) is retried here */
    ok = !fd_db_failed(fd_db_txn(db, FD_TXN_READ_COMMITTED, write_batch_rows, &b, "ingest batch"));
  }
  if (ok) count_stored(&b);
out:
  if (ok) count_outcomes(jobs, n);
  batch_free(&b);
  return ok;
}

static void reset_statuses(struct fd_ingest_job *job) {
  for (size_t i = 0; i < job->n_events; i++) job->event_status[i] = FD_ITEM_PENDING;
  for (size_t i = 0; i < job->n_messages; i++) job->message_status[i] = FD_ITEM_PENDING;
}

/* One batch: all together; on failure each job alone; a job that still fails on a live
 * connection gets FD_ITEM_ERROR for its rows (logged as a bug: validation let it through). */
static void write_batch(struct fd_ingest *ing, struct fd_db *db, struct fd_ingest_job **jobs, size_t n) {
  uint64_t t0 = fd_now_us();
  long rows = 0;
  int64_t oldest = INT64_MAX;
  for (size_t i = 0; i < n; i++) {
    rows += fd_job_rows(jobs[i]);
    int64_t since = jobs[i]->queued_us_ ? jobs[i]->queued_us_ : jobs[i]->received_us;
    if (since < oldest) oldest = since;
  }
  /* how long the batch's oldest job waited for a writer (since its request's body was read,
   * or since a part after the first was queued):
   * one clock read per batch, nothing per event */
  int64_t waited = fd_wall_us() - oldest;
  fd_histogram_observe(&fd_metrics.ingest_wait_seconds, waited > 0 ? (double)waited / 1e6 : 0);
  if (fd_db_ensure(db) && fd_ingest_write_jobs(db, jobs, n)) {
    fd_histogram_observe(&fd_metrics.batch_size, (double)rows);
    fd_histogram_observe(&fd_metrics.commit_seconds, (double)(fd_now_us() - t0) / 1e6);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    reset_statuses(jobs[i]);
    if (PQstatus(fd_db_conn(db) ? fd_db_conn(db) : NULL) != CONNECTION_OK && !fd_db_ensure(db)) {
      jobs[i]->unavailable = true;
      continue;
    }
    if (fd_ingest_write_jobs(db, &jobs[i], 1)) continue;
    reset_statuses(jobs[i]);
    if (PQstatus(fd_db_conn(db)) != CONNECTION_OK) {
      jobs[i]->unavailable = true;
      continue;
    }
    fd_log_bug("msg=\"a validated job failed to write\" rows=%ld", fd_job_rows(jobs[i]));
    for (size_t e = 0; e < jobs[i]->n_events; e++) jobs[i]->event_status[e] = FD_ITEM_ERROR;
    for (size_t m = 0; m < jobs[i]->n_messages; m++) jobs[i]->message_status[m] = FD_ITEM_ERROR;
  }
  bool any_down = false;
  for (size_t i = 0; i < n; i++) any_down = any_down || jobs[i]->unavailable;
  if (any_down) {
    fd_log(FD_LOG_WARN, "msg=\"database unreachable: answering 503 until it is back\"");
    fd_queue_set_db_down(&ing->q, true);
  }
}

/* Jobs queued before the database was marked down would otherwise wait (their requests
 * hanging) until it comes back: answer them 503 now, the clients retry with the same ids. */
static void fail_queued(struct fd_ingest *ing) {
  struct fd_ingest_job *list = fd_queue_take_all(&ing->q);
  for (struct fd_ingest_job *j = list, *next; j; j = next) {
    next = j->next_; /* done() may free the job */
    j->unavailable = true;
    j->done(j);
  }
}

static void *writer_main(void *arg) {
  struct fd_ingest *ing = arg;
  fd_thread_name("fd-writer");
  char err[512];
  struct fd_db *db = fd_db_connect(ing->conninfo, ing->prepared, err, sizeof err);
  size_t cap = 64;
  struct fd_ingest_job **jobs = malloc(cap * sizeof *jobs);
  for (;;) {
    /* while the database is down nothing new is queued; probe it twice a second */
    while (fd_queue_waits_for_db(&ing->q)) {
      if (!db) db = fd_db_connect(ing->conninfo, ing->prepared, err, sizeof err);
      if (db && fd_db_ensure(db) && fd_db_run(db, "SELECT 1", NULL, 0)) {
        fd_log(FD_LOG_INFO, "msg=\"database reachable again\"");
        fd_queue_set_db_down(&ing->q, false);
        break;
      }
      fail_queued(ing);
      usleep(500000);
    }
    struct fd_ingest_job *list = fd_queue_take(&ing->q, ing->batch_size, ing->batch_wait_ms);
    if (!list) break;
    bool part = list->part_; /* a part is a batch of its own (queue.h) */
    int64_t part_project = list->project_id;
    uint64_t t0 = part ? fd_now_us() : 0;
    size_t n = 0;
    for (struct fd_ingest_job *j = list; j; j = j->next_) {
      if (n == cap) {
        struct fd_ingest_job **grown = realloc(jobs, 2 * cap * sizeof *jobs);
        if (grown) {
          jobs = grown;
          cap *= 2;
        }
      }
      if (jobs && n < cap) jobs[n++] = j;
    }
    if (!db) db = fd_db_connect(ing->conninfo, ing->prepared, err, sizeof err);
    if (db && jobs) {
      write_batch(ing, db, jobs, n);
      hand_over_edits(ing, jobs, n);
    } else {
      for (size_t i = 0; i < n; i++) jobs[i]->unavailable = true;
      fd_queue_set_db_down(&ing->q, true);
    }
    /* done() may free the job: read next_ first */
    for (struct fd_ingest_job *j = list, *next; j; j = next) {
      next = j->next_;
      j->done(j);
    }
    if (part) {
      /* what the part took of this writer decides how long parts yield to other projects */
      uint64_t busy = fd_now_us() - t0;
      uint64_t pause = fd_queue_part_done(&ing->q, part_project, busy);
      FD_METRIC_ADD(fd_metrics.part_us, busy);
      if (pause) FD_METRIC_ADD(fd_metrics.bulk_throttled_us, pause);
    }
  }
  free(jobs);
  fd_db_close(db);
  return NULL;
}

struct fd_ingest *fd_ingest_start(const struct fd_config *cfg, const char *conninfo) {
  struct fd_ingest *ing = calloc(1, sizeof *ing);
  if (!ing) return NULL;
  ing->conninfo = strdup(conninfo);
  ing->prepared = cfg->prepared_statements;
  ing->batch_size = cfg->batch_size;
  ing->part_rows = cfg->part_rows < cfg->batch_size ? cfg->part_rows : cfg->batch_size;
  ing->batch_wait_ms = cfg->batch_wait_ms;
  ing->threads = calloc((size_t)cfg->writers, sizeof *ing->threads);
  if (!ing->conninfo || !ing->threads) {
    fd_ingest_free(ing);
    return NULL;
  }
  fd_queue_init(&ing->q, cfg->queue_capacity);
  /* one writer stays free of parts for the other projects' small jobs (queue.h) */
  fd_queue_set_parts_max(&ing->q, cfg->writers - 1);
  fd_queue_set_bulk_share(&ing->q, cfg->bulk_share);
  ing->edit_ratios =
      fd_edit_ratios_start(conninfo, cfg->prepared_statements, EDIT_RATIO_BACKLOG, cfg->edit_ratio_cpu_share);
  if (!ing->edit_ratios) fd_log(FD_LOG_WARN, "msg=\"edit ratio worker did not start: edits keep a null edit_ratio\"");
  for (int i = 0; i < cfg->writers; i++) {
    if (pthread_create(&ing->threads[i], NULL, writer_main, ing) != 0) break;
    ing->n_writers++;
  }
  if (ing->n_writers == 0) {
    fd_ingest_free(ing);
    return NULL;
  }
  return ing;
}

/* A job of more than batch_size rows, written as parts (pipeline.h). */
struct split {
  struct fd_ingest *ing;
  struct fd_ingest_job *job;
  size_t n;
  struct fd_ingest_job parts[];
};

/* writer thread: one part committed (or could not be written). The next part goes to the
 * end of its project's FIFO, so other projects' jobs are taken between two parts. */
static void part_done(struct fd_ingest_job *part) {
  struct split *s = part->done_arg;
  size_t k = (size_t)(part - s->parts);
  if (k + 1 < s->n && !part->unavailable) {
    s->parts[k + 1].queued_us_ = fd_wall_us();
    fd_queue_push_next_part(&s->ing->q, &s->parts[k + 1]);
    return;
  }
  long never_queued = 0;
  for (size_t i = k + 1; i < s->n; i++) never_queued += fd_job_rows(&s->parts[i]);
  if (never_queued) fd_queue_release(&s->ing->q, s->job->project_id, never_queued);
  struct fd_ingest_job *job = s->job;
  job->unavailable = part->unavailable;
  free(s);
  job->done(job);
}

static struct split *split_job(struct fd_ingest *ing, struct fd_ingest_job *job, long total, long max_rows) {
  size_t cap = fd_job_parts_max(total, max_rows);
  struct split *s = calloc(1, sizeof *s + cap * sizeof s->parts[0]);
  if (!s) return NULL;
  s->ing = ing;
  s->job = job;
  s->n = fd_job_split(job, max_rows, s->parts);
  for (size_t i = 0; i < s->n; i++) {
    s->parts[i].done = part_done;
    s->parts[i].done_arg = s;
  }
  return s;
}

bool fd_ingest_submit(struct fd_ingest *ing, struct fd_ingest_job *job) {
  long rows = fd_job_rows(job);
  bool ok;
  if (rows <= ing->part_rows) {
    ok = fd_queue_push(&ing->q, job);
  } else {
    struct split *s = split_job(ing, job, rows, ing->part_rows);
    ok = s && fd_queue_push_first_part(&ing->q, &s->parts[0], rows);
    if (ok) FD_METRIC_ADD(fd_metrics.split_jobs, 1);
    if (!ok) free(s);
  }
  if (!ok) FD_METRIC_ADD(fd_metrics.rejected_full, 1);
  return ok;
}

void fd_ingest_stop(struct fd_ingest *ing) {
  if (!ing || !ing->n_writers) return;
  fd_queue_close(&ing->q);
  for (int i = 0; i < ing->n_writers; i++) pthread_join(ing->threads[i], NULL);
  ing->n_writers = 0;
  fd_edit_ratios_stop(ing->edit_ratios);
  ing->edit_ratios = NULL;
}

void fd_ingest_free(struct fd_ingest *ing) {
  if (!ing) return;
  fd_ingest_stop(ing);
  if (ing->threads && ing->conninfo) fd_queue_destroy(&ing->q);
  free(ing->threads);
  free(ing->conninfo);
  free(ing);
}

bool fd_ingest_project_full(struct fd_ingest *ing, int64_t project_id) {
  return fd_queue_project_full(&ing->q, project_id);
}

bool fd_ingest_others_active(struct fd_ingest *ing, int64_t project_id) {
  return fd_queue_others_active(&ing->q, project_id);
}

long fd_ingest_depth(struct fd_ingest *ing) { return fd_queue_rows(&ing->q); }
