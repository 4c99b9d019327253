/* users.c — DELETE /v1/users/{user}: erasure of a rater (privacy requests). */
#include "api/api.h"
#include "api/app.h"
#include "db/feedback_db.h"
#include "http/reply.h"

void fd_api_users_delete(struct fd_request *req) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  long n = fd_feedback_erase_user(db, req->auth.project_id, req->params[0]);
  fd_api_db_put(req, db);
  if (n < 0) return fd_reply_unavailable(req, "the database is unavailable");
  fd_reply_json(req, 200, json_pack("{s:s, s:I}", "user", req->params[0], "feedback_deleted", (json_int_t)n));
}
