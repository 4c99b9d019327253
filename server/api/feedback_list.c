/* feedback_list.c — GET /v1/feedback: newest first, filters, keyset pagination. */
#include "api/api.h"
#include "api/app.h"
#include "api/feedback_list_params.h"
#include "db/feedback_db.h"
#include "http/reply.h"

void fd_api_feedback_list(struct fd_request *req) {
  struct fd_feedback_filter f;
  struct fd_error err;
  if (!fd_feedback_filter_parse(fd_query_param, req, &f, &err)) {
    fd_reply_fd_error(req, &err);
    return;
  }
  struct fd_db *db = fd_api_read_db_get(req);
  if (!db) return;
  json_t *page = NULL;
  enum fd_db_status st = fd_feedback_list(db, req->auth.project_id, &f, &page);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }
  fd_reply_json(req, 200, page);
}
