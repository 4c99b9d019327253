/* pipeline.h — the write path (the ingest pipeline, fd_ingest_*): a bounded queue of validated rows and writer threads
 * that commit them in batches (group commit at the application level), so a request is answered 201/200 only after the
 * transaction holding its rows committed, yet many requests share one COMMIT. See docs/architecture.md "The write
 * path".
 *
 * A job is one request's rows. The HTTP thread validates, suspends the connection, then
 * submits; a writer thread commits the job with others and calls job->done, which resumes
 * the connection; the handler's resume step replies from the job's results. */
#ifndef FD_PIPELINE_PIPELINE_H
#define FD_PIPELINE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"
#include "ingest/detected.h"
#include "ingest/rows.h"
#include "util/config.h"

struct fd_ingest;

enum fd_item_status { FD_ITEM_PENDING = 0, FD_ITEM_STORED, FD_ITEM_DUPLICATE, FD_ITEM_CONFLICT, FD_ITEM_ERROR };

struct fd_ingest_job {
  int64_t project_id;
  int64_t received_us;             /* wall clock; defaulted created_at values get it */
  struct fd_feedback_row **events; /* owned by the job's creator */
  size_t n_events;
  struct fd_message_row **messages; /* owned by the job's creator */
  size_t n_messages;
  enum fd_item_status *event_status;   /* n_events entries, filled by the writer */
  enum fd_item_status *message_status; /* n_messages entries */
  /* Feedback detected in the job's user turns (docs/detection.md), owned by the job's
   * creator; stored after the turns, in the same transaction, when the turn's parent is a
   * stored assistant message. No status: the client did not send them. */
  struct fd_detected_row *detected;
  size_t n_detected;
  bool unavailable;                        /* the database could not be reached: answer 503 */
  void (*done)(struct fd_ingest_job *job); /* called once, on a writer thread */
  void *done_arg;
  struct fd_ingest_job *next_; /* private: queue link */
  long rows_;                  /* private: fd_job_rows, kept by the queue */
  /* private (writer.c): a job of more than part_rows rows is written as parts of at most
   * part_rows rows, one after the other, each in its own transaction (docs/architecture.md "The
   * write path"). A part's events[0] may start at turn turn_from_ (the earlier turns were in
   * the previous part); with event_open_, its last event stores only the turns before
   * turn_to_, and its row comes in a later part. */
  size_t turn_from_, turn_to_;
  bool event_open_;
  bool part_;         /* private: a part (the queue puts at most one in a batch) */
  int64_t queued_us_; /* private: wall clock when a part after the first was queued (0: received_us) */
};

/* The rows a job stores: events, messages and the inline turns of events. What it costs
 * in rate-limit tokens and in queue capacity. */
long fd_job_rows(const struct fd_ingest_job *job);

/* Start `cfg->writers` writer threads, each with its own connection to conninfo. */
struct fd_ingest *fd_ingest_start(const struct fd_config *cfg, const char *conninfo)
    __attribute__((warn_unused_result));

/* Queue a job. false (and nothing queued) when the queue is full, the database is known to
 * be down, or the writers are stopping: the caller answers 503 with Retry-After. A job of
 * more than part_rows rows (or batch_size, if smaller) is written in parts of that many rows, in order, each
 * in its own transaction; job->done is called once, after the last part committed (or
 * with job->unavailable after a part could not be written: the rows of the parts before it
 * are committed, and a retry with the same ids settles them as duplicates). */
bool fd_ingest_submit(struct fd_ingest *ing, struct fd_ingest_job *job) __attribute__((warn_unused_result));

/* true when the project already holds its whole queue share, so a request of it would be
 * refused anyway: the HTTP thread may answer 503 before parsing a large body. */
bool fd_ingest_project_full(struct fd_ingest *ing, int64_t project_id);

/* true when a project other than project_id had a job other than a part taken by a writer in
 * the last second (pipeline/queue.h FD_QUEUE_ACTIVE_WINDOW_US): the parse workers' CPU budget
 * applies only then (api/parse_offload.h). */
bool fd_ingest_others_active(struct fd_ingest *ing, int64_t project_id);

/* Commit everything queued, then stop the writers. NULL ok. */
void fd_ingest_stop(struct fd_ingest *ing);
void fd_ingest_free(struct fd_ingest *ing);

/* Rows waiting for a writer (for /metrics). */
long fd_ingest_depth(struct fd_ingest *ing);

/* Commit one job synchronously on the given connection, as a writer would (used by the
 * writer for isolation after a failed batch, and by tests). */
struct fd_db;
bool fd_ingest_write_jobs(struct fd_db *db, struct fd_ingest_job **jobs, size_t n) __attribute__((warn_unused_result));

#endif
