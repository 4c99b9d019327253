/* keys.c — POST/GET /v1/keys and DELETE /v1/keys/{id}, within the admin key's project. */

#include "api/api.h"
#include "api/app.h"
#include "api/body.h"
#include "core/scope.h"
#include "db/keys_db.h"
#include "http/auth.h"
#include "http/reply.h"
#include "ingest/validate_common.h"

void fd_api_keys_create(struct fd_request *req) {
  json_t *body = fd_body_object(req);
  if (!body) return;
  static const char *const fields[] = {"scopes", "label", NULL};
  const char *unknown = fd_first_unknown_key(body, fields);
  unsigned scopes = 0;
  if (unknown) {
    fd_reply_error(req, FD_ERR_UNKNOWN_FIELD, unknown, "unknown field '%s'", unknown);
    goto out;
  }
  json_t *jscopes = json_object_get(body, "scopes"), *label = json_object_get(body, "label");
  if (!jscopes) {
    fd_reply_error(req, FD_ERR_MISSING_FIELD, "scopes", "scopes is required");
    goto out;
  }
  if (!fd_scopes_parse_json(jscopes, &scopes)) {
    fd_reply_error(req, FD_ERR_INVALID_FIELD, "scopes",
                   "scopes must be a non-empty list of ingest, read, export, admin");
    goto out;
  }
  if (label && (!json_is_string(label) || json_string_length(label) > 200)) {
    fd_reply_error(req, FD_ERR_INVALID_FIELD, "label", "label must be a string of at most 200 bytes");
    goto out;
  }
  struct fd_db *db = fd_api_db_get(req);
  if (!db) goto out;
  json_t *created = NULL;
  enum fd_db_status st =
      fd_keys_create(db, req->auth.project_id, scopes, label ? json_string_value(label) : "", &created);
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
  if (fd_db_failed(st)) return fd_reply_db_failure(req, st);
  fd_reply_json(req, 200, list);
}

void fd_api_keys_revoke(struct fd_request *req) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *item = NULL;
  enum fd_db_status st = fd_keys_revoke(db, req->auth.project_id, req->params[0], &item);
  fd_api_db_put(req, db);
  if (st == FD_DB_ONE) fd_auth_forget_project(req->auth.project_id);
  if (fd_db_failed(st)) return fd_reply_db_failure(req, st);
  if (st == FD_DB_NONE) return fd_reply_error(req, FD_ERR_NOT_FOUND, NULL, "no such key in this project");
  fd_reply_json(req, 200, item);
}
