/* validate_messages.c — one item of POST /v1/messages -> struct fd_message_row.
 * (The envelope {"messages": [...]} is checked by fd_batch_items in validate_common.c.)
 *
 * Item fields (docs/api.md "Conversation turns"): id, conversation_id, role, content required;
 * parent_id (null or an id), model, created_at, metadata, user optional. Decisions where
 * docs/api.md is silent:
 * - content may be the empty string: an assistant turn that only called a tool, or an
 *   empty system prompt, is still a turn of the tree; it must be a string (<= 256 KiB).
 * - parent_id equal to the item's own id is invalid_field (a turn cannot be its own
 *   parent); any other id is accepted, known or not (the tree is resolved at export).
 * - user is accepted on any item, not only the first of a conversation: the writer stores
 *   it on the conversation (set it when the conversation row is created; whether a later
 *   different user overwrites it is the writer's call).
 * - null is the same as absent (see validate_feedback.c); unknown members ->
 *   unknown_field with the item path ("messages[2].foo"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/content_hash.h"
#include "ingest/rows.h"
#include "ingest/validate_common.h"

static const char *const message_fields[] = {"id",    "conversation_id", "parent_id", "role", "content",
                                             "model", "created_at",      "metadata",  "user", NULL};

/* A required member: missing_field when absent or null. */
static json_t *required(const json_t *obj, const char *key, const char *path, char p[FD_PATH_MAX],
                        struct fd_error *err) {
  fd_path_key(p, path, key);
  json_t *v = fd_json_member(obj, key);
  if (!v) fd_error_set(err, FD_ERR_MISSING_FIELD, p, "This field is required.");
  return v;
}

struct fd_message_row *fd_message_row_new(const json_t *item, const struct fd_limits *lim, const char *path,
                                          struct fd_error *err) {
  char p[FD_PATH_MAX];
  struct fd_message_row *row = NULL;
  json_t *v;
  if (!path) path = "";

  if (!json_is_object(item)) {
    fd_error_set(err, FD_ERR_INVALID_FIELD, path, "A message must be a JSON object.");
    return NULL;
  }
  const char *unknown = fd_first_unknown_key(item, message_fields);
  if (unknown) {
    fd_path_key(p, path, unknown);
    fd_error_set(err, FD_ERR_UNKNOWN_FIELD, p, "This field is not part of a message; put extra data in metadata.");
    return NULL;
  }
  row = calloc(1, sizeof *row);
  if (!row) {
    fd_error_set(err, FD_ERR_INTERNAL, NULL, "Out of memory.");
    return NULL;
  }
  row->source_ = json_incref((json_t *)item);
  row->origin = FD_MESSAGE_CLIENT;

  if (!(v = required(item, "id", path, p, err)) || !fd_check_id(v, lim, p, err)) goto fail;
  snprintf(row->id, sizeof row->id, "%s", json_string_value(v));
  if (!(v = required(item, "conversation_id", path, p, err)) || !fd_check_id(v, lim, p, err)) goto fail;
  row->conversation_id = json_string_value(v);
  if ((v = fd_json_member(item, "parent_id"))) {
    fd_path_key(p, path, "parent_id");
    if (!fd_check_id(v, lim, p, err)) goto fail;
    if (strcmp(json_string_value(v), row->id) == 0) {
      fd_error_set(err, FD_ERR_INVALID_FIELD, p, "A message cannot be its own parent.");
      goto fail;
    }
    snprintf(row->parent_id, sizeof row->parent_id, "%s", json_string_value(v));
  }
  if (!(v = required(item, "role", path, p, err))) goto fail;
  if (!json_is_string(v) || !(row->role = fd_role_static(json_string_value(v)))) {
    fd_error_set(err, FD_ERR_INVALID_FIELD, p, "role must be one of system, user, assistant, tool.");
    goto fail;
  }
  if (!(v = required(item, "content", path, p, err)) || !fd_check_string(v, 0, lim->content_max_bytes, p, err))
    goto fail;
  row->content = json_string_value(v);
  row->content_len = json_string_length(v);
  if ((v = fd_json_member(item, "model"))) {
    fd_path_key(p, path, "model");
    if (!fd_check_string(v, 1, lim->model_max_bytes, p, err)) goto fail;
    row->model = json_string_value(v);
  }
  if ((v = fd_json_member(item, "created_at"))) {
    fd_path_key(p, path, "created_at");
    if (!fd_check_timestamp(v, p, &row->created_at_us, err)) goto fail;
  } else {
    row->created_at_defaulted = true;
  }
  if ((v = fd_json_member(item, "metadata"))) {
    fd_path_key(p, path, "metadata");
    if (!fd_check_metadata(v, lim, p, &row->metadata_json, err)) goto fail;
  }
  if ((v = fd_json_member(item, "user"))) {
    fd_path_key(p, path, "user");
    if (!fd_check_string(v, 1, lim->user_max_bytes, p, err)) goto fail;
    row->user = json_string_value(v);
  }
  if (!fd_content_hash(item, row->content_sha256)) {
    fd_error_set(err, FD_ERR_INTERNAL, NULL, "Out of memory.");
    goto fail;
  }
  return row;

fail:
  fd_message_row_free(row);
  return NULL;
}

void fd_message_row_free(struct fd_message_row *row) {
  if (!row) return;
  free(row->metadata_json);
  json_decref(row->source_);
  free(row);
}
