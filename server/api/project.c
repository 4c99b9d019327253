/* project.c — GET and PATCH /v1/project: the key's own project. */
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "api/body.h"
#include "db/projects_db.h"
#include "http/auth.h"
#include "http/reply.h"
#include "ingest/validate_common.h"

/* "*" or an array of origins like "https://chat.example.com" (scheme://host[:port]). */
static bool valid_origins(const json_t *v) {
  if (json_is_string(v)) return strcmp(json_string_value(v), "*") == 0;
  if (!json_is_array(v) || json_array_size(v) > 100) return false;
  size_t i;
  json_t *o;
  json_array_foreach(v, i, o) {
    const char *s = json_string_value(o);
    if (!s || json_string_length(o) > 256) return false;
    if (strcmp(s, "*") != 0 && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) return false;
  }
  return true;
}

/* The project a key authenticated for exists (keys reference it), so a missing one is
 * answered like a failure. */
static void reply_project(struct fd_request *req, enum fd_db_status st, json_t *project) {
  if (st != FD_DB_ONE)
    fd_reply_db_failure(req, fd_db_failed(st) ? st : FD_DB_HARD_ERROR);
  else
    fd_reply_json(req, 200, project);
}

void fd_api_project_get(struct fd_request *req) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *p = NULL;
  enum fd_db_status st = fd_projects_get(db, req->auth.project_id, &p);
  fd_api_db_put(req, db);
  reply_project(req, st, p);
}

void fd_api_project_patch(struct fd_request *req) {
  json_t *body = fd_body_object(req);
  if (!body) return;
  static const char *const fields[] = {"name", "allowed_origins", NULL};
  const char *unknown = fd_first_unknown_key(body, fields);
  if (unknown) {
    fd_reply_error(req, FD_ERR_UNKNOWN_FIELD, unknown, "unknown field '%s' (name and allowed_origins can be changed)",
                   unknown);
    goto out;
  }
  json_t *name = json_object_get(body, "name"), *origins = json_object_get(body, "allowed_origins");
  if (name && (!json_is_string(name) || json_string_length(name) < 1 || json_string_length(name) > 200)) {
    fd_reply_error(req, FD_ERR_INVALID_FIELD, "name", "name must be a string of 1 to 200 bytes");
    goto out;
  }
  if (origins && !valid_origins(origins)) {
    fd_reply_error(req, FD_ERR_INVALID_FIELD, "allowed_origins",
                   "allowed_origins must be \"*\" or a list of origins such as \"https://chat.example.com\"");
    goto out;
  }
  struct fd_db *db = fd_api_db_get(req);
  if (!db) goto out;
  json_t *p = NULL;
  enum fd_db_status st =
      fd_projects_update(db, req->auth.project_id, name ? json_string_value(name) : NULL, origins, &p);
  fd_api_db_put(req, db);
  if (st == FD_DB_ONE) fd_auth_forget_project(req->auth.project_id);
  reply_project(req, st, p);
out:
  json_decref(body);
}
