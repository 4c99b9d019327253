/* webhooks.c — POST/GET /v1/webhooks, DELETE /v1/webhooks/{id} and
 * GET /v1/webhooks/{id}/deliveries, within the admin key's project (docs/api.md "Webhooks").
 * Deliveries themselves are the pipeline's (pipeline/webhooks.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/app.h"
#include "api/body.h"
#include "api/params.h"
#include "db/webhooks_db.h"
#include "http/reply.h"
#include "util/http_client.h"
#include "util/netaddr.h"
#include "util/webhook_sign.h"

static const char *const event_names[] = {"feedback.stored", "feedback.retracted", "export.finished", NULL};

#define DELIVERIES_DEFAULT 50
#define DELIVERIES_MAX 500

/* A host that names this machine or a private network whatever DNS says. Names that resolve
 * to such addresses are refused at delivery time (util/http_client.c); this only answers
 * the obvious cases at once. */
static bool host_internal(const struct fd_url *u) {
  struct fd_netaddr a;
  if (u->host_is_literal) return fd_netaddr_parse(u->host, &a) && fd_netaddr_is_internal(&a);
  size_t n = strlen(u->host);
  return strcasecmp(u->host, "localhost") == 0 || (n > 10 && strcasecmp(u->host + n - 10, ".localhost") == 0);
}

static bool parse_url(const json_t *jurl, bool allow_private, struct fd_error *err) {
  if (!jurl) return fd_error_set(err, FD_ERR_MISSING_FIELD, "url", "url is required");
  struct fd_url u;
  const char *why = "url must be a string";
  if (!json_is_string(jurl) || !fd_url_parse(json_string_value(jurl), &u, &why))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "url", "%s", why);
  if (!allow_private && host_internal(&u))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "url",
                        "url names a loopback, private or link-local host; this server delivers only to public "
                        "addresses (setting webhook_allow_private)");
  return true;
}

/* events: a non-empty list of distinct known names, as "a,b" in csv[] */
static bool parse_events(const json_t *jev, char *csv, size_t cap, struct fd_error *err) {
  if (!jev) return fd_error_set(err, FD_ERR_MISSING_FIELD, "events", "events is required");
  static const char *msg =
      "events must be a non-empty list of distinct feedback.stored, feedback.retracted, "
      "export.finished";
  if (!json_is_array(jev) || json_array_size(jev) == 0)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "events", "%s", msg);
  unsigned seen = 0;
  csv[0] = '\0';
  size_t i;
  json_t *v;
  json_array_foreach(jev, i, v) {
    int k = 0;
    while (event_names[k] && !(json_is_string(v) && strcmp(json_string_value(v), event_names[k]) == 0)) k++;
    if (!event_names[k] || (seen & (1u << k))) return fd_error_set(err, FD_ERR_INVALID_FIELD, "events", "%s", msg);
    seen |= 1u << k;
    snprintf(csv + strlen(csv), cap - strlen(csv), "%s%s", i ? "," : "", event_names[k]);
  }
  return true;
}

/* secret: given (a Standard Webhooks secret) or made here */
static bool parse_secret(const json_t *js, char out[FD_WEBHOOK_SECRET_BUF], struct fd_error *err) {
  unsigned char key[FD_WEBHOOK_KEY_MAX];
  size_t key_len;
  if (!js) {
    if (fd_webhook_secret_new(out)) return true;
    return fd_error_set(err, FD_ERR_INTERNAL, NULL, "no random bytes for a secret");
  }
  if (!json_is_string(js) || json_string_length(js) >= FD_WEBHOOK_SECRET_BUF ||
      !fd_webhook_secret_decode(json_string_value(js), key, &key_len))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "secret",
                        "secret must be \"whsec_\" followed by the base64 of 24 to 64 random bytes "
                        "(omit it to have one made)");
  snprintf(out, FD_WEBHOOK_SECRET_BUF, "%s", json_string_value(js));
  return true;
}

void fd_api_webhooks_create(struct fd_request *req) {
  json_t *body = fd_body_object(req);
  if (!body) return;
  static const char *const fields[] = {"url", "events", "secret", NULL};
  const char *unknown = fd_first_unknown_key(body, fields);
  struct fd_error err = {0};
  char events[128], secret[FD_WEBHOOK_SECRET_BUF];
  bool ok = false;
  if (unknown) {
    char field[FD_PATH_MAX];
    fd_path_key(field, NULL, unknown);
    fd_error_set(&err, FD_ERR_UNKNOWN_FIELD, field, "unknown field '%s' (url, events, secret)", field);
  } else {
    ok = parse_url(json_object_get(body, "url"), fd_api_app_of(req)->cfg->webhook_allow_private, &err) &&
         parse_events(json_object_get(body, "events"), events, sizeof events, &err) &&
         parse_secret(json_object_get(body, "secret"), secret, &err);
  }
  if (!ok) {
    fd_reply_fd_error(req, &err);
    json_decref(body);
    return;
  }
  struct fd_db *db = fd_api_db_get(req);
  json_t *item = NULL;
  enum fd_db_status st = db ? fd_webhooks_create(db, req->auth.project_id,
                                                 json_string_value(json_object_get(body, "url")), events, secret, &item)
                            : FD_DB_NONE;
  fd_api_db_put(req, db);
  json_decref(body);
  if (!db) return;
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }
  /* the only answer that shows the secret */
  json_object_set_new(item, "secret", json_string(secret));
  fd_reply_json(req, 201, item);
}

void fd_api_webhooks_list(struct fd_request *req) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *list = NULL;
  enum fd_db_status st = fd_webhooks_list(db, req->auth.project_id, &list);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }
  fd_reply_json(req, 200, list);
}

void fd_api_webhooks_delete(struct fd_request *req) {
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *item = NULL;
  enum fd_db_status st = fd_webhooks_delete(db, req->auth.project_id, req->params[0], &item);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }
  if (st == FD_DB_NONE) {
    fd_reply_error(req, FD_ERR_NOT_FOUND, NULL, "no such webhook in this project");
    return;
  }
  fd_reply_json(req, 200, item);
}

void fd_api_webhooks_deliveries(struct fd_request *req) {
  const char *limit = fd_query_param(req, "limit");
  long n = DELIVERIES_DEFAULT;
  if (limit) {
    char *end;
    bool digits = *limit && strspn(limit, "0123456789") == strlen(limit) && strlen(limit) <= 6;
    n = digits ? strtol(limit, &end, 10) : 0;
    if (n < 1 || n > DELIVERIES_MAX) {
      fd_reply_error(req, FD_ERR_INVALID_PARAMETER, "limit", "limit must be an integer from 1 to 500");
      return;
    }
  }
  struct fd_db *db = fd_api_db_get(req);
  if (!db) return;
  json_t *list = NULL;
  enum fd_db_status st = fd_webhooks_deliveries(db, req->auth.project_id, req->params[0], (int)n, &list);
  fd_api_db_put(req, db);
  if (fd_db_failed(st)) {
    fd_reply_db_failure(req, st);
    return;
  }
  if (st == FD_DB_NONE) {
    fd_reply_error(req, FD_ERR_NOT_FOUND, NULL, "no such webhook in this project");
    return;
  }
  fd_reply_json(req, 200, list);
}
