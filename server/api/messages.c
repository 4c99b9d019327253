/* messages.c — POST /v1/messages: conversation turns, per-item results. */
#include "api/api.h"
#include "api/ingest_request.h"
#include "app.h"
#include "http/body.h"
#include "http/reply.h"
#include "ingest/validate_common.h"

static void reply_messages(struct fd_request *req) {
  struct fd_ingest_request *ir = req->state;
  for (size_t i = 0; i < ir->job.n_messages; i++) {
    size_t index = ir->row_index[i];
    json_array_set_new(ir->results, index, fd_item_result(index, ir->job.messages[i]->id, ir->job.message_status[i]));
  }
  fd_reply_json(req, 200, json_pack("{s:O}", "results", ir->results));
}

void fd_api_messages_post(struct fd_request *req) {
  struct fd_error err;
  json_t *body = fd_body_object(req);
  if (!body) return;
  json_t *items;
  if (!fd_batch_items(body, "messages", &fd_app.limits, &items, &err)) {
    json_decref(body);
    fd_reply_fd_error(req, &err);
    return;
  }
  size_t n = json_array_size(items);
  struct fd_ingest_request *ir = fd_ingest_request_new(req, body, 0, n);
  if (!ir || !(ir->results = json_array())) {
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "out of memory");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *item = json_array_get(items, i);
    char path[FD_PATH_MAX];
    fd_path_index(path, "messages", i);
    struct fd_message_row *row = fd_message_row_new(item, &fd_app.limits, path, &err);
    if (!row) {
      json_array_append_new(ir->results, fd_item_error(i, json_string_value(json_object_get(item, "id")), &err));
      continue;
    }
    json_array_append_new(ir->results, json_null());
    ir->row_index[ir->job.n_messages] = i;
    ir->job.messages[ir->job.n_messages++] = row;
  }
  fd_ingest_request_submit(ir, reply_messages);
}
