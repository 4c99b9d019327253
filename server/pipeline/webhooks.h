/* webhooks.h — the webhook delivery workers: threads that each hold their own database
 * connection, claim due deliveries from the outbox (db/webhooks_db.h), POST them signed per
 * the Standard Webhooks specification (util/webhook_sign.h, util/http_client.h) and record
 * the result: delivered on a 2xx, otherwise retried with exponential backoff until
 * webhook_retry_window_s after the event, then failed. At least once; several replicas may
 * run workers on one database. See docs/operations.md "Webhooks". */
#ifndef FD_PIPELINE_WEBHOOKS_H
#define FD_PIPELINE_WEBHOOKS_H

#include <stdint.h>

#include "util/config.h"

struct fd_webhooks;

/* Start cfg->webhook_workers threads (none: NULL, nothing to stop). */
struct fd_webhooks *fd_webhooks_start(const struct fd_config *cfg, const char *conninfo)
    __attribute__((warn_unused_result));

/* Stop the threads after their current attempt (bounded by webhook_timeout_ms). NULL ok. */
void fd_webhooks_stop(struct fd_webhooks *w);

/* The delay before attempt `attempts` + 1 after `attempts` failed ones (1-based): base
 * doubled per attempt, at most max, then uniformly within [half of it, all of it] from
 * `random` (so receivers that failed together are not hit again together). Pure. */
long fd_webhook_retry_delay_ms(int attempts, long base_ms, long max_ms, uint64_t random);

#endif
