/* admin_body.h — validation of the JSON bodies of POST /v1/keys and PATCH /v1/project
 * (docs/api.md "Administration"). Pure (jansson in, values out, errors as struct fd_error)
 * so the fuzz target tests/fuzz/fuzz_admin_body.c runs exactly what the handlers run. */
#ifndef FD_API_ADMIN_BODY_H
#define FD_API_ADMIN_BODY_H

#include <jansson.h>
#include <stdbool.h>

#include "core/errors.h"

/* POST /v1/keys: {"scopes": [...], "label"?: string <= 200 bytes}. On success *scopes holds
 * the scope bits and *label the label ("" when absent), borrowed from body. */
bool fd_keys_create_body_parse(const json_t *body, unsigned *scopes, const char **label, struct fd_error *err)
    __attribute__((warn_unused_result));

/* PATCH /v1/project: {"name"?: 1..200 bytes, "allowed_origins"?: see fd_cors_origins_valid,
 * "span_labels"?: [{"name", "value"}] (docs/api.md "Span feedback"), "reactions"?: see
 * fd_reaction_set_parse}, "retention_days"?: 1..36500 or null, "detect_feedback"?: boolean, "detect_phrases"?:
 * {"praise"?, "complaint"?, "correction"?: [phrases]} (docs/detection.md "Per-project phrases"). On success *name,
 * *origins and *span_labels (each NULL: unchanged) are borrowed from body; the caller takes the other settings
 * (reactions) from body itself, they are validated here. */
bool fd_project_patch_body_parse(const json_t *body, const char **name, const json_t **origins,
                                 const json_t **span_labels, struct fd_error *err) __attribute__((warn_unused_result));

/* The settings of a PATCH /v1/project body that fd_project_patch_body_parse accepted, as
 * they are merged into projects.settings (span_labels, reactions, default_consent,
 * dataset_license, detect_feedback; detect_phrases with all three classes). A new object,
 * or NULL when memory runs out. */
json_t *fd_project_patch_settings(const json_t *body) __attribute__((warn_unused_result));

#endif
