/* ingest_request.c — job/request plumbing for ingest handlers (see ingest_request.h). */
#include "api/ingest_request.h"

#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/body.h"
#include "api/detectors.h"
#include "api/parse_offload.h"
#include "api/reaction_sets.h"
#include "http/daemon.h" /* fd_daemon_shutting_down */
#include "http/ratelimit.h"
#include "http/reply.h"
#include "ingest/validate_common.h"
#include "pipeline/pipeline.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/metrics.h"

static void ir_free(void *p) {
  struct fd_ingest_request *ir = p;
  if (!ir) return;
  for (size_t i = 0; i < ir->job.n_events; i++) fd_feedback_row_free(ir->job.events[i]);
  for (size_t i = 0; i < ir->job.n_messages; i++) fd_message_row_free(ir->job.messages[i]);
  free(ir->job.detected);
  if (ir->job.events != ir->one_event) {
    free(ir->job.events);
    free(ir->job.messages);
    free(ir->job.event_status);
    free(ir->job.message_status);
    free(ir->row_index);
  }
  json_decref(ir->results);
  json_decref(ir->body);
  pthread_mutex_destroy(&ir->lock);
  free(ir);
}

struct fd_ingest_request *fd_ingest_request_new(struct fd_request *req, json_t *body, size_t n_events,
                                                size_t n_messages) {
  struct fd_ingest_request *ir = calloc(1, sizeof *ir);
  if (!ir) {
    json_decref(body);
    return NULL;
  }
  pthread_mutex_init(&ir->lock, NULL);
  ir->req = req;
  ir->body = body;
  ir->job.project_id = req->auth.project_id;
  ir->job.received_us = fd_wall_us();
  if (n_events <= 1 && n_messages == 0) {
    ir->job.events = ir->one_event;
    ir->job.event_status = ir->one_event_status;
    ir->job.messages = ir->no_messages;
    ir->job.message_status = ir->no_message_status;
    ir->row_index = ir->one_row_index;
  } else {
    ir->job.events = calloc(n_events + 1, sizeof *ir->job.events);
    ir->job.event_status = calloc(n_events + 1, sizeof *ir->job.event_status);
    ir->job.messages = calloc(n_messages + 1, sizeof *ir->job.messages);
    ir->job.message_status = calloc(n_messages + 1, sizeof *ir->job.message_status);
    ir->row_index = calloc(n_events + n_messages + 1, sizeof *ir->row_index);
  }
  req->state = ir;
  req->state_free = ir_free;
  if (!ir->job.events || !ir->job.event_status || !ir->job.messages || !ir->job.message_status || !ir->row_index)
    return NULL; /* freed with the request */
  return ir;
}

/* writer thread: the job committed (or failed) */
static void job_done(struct fd_ingest_job *job) {
  struct fd_ingest_request *ir = job->done_arg;
  pthread_mutex_lock(&ir->lock);
  ir->finished = true;
  bool suspended = ir->suspended;
  struct fd_request *req = ir->req;
  pthread_mutex_unlock(&ir->lock);
  /* after the unlock: once resumed, the request (and ir with it) may be freed at any time */
  if (suspended) fd_request_resume(req);
}

static void reply_after_job(struct fd_request *req) {
  struct fd_ingest_request *ir = req->state;
  if (ir->job.unavailable)
    fd_reply_unavailable(req, "the database is unavailable; retry with the same id");
  else
    ir->reply(req);
}

/* The job's user turns through the project's detector (docs/detection.md), here on the
 * request thread: a few microseconds per turn that the writers, which serialise every
 * request's COMMIT, never spend. The project's settings are read (cached) only when a turn
 * can carry feedback at all. False after replying. */
static bool detect_turns(struct fd_ingest_request *ir) {
  struct fd_ingest_job *job = &ir->job;
  size_t n = 0;
  for (size_t i = 0; i < job->n_messages; i++) n += fd_detect_candidate(job->messages[i]);
  for (size_t e = 0; e < job->n_events; e++)
    for (size_t t = 0; t < job->events[e]->n_turns; t++) n += fd_detect_candidate(&job->events[e]->turns[t]);
  if (n == 0) return true;
  struct fd_api_detector *ref;
  if (!fd_api_detector_get(ir->req, &ref)) return false;
  const struct fd_detector *d = fd_api_detector_of(ref);
  if (d && !(job->detected = calloc(n, sizeof *job->detected))) {
    fd_api_detector_release(ref);
    fd_reply_error(ir->req, FD_ERR_INTERNAL, NULL, "out of memory");
    return false;
  }
  for (size_t i = 0; d && i < job->n_messages; i++)
    if (fd_detect_candidate(job->messages[i]))
      job->n_detected += fd_detected_from_turn(d, job->messages[i], &job->detected[job->n_detected]);
  for (size_t e = 0; d && e < job->n_events; e++)
    for (size_t t = 0; t < job->events[e]->n_turns; t++)
      if (fd_detect_candidate(&job->events[e]->turns[t]))
        job->n_detected += fd_detected_from_turn(d, &job->events[e]->turns[t], &job->detected[job->n_detected]);
  fd_api_detector_release(ref);
  return true;
}

void fd_ingest_request_submit(struct fd_ingest_request *ir, fd_handler reply) {
  ir->reply = reply;
  ir->job.done = job_done;
  ir->job.done_arg = ir;
  if (ir->job.n_events + ir->job.n_messages == 0) {
    reply(ir->req); /* nothing valid to write (a batch of invalid items) */
    return;
  }
  const struct fd_api_app *app = fd_api_app_of(ir->req);
  /* Every stored row costs a token and queue room, inline context turns included; this
   * comes before any work beyond validation (edit ratios are computed after COMMIT). */
  double rows = (double)fd_job_rows(&ir->job);
  double burst = fd_ratelimit_burst(app->cfg->rate_limit_rps, app->cfg->rate_limit_burst);
  if (rows > burst) {
    fd_reply_error(ir->req, FD_ERR_PAYLOAD_TOO_LARGE, NULL,
                   "this request stores %.0f rows (events, messages and inline turns); the rate limit allows at "
                   "most %.0f at once",
                   rows, burst);
    return;
  }
  int retry_after = 1;
  if (!fd_ratelimit_take(ir->req->auth.key_id, app->cfg->rate_limit_rps, app->cfg->rate_limit_burst, rows,
                         &retry_after)) {
    fd_reply_rate_limited(ir->req, retry_after);
    return;
  }
  if (!detect_turns(ir)) return;
  if (!fd_ingest_submit(app->ingest, &ir->job)) {
    fd_reply_unavailable(ir->req, "the ingest queue is full or the database is unavailable; retry with the same id");
    return;
  }
  pthread_mutex_lock(&ir->lock);
  bool finished = ir->finished;
  if (!finished) {
    ir->suspended = true;
    fd_request_suspend(ir->req, reply_after_job);
  }
  pthread_mutex_unlock(&ir->lock);
  if (finished) reply_after_job(ir->req);
}

static const char *const status_names[] = {"pending", "stored", "duplicate", "conflict", "error"};

json_t *fd_item_result(size_t index, const char *id, enum fd_item_status status) {
  if (status == FD_ITEM_CONFLICT) {
    struct fd_error e;
    fd_error_set(&e, FD_ERR_CONFLICT, "id", "this id was already used with different content");
    return fd_item_error(index, id, &e);
  }
  if (status == FD_ITEM_ERROR || status == FD_ITEM_PENDING) {
    struct fd_error e;
    fd_error_set(&e, FD_ERR_INTERNAL, NULL, "this item could not be stored");
    return fd_item_error(index, id, &e);
  }
  return json_pack("{s:I, s:s?, s:s}", "index", (json_int_t)index, "id", id, "status", status_names[status]);
}

json_t *fd_item_error(size_t index, const char *id, const struct fd_error *err) {
  json_t *e = fd_error_json(err->code, err->field, err->message);
  json_t *out = json_pack("{s:I, s:s?, s:s, s:O}", "index", (json_int_t)index, "id", id, "status", "error", "error",
                          json_object_get(e, "error"));
  json_decref(e);
  return out;
}

/* One item's result as JSON text. A stored or duplicate row whose id prints as it is
 * (validated ids and generated UUIDs: [A-Za-z0-9._:-]) is written directly, byte for byte
 * what jansson prints for fd_item_result's object; anything else goes through jansson. */
static void put_item(struct fd_buf *out, size_t index, const char *id, enum fd_item_status st) {
  size_t id_len = id ? strlen(id) : 0;
  if ((st == FD_ITEM_STORED || st == FD_ITEM_DUPLICATE) && id_len > 0 && fd_id_chars_ok(id, id_len)) {
    char digits[24];
    size_t n = sizeof digits;
    do digits[--n] = (char)('0' + index % 10);
    while ((index /= 10) > 0);
    fd_buf_append(out, "{\"index\":", 9);
    fd_buf_append(out, digits + n, sizeof digits - n);
    fd_buf_append(out, ",\"id\":\"", 7);
    fd_buf_append(out, id, id_len);
    fd_buf_puts(out, st == FD_ITEM_STORED ? "\",\"status\":\"stored\"}" : "\",\"status\":\"duplicate\"}");
    return;
  }
  json_t *item = fd_item_result(index, id, st);
  char *text = item ? json_dumps(item, JSON_COMPACT) : NULL;
  json_decref(item);
  if (!text) {
    out->oom = true;
    return;
  }
  fd_buf_puts(out, text);
  free(text);
}

/* results holds, in item order, the errors of invalid items and nulls for the queued ones;
 * the writer's statuses take the places of the nulls. The reply is written as text: with a
 * jansson object per item and json_dumps of the whole it was ~12% of feedbackd's CPU per
 * event of a 100-event batch (bench/README.md). */
static void reply_batch(struct fd_request *req) {
  struct fd_ingest_request *ir = req->state;
  bool events = ir->job.n_events > 0;
  size_t n = events ? ir->job.n_events : ir->job.n_messages;
  size_t n_items = json_array_size(ir->results);
  size_t *row_of = malloc((n_items + 1) * sizeof *row_of); /* item index -> row + 1, 0: no row */
  struct fd_buf out = {0};
  if (row_of) {
    memset(row_of, 0, (n_items + 1) * sizeof *row_of);
    for (size_t i = 0; i < n; i++)
      if (ir->row_index[i] < n_items) row_of[ir->row_index[i]] = i + 1;
    fd_buf_append(&out, "{\"results\":[", 12);
    for (size_t index = 0; index < n_items && !out.oom; index++) {
      if (index) fd_buf_append(&out, ",", 1);
      size_t row = row_of[index];
      if (row) {
        row--;
        put_item(&out, index, events ? ir->job.events[row]->id : ir->job.messages[row]->id,
                 events ? ir->job.event_status[row] : ir->job.message_status[row]);
        continue;
      }
      char *text = json_dumps(json_array_get(ir->results, index), JSON_COMPACT | JSON_ENCODE_ANY);
      if (!text) {
        out.oom = true;
        break;
      }
      fd_buf_puts(&out, text);
      free(text);
    }
    fd_buf_append(&out, "]}", 2);
  }
  free(row_of);
  if (!row_of || out.oom) {
    fd_buf_release(&out);
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "out of memory");
    return;
  }
  fd_reply_json_text(req, 200, out.data, out.len);
}

/* The waiting room's question (asked on its thread): may this project's body come now? */
static bool project_has_room(struct fd_request *req) {
  const struct fd_api_app *app = fd_api_app_of(req);
  return !fd_ingest_project_full(app->ingest, req->auth.project_id);
}

static void refuse_full(struct fd_request *req) {
  FD_METRIC_ADD(fd_metrics.rejected_full, 1);
  fd_reply_unavailable(req, "this project's share of the ingest queue is full; retry with the same id");
}

/* Back from the waiting room, on the request's HTTP thread: no reply lets the body come. */
static void after_wait(struct fd_request *req) {
  if (fd_daemon_shutting_down(req->daemon)) {
    FD_METRIC_ADD(fd_metrics.held_refused, 1);
    fd_reply_unavailable(req, "the server is shutting down; retry with the same id");
  } else if (!project_has_room(req)) {
    FD_METRIC_ADD(fd_metrics.held_refused, 1);
    refuse_full(req);
  } else {
    FD_METRIC_ADD(fd_metrics.held_taken, 1);
  }
}

bool fd_ingest_room_for_body(struct fd_request *req) {
  size_t size = req->body_len > req->body_declared ? req->body_len : req->body_declared;
  if (size < FD_INGEST_EARLY_CHECK_BYTES) return true;
  if (!fd_api_app_of(req)->ingest || project_has_room(req)) return true;
  /* only its head is in: wait for room, up to the Retry-After the 503 would have said */
  if (!req->body_len &&
      fd_request_wait_at_head(req, req->auth.project_id, FD_INGEST_HEAD_WAIT_MS, project_has_room, after_wait))
    return false;
  refuse_full(req);
  return false;
}

/* parsing onwards: on the HTTP thread, or on a parse worker for a large body */
static void batch_body(struct fd_request *req, const char *key) {
  bool events = key[0] == 'e';
  const struct fd_limits *limits = &fd_api_app_of(req)->limits;
  fd_parse_test_delay(req);
  json_t *body = fd_body_object(req);
  if (!body) return;
  struct fd_error err;
  json_t *items;
  if (!fd_batch_items(body, key, limits, &items, &err)) {
    json_decref(body);
    fd_reply_fd_error(req, &err);
    return;
  }
  size_t n = json_array_size(items);
  /* The project's reaction set, read before anything is allocated, when an item needs it. */
  struct fd_reaction_set reactions = {0};
  bool any_reaction = false;
  for (size_t i = 0; events && i < n; i++) {
    json_t *kind = json_object_get(json_array_get(items, i), "kind");
    any_reaction = any_reaction || (json_is_string(kind) && strcmp(json_string_value(kind), "reaction") == 0);
  }
  if (any_reaction && !fd_api_reaction_set(req, &reactions)) {
    json_decref(body);
    return;
  }
  struct fd_ingest_request *ir = fd_ingest_request_new(req, body, events ? n : 0, events ? 0 : n);
  if (!ir || !(ir->results = json_array())) {
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "out of memory");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *item = json_array_get(items, i);
    char path[FD_PATH_MAX];
    fd_path_index(path, key, i);
    void *row = events ? (void *)fd_feedback_row_new(item, limits, path, &err)
                       : (void *)fd_message_row_new(item, limits, path, &err);
    if (events && row && !fd_feedback_row_resolve_reaction(row, &reactions, path, &err)) {
      fd_feedback_row_free(row);
      row = NULL;
    }
    if (!row) {
      json_array_append_new(ir->results, fd_item_error(i, json_string_value(json_object_get(item, "id")), &err));
      continue;
    }
    json_array_append_new(ir->results, json_null());
    if (events) {
      ir->row_index[ir->job.n_events] = i;
      ir->job.events[ir->job.n_events++] = row;
    } else {
      ir->row_index[ir->job.n_messages] = i;
      ir->job.messages[ir->job.n_messages++] = row;
    }
  }
  if (events && !fd_ingest_check_fine(ir, true)) return;
  fd_ingest_request_submit(ir, reply_batch);
}

static void events_body(struct fd_request *req) { batch_body(req, "events"); }
static void messages_body(struct fd_request *req) { batch_body(req, "messages"); }

void fd_ingest_batch(struct fd_request *req, const char *key) {
  if (!fd_ingest_room_for_body(req)) return;
  fd_handler body = key[0] == 'e' ? events_body : messages_body;
  if (fd_parse_offload(fd_api_app_of(req)->parse, req, body)) return;
  body(req);
}
