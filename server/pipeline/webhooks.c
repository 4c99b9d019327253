/* webhooks.c — the webhook delivery threads (see webhooks.h). */
#include "pipeline/webhooks.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/periodic.h"
#include "db/webhooks_db.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/http_client.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/webhook_sign.h"

/* A claimed delivery is leased for one attempt's time plus this margin: a worker that is
 * alive always records its result within the lease, so only a dead one's claim runs out. */
#define LEASE_MARGIN_MS 5000

struct fd_webhooks {
  const struct fd_config *cfg;
  struct fd_periodic *threads;
};

long fd_webhook_retry_delay_ms(int attempts, long base_ms, long max_ms, uint64_t random) {
  long d = base_ms;
  for (int i = 1; i < attempts && d < max_ms; i++) d *= 2;
  if (d > max_ms) d = max_ms;
  long half = d / 2;
  return half + (long)(random % (uint64_t)(d - half + 1));
}

/* One attempt: sign with this attempt's timestamp (receivers reject stale ones) and POST.
 * true on a 2xx; otherwise the reason in err and the status (0: no answer) in *status. */
static bool attempt(const struct fd_config *cfg, const struct fd_webhook_claim *c, int *status, char *err,
                    size_t errlen) {
  unsigned char key[FD_WEBHOOK_KEY_MAX];
  size_t key_len;
  *status = 0;
  if (!fd_webhook_secret_decode(c->secret, key, &key_len)) {
    snprintf(err, errlen, "the endpoint's secret is not a valid whsec_ secret");
    return false;
  }
  int64_t ts = fd_wall_us() / 1000000;
  char sig[FD_WEBHOOK_SIGNATURE_BUF], h_id[160], h_ts[48], h_sig[80];
  fd_webhook_sign(key, key_len, c->msg_id, ts, c->payload, strlen(c->payload), sig);
  snprintf(h_id, sizeof h_id, "webhook-id: %s", c->msg_id);
  snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", (long long)ts);
  snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", sig);
  const char *headers[3] = {h_id, h_ts, h_sig};
  struct fd_http_post p = {.url = c->url,
                           .headers = headers,
                           .n_headers = 3,
                           .body = c->payload,
                           .body_len = strlen(c->payload),
                           .connect_timeout_ms = cfg->webhook_connect_timeout_ms,
                           .timeout_ms = cfg->webhook_timeout_ms,
                           .allow_internal = cfg->webhook_allow_private};
  if (!fd_http_post(&p, status, err, errlen)) return false;
  if (*status >= 200 && *status < 300) return true;
  snprintf(err, errlen, "answered HTTP %d", *status);
  return false;
}

static void count(enum fd_webhook_outcome o) {
  switch (o) {
    case FD_WEBHOOK_DELIVERED: FD_METRIC_ADD(fd_metrics.webhook_delivered, 1); break;
    case FD_WEBHOOK_RETRY: FD_METRIC_ADD(fd_metrics.webhook_retried, 1); break;
    case FD_WEBHOOK_FAILED: FD_METRIC_ADD(fd_metrics.webhook_failed, 1); break;
  }
}

/* Claim and deliver one due delivery. FD_DB_NONE when nothing was due, or the failure. */
static enum fd_db_status deliver_one(const struct fd_config *cfg, struct fd_db *db) {
  struct fd_webhook_claim c;
  enum fd_db_status st = fd_webhooks_claim(db, cfg->webhook_timeout_ms + LEASE_MARGIN_MS, &c);
  if (st != FD_DB_ONE) return st;
  int status;
  char err[512] = "";
  bool ok = attempt(cfg, &c, &status, err, sizeof err);
  long retry = fd_webhook_retry_delay_ms(c.attempts, cfg->webhook_retry_base_ms, cfg->webhook_retry_max_delay_ms,
                                         fd_fast_random_u64());
  enum fd_webhook_outcome outcome = FD_WEBHOOK_RETRY;
  st = fd_webhooks_record(db, c.id, ok, status, ok ? NULL : err, retry, cfg->webhook_retry_window_s, &outcome);
  if (st == FD_DB_ONE) {
    count(outcome);
    if (outcome == FD_WEBHOOK_FAILED)
      fd_log(FD_LOG_WARN, "msg=\"webhook delivery failed for good\" webhook_id=%s attempts=%d error=\"%s\"", c.msg_id,
             c.attempts, err);
  }
  fd_webhook_claim_free(&c);
  return fd_db_failed(st) ? st : FD_DB_ONE;
}

/* One poll (a periodic.h run): deliver while there is work, then refresh the pending gauge;
 * false on a database failure. */
static bool deliver_due(struct fd_db *db, void *arg, struct fd_periodic *p) {
  const struct fd_webhooks *w = arg;
  enum fd_db_status st;
  do st = deliver_one(w->cfg, db);
  while (st == FD_DB_ONE && !fd_periodic_stopping(p));
  long pending = 0;
  if (!fd_db_failed(st) && !fd_db_failed(st = fd_webhooks_pending(db, &pending)))
    __atomic_store_n(&fd_metrics.webhook_pending, pending, __ATOMIC_RELAXED);
  return !fd_db_failed(st);
}

struct fd_webhooks *fd_webhooks_start(const struct fd_config *cfg, const char *conninfo) {
  if (cfg->webhook_workers <= 0) return NULL;
  struct fd_webhooks *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->cfg = cfg;
  struct fd_periodic_job job = {.name = "webhook delivery",
                                .interval_ms = cfg->webhook_poll_ms,
                                .at_start = true,
                                .run = deliver_due,
                                .arg = w,
                                .threads = cfg->webhook_workers,
                                .prepared = cfg->prepared_statements};
  w->threads = fd_periodic_start(conninfo, &job);
  if (!w->threads) {
    free(w);
    return NULL;
  }
  return w;
}

void fd_webhooks_stop(struct fd_webhooks *w) {
  if (!w) return;
  fd_periodic_stop(w->threads);
  free(w);
}
