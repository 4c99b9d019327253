/* feedback.c — POST /v1/feedback, POST /v1/feedback/batch and DELETE /v1/feedback/{id}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "api/body.h"
#include "api/ingest_request.h"
#include "api/parse_offload.h"
#include "api/reaction_sets.h"
#include "db/feedback_db.h"
#include "http/reply.h"
#include "ingest/validate_common.h"

/* {"id": id, "status": status}. Event ids are validated to [A-Za-z0-9._:-] (or are a
 * generated UUID), which JSON prints as they are, so the text is put together directly:
 * building and serialising a jansson object cost ~1 us of the ~50 us of CPU per request.
 * Anything else (impossible today) still goes through jansson. */
static void reply_id_status(struct fd_request *req, unsigned int http_status, const char *id, const char *status) {
  size_t id_len = strlen(id);
  bool plain = id_len > 0 && fd_id_chars_ok(id, id_len);
  size_t cap = id_len + strlen(status) + sizeof "{\"id\":\"\",\"status\":\"\"}";
  char *text = plain ? malloc(cap) : NULL;
  int n = text ? snprintf(text, cap, "{\"id\":\"%s\",\"status\":\"%s\"}", id, status) : -1;
  if (n < 0 || (size_t)n >= cap) {
    free(text);
    fd_reply_json(req, http_status, json_pack("{s:s, s:s}", "id", id, "status", status));
    return;
  }
  fd_reply_json_text(req, http_status, text, (size_t)n);
}

static void reply_single(struct fd_request *req) {
  struct fd_ingest_request *ir = req->state;
  const char *id = ir->job.events[0]->id;
  switch (ir->job.event_status[0]) {
    case FD_ITEM_STORED: reply_id_status(req, 201, id, "stored"); break;
    case FD_ITEM_DUPLICATE: reply_id_status(req, 200, id, "duplicate"); break;
    case FD_ITEM_CONFLICT:
      fd_reply_error(req, FD_ERR_CONFLICT, "id", "event %s was already stored with different content", id);
      break;
    default: fd_reply_error(req, FD_ERR_INTERNAL, NULL, "the event could not be stored"); break;
  }
}

/* parsing onwards: on the HTTP thread, or on a parse worker for a large body */
static void feedback_post_body(struct fd_request *req) {
  fd_parse_test_delay(req);
  json_t *body = fd_body_object(req);
  if (!body) return;
  struct fd_error err;
  struct fd_feedback_row *row = fd_feedback_row_new(body, &fd_api_app_of(req)->limits, NULL, &err);
  if (row && row->kind == FD_KIND_REACTION) {
    struct fd_reaction_set set;
    if (!fd_api_reaction_set(req, &set)) {
      fd_feedback_row_free(row);
      json_decref(body);
      return;
    }
    if (!fd_feedback_row_resolve_reaction(row, &set, NULL, &err)) {
      fd_feedback_row_free(row);
      row = NULL;
    }
  }
  if (!row) {
    json_decref(body);
    fd_reply_fd_error(req, &err);
    return;
  }
  struct fd_ingest_request *ir = fd_ingest_request_new(req, body, 1, 0);
  if (!ir) {
    fd_feedback_row_free(row);
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "out of memory");
    return;
  }
  ir->job.events[ir->job.n_events++] = row;
  if (!fd_ingest_check_fine(ir, false)) return;
  fd_ingest_request_submit(ir, reply_single);
}

void fd_api_feedback_post(struct fd_request *req) {
  if (!fd_ingest_room_for_body(req)) return;
  if (fd_parse_offload(fd_api_app_of(req)->parse, req, feedback_post_body)) return;
  feedback_post_body(req);
}

void fd_api_feedback_batch_post(struct fd_request *req) { fd_ingest_batch(req, "events"); }

void fd_api_feedback_delete(struct fd_request *req) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *out = NULL;
  enum fd_db_status st = fd_feedback_retract(db, req->auth.project_id, req->params[0], &out);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }
  if (st == FD_DB_NONE) {
    fd_reply_error(req, FD_ERR_NOT_FOUND, NULL, "no feedback event with this id in this project");
    return;
  }
  fd_reply_json(req, 200, out);
}
