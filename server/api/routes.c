/* routes.c — THE routing table: every endpoint of docs/api.md, read top to bottom.
 * Scope FD_SCOPE_NONE = no key; otherwise the key must have that scope (admin has all). */
#include "api/api.h"
#include "api/ingest_request.h"

const struct fd_route fd_api_routes[] = {
    /* health and metrics */
    {"GET", "/healthz", fd_api_healthz, FD_SCOPE_NONE, "healthz"},
    {"GET", "/readyz", fd_api_readyz, FD_SCOPE_NONE, "readyz"},
    {"GET", "/metrics", fd_api_metrics, FD_SCOPE_NONE, "metrics"},

    /* this API's OpenAPI document (docs/openapi.json, embedded like the pages) */
    {"GET", "/openapi.json", fd_api_static, FD_SCOPE_NONE, "openapi"},

    /* ingestion: conversation turns and feedback events */
    {"POST", "/v1/messages", fd_api_messages_post, FD_SCOPE_INGEST, "messages", fd_ingest_room_for_body},
    {"POST", "/v1/feedback", fd_api_feedback_post, FD_SCOPE_INGEST, "feedback", fd_ingest_room_for_body},
    {"POST", "/v1/feedback/batch", fd_api_feedback_batch_post, FD_SCOPE_INGEST, "feedback_batch",
     fd_ingest_room_for_body},
    {"DELETE", "/v1/feedback/{id}", fd_api_feedback_delete, FD_SCOPE_INGEST, "feedback_item"},
    /* the project's reaction set, for pages that offer reactions (ingest keys are in pages) */
    {"GET", "/v1/reactions", fd_api_reactions_get, FD_SCOPE_INGEST, "reactions"},
    /* the project's span labels, for pages that let raters mark passages */
    {"GET", "/v1/span-labels", fd_api_span_labels_get, FD_SCOPE_INGEST, "span_labels"},

    /* reading */
    {"GET", "/v1/feedback", fd_api_feedback_list, FD_SCOPE_READ, "feedback"},
    {"GET", "/v1/stats", fd_api_stats_get, FD_SCOPE_READ, "stats"},
    {"GET", "/v1/leaderboard", fd_api_leaderboard_get, FD_SCOPE_READ, "leaderboard"},
    {"GET", "/v1/agreement", fd_api_agreement_get, FD_SCOPE_READ, "agreement"},

    /* export */
    {"GET", "/v1/export", fd_api_export_get, FD_SCOPE_EXPORT, "export"},
    {"GET", "/v1/exports/{id}", fd_api_export_manifest_get, FD_SCOPE_EXPORT, "export_manifest"},

    /* administration, within the key's own project */
    {"GET", "/v1/project", fd_api_project_get, FD_SCOPE_ADMIN, "project"},
    {"PATCH", "/v1/project", fd_api_project_patch, FD_SCOPE_ADMIN, "project"},
    {"POST", "/v1/keys", fd_api_keys_create, FD_SCOPE_ADMIN, "keys"},
    {"GET", "/v1/keys", fd_api_keys_list, FD_SCOPE_ADMIN, "keys"},
    {"DELETE", "/v1/keys/{id}", fd_api_keys_revoke, FD_SCOPE_ADMIN, "key"},
    {"DELETE", "/v1/users/{user}", fd_api_users_delete, FD_SCOPE_ADMIN, "user"},
    /* ingest: a page opts its rater out; the handler lets only admin keys opt in */
    {"PUT", "/v1/users/{user}/consent", fd_api_consent_put, FD_SCOPE_INGEST, "consent"},
    {"GET", "/v1/users/{user}/consent", fd_api_consent_get, FD_SCOPE_READ, "consent"},
    {"POST", "/v1/webhooks", fd_api_webhooks_create, FD_SCOPE_ADMIN, "webhooks"},
    {"GET", "/v1/webhooks", fd_api_webhooks_list, FD_SCOPE_ADMIN, "webhooks"},
    {"DELETE", "/v1/webhooks/{id}", fd_api_webhooks_delete, FD_SCOPE_ADMIN, "webhook"},
    {"GET", "/v1/webhooks/{id}/deliveries", fd_api_webhooks_deliveries, FD_SCOPE_ADMIN, "webhook_deliveries"},

    /* pages: dashboard, widget, demo chat (embedded static files) */
    {"GET", "/dashboard", fd_api_static, FD_SCOPE_NONE, "static"},
    {"GET", "/dashboard/*", fd_api_static, FD_SCOPE_NONE, "static"},
    {"GET", "/demo", fd_api_static, FD_SCOPE_NONE, "static"},
    {"GET", "/demo/*", fd_api_static, FD_SCOPE_NONE, "static"},
    {"GET", "/widget/*", fd_api_static, FD_SCOPE_NONE, "static"},
    {"GET", "/vendor/*", fd_api_static, FD_SCOPE_NONE, "static"},
    {NULL, NULL, NULL, 0, NULL},
};
