/* project.c — GET and PATCH /v1/project: the key's own project; GET /v1/reactions and
 * GET /v1/span-labels: its reaction set and span labels for browser pages (docs/api.md
 * "Reactions", "Span feedback"). */
#include "api/admin_body.h"
#include "api/api.h"
#include "api/app.h"
#include "api/body.h"
#include "api/detectors.h"
#include "api/reaction_sets.h"
#include "db/projects_db.h"
#include "http/auth.h"
#include "http/cors.h"
#include "http/reply.h"

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

/* One setting a page needs (to offer reactions, or span labels), as {"<name>": value},
 * readable with the ingest key the page already holds (GET /v1/project needs admin, which
 * never belongs in a browser). */
static void reply_setting(struct fd_request *req, const char *name) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *p = NULL;
  enum fd_db_status st = fd_projects_get(db, req->auth.project_id, &p);
  fd_api_db_put(req, db);
  json_t *out = st == FD_DB_ONE ? json_pack("{sO}", name, json_object_get(p, name)) : NULL;
  json_decref(p);
  reply_project(req, out ? st : FD_DB_HARD_ERROR, out);
}

void fd_api_reactions_get(struct fd_request *req) { reply_setting(req, "reactions"); }

void fd_api_span_labels_get(struct fd_request *req) { reply_setting(req, "span_labels"); }

void fd_api_project_patch(struct fd_request *req) {
  json_t *body = fd_body_object(req);
  if (!body) return;
  const char *name;
  const json_t *origins, *span_labels;
  struct fd_error err;
  if (!fd_project_patch_body_parse(body, &name, &origins, &span_labels, &err)) {
    fd_reply_fd_error(req, &err);
    goto out;
  }
  struct fd_db *db = fd_api_db_get(req);
  if (!db) goto out;
  json_t *p = NULL, *settings = fd_project_patch_settings(body);
  enum fd_db_status st = fd_projects_update(db, req->auth.project_id, name, origins, settings, &p);
  json_decref(settings);
  fd_api_db_put(req, db);
  if (st == FD_DB_ONE) {
    fd_auth_forget_project(req->auth.project_id);
    fd_api_reaction_set_forget(req->auth.project_id);
    fd_api_detector_forget(req->auth.project_id);
    fd_cors_forget_origins(); /* preflights for a newly allowed origin work at once here */
  }
  reply_project(req, st, p);
out:
  json_decref(body);
}
