/* api.h — the request handlers, one file per resource in server/api/.
 * Every handler replies exactly once (http/reply.h) or suspends the request. */
#ifndef FD_API_API_H
#define FD_API_API_H

#include "http/request.h"

/* routes.c: the routing table every request is matched against, NULL-terminated */
extern const struct fd_route fd_api_routes[];

/* health.c */
void fd_api_healthz(struct fd_request *req);
void fd_api_readyz(struct fd_request *req);
/* metrics.c */
void fd_api_metrics(struct fd_request *req);
/* Before serving: the default reaction set's names get their /metrics series first (see
 * util/metrics.h), whatever names projects' sets bring later. */
void fd_api_metrics_init(void);
/* static_files.c: the embedded pages (dashboard, widget, demo) */
void fd_api_static(struct fd_request *req);
/* project.c */
void fd_api_project_get(struct fd_request *req);
void fd_api_project_patch(struct fd_request *req);
void fd_api_reactions_get(struct fd_request *req);
void fd_api_span_labels_get(struct fd_request *req);
/* keys.c */
void fd_api_keys_create(struct fd_request *req);
void fd_api_keys_list(struct fd_request *req);
void fd_api_keys_revoke(struct fd_request *req);
/* webhooks.c */
void fd_api_webhooks_create(struct fd_request *req);
void fd_api_webhooks_list(struct fd_request *req);
void fd_api_webhooks_delete(struct fd_request *req);
void fd_api_webhooks_deliveries(struct fd_request *req);

/* feedback.c, feedback_list.c, messages.c, users.c */
void fd_api_feedback_post(struct fd_request *req);
void fd_api_feedback_batch_post(struct fd_request *req);
void fd_api_feedback_delete(struct fd_request *req);
void fd_api_feedback_list(struct fd_request *req);
void fd_api_messages_post(struct fd_request *req);
void fd_api_users_delete(struct fd_request *req);
void fd_api_consent_put(struct fd_request *req);
void fd_api_consent_get(struct fd_request *req);
/* stats.c */
void fd_api_stats_get(struct fd_request *req);
/* leaderboard.c, agreement.c */
void fd_api_leaderboard_get(struct fd_request *req);
void fd_api_agreement_get(struct fd_request *req);
/* export.c */
void fd_api_export_get(struct fd_request *req);
void fd_api_export_manifest_get(struct fd_request *req);

#endif
