/* webhooks_db.h — webhook endpoints (admin API) and the delivery outbox (the delivery
 * workers). Tables: migrations/0004_webhooks.sql; the outbox rows themselves are written by
 * the event statements (db/webhooks_sql.h). Statuses: db/status.h. */
#ifndef FD_DB_WEBHOOKS_DB_H
#define FD_DB_WEBHOOKS_DB_H

#include <jansson.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/status.h"

/* Create an endpoint. events_csv: "feedback.stored,export.finished". FD_DB_ONE: *item is
 * {"id","url","events","created_at"} (the secret is the caller's to add to its answer). */
enum fd_db_status fd_webhooks_create(struct fd_db *db, int64_t project_id, const char *url, const char *events_csv,
                                     const char *secret, json_t **item) __attribute__((warn_unused_result));

/* *list = {"items": [...]} of the project's endpoints, oldest first, without secrets, each
 * with its "pending" and "failed" delivery counts. */
enum fd_db_status fd_webhooks_list(struct fd_db *db, int64_t project_id, json_t **list)
    __attribute__((warn_unused_result));

/* Delete an endpoint and its deliveries (pending ones are not sent). FD_DB_ONE: *item is
 * the deleted endpoint's item; FD_DB_NONE: no such endpoint in the project. */
enum fd_db_status fd_webhooks_delete(struct fd_db *db, int64_t project_id, const char *id, json_t **item)
    __attribute__((warn_unused_result));

/* *list = {"items": [...]} of an endpoint's latest `limit` deliveries, newest first.
 * FD_DB_NONE: no such endpoint in the project (*list NULL). */
enum fd_db_status fd_webhooks_deliveries(struct fd_db *db, int64_t project_id, const char *id, int limit, json_t **list)
    __attribute__((warn_unused_result));

/* ---- the delivery workers ------------------------------------------------------------- */

/* One claimed delivery; strings owned by the struct (fd_webhook_claim_free). */
struct fd_webhook_claim {
  int64_t id;
  char *msg_id;  /* the webhook-id header */
  char *payload; /* the body */
  char *url;
  char *secret;
  int attempts; /* this one included */
};

/* Claim the most overdue pending delivery (FOR UPDATE SKIP LOCKED: replicas never claim one
 * row at the same time) and lease it: its next attempt moves lease_ms ahead and its attempts
 * count this one, committed before the POST, so a process that dies while posting leaves it
 * due again after the lease. FD_DB_ONE: *c filled; FD_DB_NONE: nothing is due. */
enum fd_db_status fd_webhooks_claim(struct fd_db *db, int lease_ms, struct fd_webhook_claim *c)
    __attribute__((warn_unused_result));
void fd_webhook_claim_free(struct fd_webhook_claim *c);

enum fd_webhook_outcome { FD_WEBHOOK_DELIVERED, FD_WEBHOOK_RETRY, FD_WEBHOOK_FAILED };

/* Record an attempt's result: delivered; or pending again in retry_ms, or failed when that
 * would fall past window_s after the event. http_status 0 = no answer. *outcome says which
 * (FD_DB_NONE: the row was no longer pending — delivered by another replica after our lease
 * ran out, or its endpoint deleted). */
enum fd_db_status fd_webhooks_record(struct fd_db *db, int64_t id, bool delivered, int http_status, const char *error,
                                     long retry_ms, int window_s, enum fd_webhook_outcome *outcome)
    __attribute__((warn_unused_result));

/* Deliveries still pending, all projects (the /metrics gauge). */
enum fd_db_status fd_webhooks_pending(struct fd_db *db, long *pending) __attribute__((warn_unused_result));

#endif
