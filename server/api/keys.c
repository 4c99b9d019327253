/* keys.c — POST/GET /v1/keys and DELETE /v1/keys/{id}, within the admin key's project. */
#include "api/admin_body.h"
#include "api/api.h"
#include "api/app.h"
#include "api/body.h"
#include "db/keys_db.h"
#include "http/auth.h"
#include "http/reply.h"

void fd_api_keys_create(struct fd_request *req) {
  json_t *body = fd_body_object(req);
  if (!body) return;
  unsigned scopes;
  const char *label;
  struct fd_error err;
  if (!fd_keys_create_body_parse(body, &scopes, &label, &err)) {
    fd_reply_fd_error(req, &err);
    goto out;
  }
  struct fd_db *db = fd_api_db_get(req);
  if (!db) goto out;
  json_t *created = NULL;
  enum fd_db_status st = fd_keys_create(db, req->auth.project_id, scopes, label, &created);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
  } else {
    fd_auth_forget_project(req->auth.project_id);
    fd_reply_json(req, 201, created);
  }
out:
  json_decref(body);
}

void fd_api_keys_list(struct fd_request *req) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *list = NULL;
  enum fd_db_status st = fd_keys_list(db, req->auth.project_id, &list);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }
  fd_reply_json(req, 200, list);
}

void fd_api_keys_revoke(struct fd_request *req) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *item = NULL;
  enum fd_db_status st = fd_keys_revoke(db, req->auth.project_id, req->params[0], &item);
  fd_api_db_put(req, db);
  if (st == FD_DB_ONE) fd_auth_forget_project(req->auth.project_id);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }
  if (st == FD_DB_NONE) {
    fd_reply_error(req, FD_ERR_NOT_FOUND, NULL, "no such key in this project");
    return;
  }
  fd_reply_json(req, 200, item);
}
