/* ingest_request.h — ties an ingest job to a suspended HTTP request (shared by the
 * feedback and messages handlers).
 *
 * The job is submitted first; the connection is suspended only if the writer has not
 * finished it yet (a per-job lock decides), so the writer can never resume a connection
 * that is not suspended, and nothing blocks an HTTP thread while the batch commits. */
#ifndef FD_API_INGEST_REQUEST_H
#define FD_API_INGEST_REQUEST_H

#include <jansson.h>
#include <pthread.h>

#include "http/request.h"
#include "pipeline/pipeline.h"

struct fd_ingest_request {
  struct fd_ingest_job job;
  pthread_mutex_t lock;
  bool finished;
  bool suspended;
  struct fd_request *req;
  json_t *body;      /* the parsed body (rows borrow from it) */
  json_t *results;   /* per item results prepared by the handler (batch endpoints) */
  size_t *row_index; /* batch: item index of each job row */
  fd_handler reply;  /* builds the reply once the job is done */
  /* the job's arrays for a single event (POST /v1/feedback), so that case allocates
   * them with the request instead of one by one */
  struct fd_feedback_row *one_event[2];
  enum fd_item_status one_event_status[2];
  struct fd_message_row *no_messages[1];
  enum fd_item_status no_message_status[1];
  size_t one_row_index[2];
};

/* A new state attached to req (freed with the request): body is stolen. */
struct fd_ingest_request *fd_ingest_request_new(struct fd_request *req, json_t *body, size_t n_events,
                                                size_t n_messages);

/* Submit the job and arrange for `reply` to run when it committed: immediately if the
 * writer was faster, else after the connection is resumed. Answers 503 itself when the
 * queue is full or the database is down. */
void fd_ingest_request_submit(struct fd_ingest_request *ir, fd_handler reply);

/* Bodies this large are checked against the project's queue share before they are parsed. */
#define FD_INGEST_EARLY_CHECK_BYTES (64 * 1024)
/* How long a large body's head may wait for its project's queue share (the Retry-After a
 * 503 says). */
#define FD_INGEST_HEAD_WAIT_MS 1000
/* false after answering 503, or with the request waiting: the body is large and the project
 * already holds its whole queue share, so the request would be refused after parsing anyway
 * (parsing a 1 MiB body costs the HTTP thread milliseconds that other projects' requests
 * wait for). Small bodies (single events) are not checked: nothing added to their path.
 * Checked twice: as the routes' admit step, by the declared Content-Length before the body
 * is read, and again once it is in (a chunked body, or a share that filled while it
 * arrived). At the head the request first waits, suspended, up to FD_INGEST_HEAD_WAIT_MS
 * for room (http/wait_room.h), and only then is refused; a refused body is never received
 * (MHD closes the connection). */
bool fd_ingest_room_for_body(struct fd_request *req);

/* The batch endpoints: parse {"<key>": [...]} ("events": feedback events, "messages":
 * turns), validate every item, queue the valid ones and reply
 * {"results": [{"index", "id", "status", "error"?}]} once they committed. Replies in
 * every case. */
void fd_ingest_batch(struct fd_request *req, const char *key);

/* Per-item result objects of the batch endpoints. */
/* Span and step events of the job checked against the project's span labels and their
 * judged message (api/fine_targets.c). Invalid ones leave the job: in a batch (batch true)
 * their item error goes into ir->results; a single event's 400 is sent. False when a reply
 * has been sent (the single event was invalid, or the database failed). */
bool fd_ingest_check_fine(struct fd_ingest_request *ir, bool batch) __attribute__((warn_unused_result));

json_t *fd_item_result(size_t index, const char *id, enum fd_item_status status);
json_t *fd_item_error(size_t index, const char *id, const struct fd_error *err);

#endif
