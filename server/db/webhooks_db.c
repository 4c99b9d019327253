/* webhooks_db.c — SQL for webhook endpoints and deliveries (see webhooks_db.h). */
#include "db/webhooks_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/sql_time.h"
#include "db/txn.h"

#define ENDPOINT_ITEM \
  "json_build_object('id', e.id, 'url', e.url, 'events', to_json(e.events), 'created_at', " TS("e.created_at") ")"

static struct fd_stmt stmt_create = {"webhooks_create",
                                     "INSERT INTO webhook_endpoints AS e (project_id, url, events, secret)"
                                     " VALUES ($1::bigint, $2, string_to_array($3, ','), $4) RETURNING " ENDPOINT_ITEM,
                                     0};
static struct fd_stmt stmt_list = {
    "webhooks_list",
    "SELECT (" ENDPOINT_ITEM
    "::jsonb || jsonb_build_object("
    "  'pending', (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending'),"
    "  'failed', (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'failed')))::text"
    " FROM webhook_endpoints e WHERE e.project_id = $1::bigint ORDER BY e.created_at, e.id",
    0};
static struct fd_stmt stmt_delete = {
    "webhooks_delete",
    "DELETE FROM webhook_endpoints e WHERE e.project_id = $1::bigint AND e.id::text = $2"
    " RETURNING " ENDPOINT_ITEM,
    0};
static struct fd_stmt stmt_deliveries = {
    "webhooks_deliveries",
    "SELECT coalesce((SELECT json_agg(x ORDER BY x_id DESC) FROM ("
    "   SELECT d.id AS x_id, json_build_object('id', d.msg_id, 'event', d.event, 'status', d.status,"
    "     'attempts', d.attempts, 'last_status', d.last_status, 'last_error', d.last_error,"
    "     'created_at', " TS("d.created_at") ", 'last_attempt_at', " TS("d.last_attempt_at") ","
    "     'next_attempt_at', " TS("d.next_attempt_at") ", 'delivered_at', " TS("d.delivered_at") ") AS x"
    "   FROM webhook_deliveries d WHERE d.endpoint_id = e.id ORDER BY d.id DESC LIMIT $3::int) s), '[]')"
    " FROM webhook_endpoints e WHERE e.project_id = $1::bigint AND e.id::text = $2",
    0};
static struct fd_stmt stmt_claim = {
    "webhooks_claim",
    "UPDATE webhook_deliveries d SET next_attempt_at = now() + $1::int * interval '1 millisecond',"
    " attempts = d.attempts + 1, last_attempt_at = now() FROM webhook_endpoints e"
    " WHERE e.id = d.endpoint_id AND d.id = (SELECT id FROM webhook_deliveries WHERE status = 'pending'"
    "   AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING d.id, d.msg_id, d.payload::text, e.url, e.secret, d.attempts",
    0};
static struct fd_stmt stmt_record = {
    "webhooks_record",
    "WITH v AS (SELECT $2::bool AS ok, now() + $5::bigint * interval '1 millisecond' AS next),"
    " u AS (UPDATE webhook_deliveries d SET"
    "   status = CASE WHEN v.ok THEN 'delivered'"
    "     WHEN v.next > d.created_at + $6::int * interval '1 second' THEN 'failed' ELSE 'pending' END,"
    "   next_attempt_at = CASE WHEN NOT v.ok AND v.next <= d.created_at + $6::int * interval '1 second'"
    "     THEN v.next END,"
    "   delivered_at = CASE WHEN v.ok THEN now() END, last_status = $3::int, last_error = $4"
    "   FROM v WHERE d.id = $1::bigint AND d.status = 'pending' RETURNING d.status)"
    " SELECT status FROM u",
    0};
static struct fd_stmt stmt_pending = {"webhooks_pending",
                                      "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'", 0};

static void id_text(char out[24], int64_t v) { snprintf(out, 24, "%lld", (long long)v); }

/* A statement that returns at most one JSON text: FD_DB_ONE with *out parsed. */
static enum fd_db_status one_json(struct fd_db *db, struct fd_stmt *stmt, int n, const char *const *p, bool write,
                                  json_t **out, const char *what) {
  PGresult *r = NULL;
  enum fd_db_status st;
  if (write) {
    st = fd_db_exec_txn(db, stmt, n, p, &r);
  } else {
    r = fd_db_exec(db, stmt, n, p);
    st = fd_db_result(db, r);
  }
  *out = NULL;
  if (st > FD_DB_ONE) st = fd_db_bug(what);
  if (st == FD_DB_ONE && !(*out = json_loads(PQgetvalue(r, 0, 0), 0, NULL))) st = fd_db_bug(what);
  PQclear(r);
  return st;
}

enum fd_db_status fd_webhooks_create(struct fd_db *db, int64_t project_id, const char *url, const char *events_csv,
                                     const char *secret, json_t **item) {
  char pid[24];
  id_text(pid, project_id);
  const char *p[4] = {pid, url, events_csv, secret};
  enum fd_db_status st = one_json(db, &stmt_create, 4, p, true, item, "webhook create: not one JSON row");
  if (st == FD_DB_NONE) st = fd_db_bug("webhook create: no row");
  return st;
}

enum fd_db_status fd_webhooks_list(struct fd_db *db, int64_t project_id, json_t **list) {
  char pid[24];
  id_text(pid, project_id);
  const char *p[1] = {pid};
  PGresult *r = fd_db_exec(db, &stmt_list, 1, p);
  enum fd_db_status st = fd_db_result(db, r);
  json_t *items = fd_db_failed(st) ? NULL : json_array();
  for (int i = 0; items && i < PQntuples(r); i++)
    json_array_append_new(items, json_loads(PQgetvalue(r, i, 0), 0, NULL));
  PQclear(r);
  if (fd_db_failed(st)) return st;
  if (!items || !(*list = json_pack("{s:o}", "items", items))) return fd_db_bug("webhook list: out of memory");
  return st;
}

enum fd_db_status fd_webhooks_delete(struct fd_db *db, int64_t project_id, const char *id, json_t **item) {
  char pid[24];
  id_text(pid, project_id);
  const char *p[2] = {pid, id};
  return one_json(db, &stmt_delete, 2, p, true, item, "webhook delete: two endpoints with one id");
}

enum fd_db_status fd_webhooks_deliveries(struct fd_db *db, int64_t project_id, const char *id, int limit,
                                         json_t **list) {
  char pid[24], lim[24];
  id_text(pid, project_id);
  id_text(lim, limit);
  const char *p[3] = {pid, id, lim};
  json_t *items = NULL;
  enum fd_db_status st = one_json(db, &stmt_deliveries, 3, p, false, &items, "webhook deliveries: bad row");
  *list = NULL;
  if (st == FD_DB_ONE && !(*list = json_pack("{s:o}", "items", items))) st = fd_db_bug("deliveries: out of memory");
  return st;
}

static char *dup_value(PGresult *r, int col) { return strdup(PQgetvalue(r, 0, col)); }

enum fd_db_status fd_webhooks_claim(struct fd_db *db, int lease_ms, struct fd_webhook_claim *c) {
  char lease[24];
  id_text(lease, lease_ms);
  const char *p[1] = {lease};
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_claim, 1, p, &r);
  memset(c, 0, sizeof *c);
  if (st == FD_DB_ONE) {
    c->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    c->msg_id = dup_value(r, 1);
    c->payload = dup_value(r, 2);
    c->url = dup_value(r, 3);
    c->secret = dup_value(r, 4);
    c->attempts = atoi(PQgetvalue(r, 0, 5));
    if (!c->msg_id || !c->payload || !c->url || !c->secret) st = fd_db_bug("webhook claim: out of memory");
  } else if (st > FD_DB_ONE) {
    st = fd_db_bug("webhook claim: two rows");
  }
  PQclear(r);
  return st;
}

void fd_webhook_claim_free(struct fd_webhook_claim *c) {
  free(c->msg_id);
  free(c->payload);
  free(c->url);
  free(c->secret);
  memset(c, 0, sizeof *c);
}

enum fd_db_status fd_webhooks_record(struct fd_db *db, int64_t id, bool delivered, int http_status, const char *error,
                                     long retry_ms, int window_s, enum fd_webhook_outcome *outcome) {
  char did[24], code[24], retry[24], window[24];
  id_text(did, id);
  id_text(code, http_status);
  id_text(retry, retry_ms);
  id_text(window, window_s);
  const char *p[6] = {did, delivered ? "true" : "false", http_status ? code : NULL, error, retry, window};
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_record, 6, p, &r);
  if (st == FD_DB_ONE) {
    const char *s = PQgetvalue(r, 0, 0);
    *outcome = strcmp(s, "delivered") == 0 ? FD_WEBHOOK_DELIVERED
               : strcmp(s, "failed") == 0  ? FD_WEBHOOK_FAILED
                                           : FD_WEBHOOK_RETRY;
  }
  PQclear(r);
  return st;
}

enum fd_db_status fd_webhooks_pending(struct fd_db *db, long *pending) {
  PGresult *r = fd_db_exec(db, &stmt_pending, 0, NULL);
  enum fd_db_status st = fd_db_result(db, r);
  if (st == FD_DB_ONE) *pending = strtol(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return st;
}
