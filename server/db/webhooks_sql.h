/* webhooks_sql.h — the SQL that writes the webhook outbox (migrations/0004_webhooks.sql)
 * inside the statement of the event itself, so the announcement commits with the event or
 * not at all. Shared by ingest_db.c (feedback.stored), feedback_db.c (feedback.retracted)
 * and export_db.c (export.finished). */
#ifndef FD_DB_WEBHOOKS_SQL_H
#define FD_DB_WEBHOOKS_SQL_H

#include "db/sql_time.h"

/* An INSERT ... SELECT (for a WITH clause) of one delivery per row of `rows` (a CTE with a
 * project_id column, aliased r) and endpoint of that row's project subscribed to `event`.
 * `data` is a jsonb expression over r. The body follows the Standard Webhooks payload shape
 * {"type", "timestamp", "data"}. A project without endpoints joins nothing: the cost is one
 * index probe of webhook_endpoints per statement, not per row's payload. */
#define FD_WEBHOOK_ENQUEUE(event, rows, data)                                                             \
  "INSERT INTO webhook_deliveries (endpoint_id, project_id, event, payload)"                              \
  " SELECT e.id, r.project_id, '" event "', jsonb_build_object('type', '" event                           \
  "', 'timestamp', " TS("now()") ", 'data', " data                                                        \
                                 ")"                                                                      \
                                 " FROM " rows                                                            \
                                 " r JOIN webhook_endpoints e ON e.project_id = r.project_id AND '" event \
                                 "' = ANY (e.events)"

#endif
