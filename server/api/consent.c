/* consent.c — PUT and GET /v1/users/{user}/consent: a rater's consent to the use of their
 * feedback for training (docs/api.md "Consent and licence"). */
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "api/body.h"
#include "db/consent_db.h"
#include "http/auth.h"
#include "http/reply.h"
#include "ingest/validate_common.h"

static void reply_consent(struct fd_request *req, enum fd_db_status st, json_t *out) {
  if (st != FD_DB_ONE) {
    json_decref(out);
    fd_reply_db_failure(req, fd_db_failed(st) ? st : FD_DB_HARD_ERROR);
    return;
  }
  fd_reply_json(req, 200, out);
}

/* The rater id of the path: 1..max_user_bytes, as the `user` of events. False after replying. */
static bool user_ok(struct fd_request *req) {
  size_t n = strlen(req->params[0]);
  if (n >= 1 && n <= fd_api_app_of(req)->limits.user_max_bytes) return true;
  fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "user", "user must be 1 to %zu bytes.",
                 fd_api_app_of(req)->limits.user_max_bytes);
  return false;
}

/* {"train": bool}. An ingest key (a page the rater is on) may only opt out: opting in is
 * the project's decision, taken with an admin key. */
void fd_api_consent_put(struct fd_request *req) {
  static const char *const fields[] = {"train", NULL};
  if (!user_ok(req)) return;
  json_t *body = fd_body_object(req);
  if (!body) return;
  const char *unknown = fd_first_unknown_key(body, fields);
  json_t *train = json_object_get(body, "train");
  if (unknown)
    fd_reply_error(req, FD_ERR_UNKNOWN_FIELD, unknown, "A consent has only the field train.");
  else if (!train)
    fd_reply_error(req, FD_ERR_MISSING_FIELD, "train", "train (true or false) is required.");
  else if (!json_is_boolean(train))
    fd_reply_error(req, FD_ERR_INVALID_FIELD, "train", "train must be true or false.");
  else if (json_is_true(train) && !fd_auth_has_scope(&req->auth, FD_SCOPE_ADMIN))
    fd_reply_error(req, FD_ERR_FORBIDDEN, "train",
                   "An ingest key may only opt a rater out; opting in needs an admin key.");
  else {
    struct fd_db *db = fd_api_db_get(req);
    if (db) {
      json_t *out = NULL;
      enum fd_db_status st = fd_consent_put(db, req->auth.project_id, req->params[0], json_is_true(train), &out);
      fd_api_db_put(req, db);
      reply_consent(req, st, out);
    }
  }
  json_decref(body);
}

void fd_api_consent_get(struct fd_request *req) {
  if (!user_ok(req)) return;
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *out = NULL;
  enum fd_db_status st = fd_consent_get(db, req->auth.project_id, req->params[0], &out);
  fd_api_db_put(req, db);
  reply_consent(req, st, out);
}
