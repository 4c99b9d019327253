/* users.c — DELETE /v1/users/{user}: erasure of a rater (privacy requests). */
#include "api/api.h"
#include "api/app.h"
#include "db/feedback_db.h"
#include "http/reply.h"

void fd_api_users_delete(struct fd_request *req) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  long n = 0;
  enum fd_db_status st = fd_feedback_erase_user(db, req->auth.project_id, req->params[0], &n);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }
  fd_reply_json(req, 200, json_pack("{s:s, s:I}", "user", req->params[0], "feedback_deleted", (json_int_t)n));
}
