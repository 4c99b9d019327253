/* validate_feedback.c — one feedback event (POST /v1/feedback, or an item of
 * /v1/feedback/batch) -> struct fd_feedback_row, or a precise client error.
 *
 * Rules beyond the letter of docs/api.md (decided here, documented for clients in docs):
 * - JSON null is the same as an absent member: optional fields may be null, and a
 *   required one that is null is "missing_field" (also for the hash, see content_hash.h).
 * - Fields that belong to another kind (value: rating and step; scale: rating;
 *   edited_content: edit; other_message_id/outcome/strength/other_message: comparison;
 *   start/end/label/quote: span; step: step) are rejected with
 *   invalid_field naming the field: silently storing or dropping them would hide a client
 *   bug (e.g. a "comment" event carrying a rating value). The common fields — id, kind,
 *   message_id, user, tags, comment, created_at, metadata, message, context — are allowed
 *   on every kind (a rating may carry a comment).
 * - Numbers must be JSON integers: 1.0 is not accepted for value/scale/strength.
 * - user and model are 1..128 bytes (an empty id of a rater or model means nothing);
 *   comment may be "" on any kind except kind "comment", where it is the feedback itself
 *   and must be 1..256 KiB; edited_content must be non-empty (an empty rewrite is not a
 *   completion anyone can train on).
 * - tags: duplicates are dropped from the row (not an error); the hash still covers the
 *   array as sent.
 * - Inline message: `message` stores the judged turn, so it needs `content` (may be "")
 *   and `conversation_id` (missing_field "message.content" / "message.conversation_id").
 *   `context` needs `message` (its conversation) -> missing_field "message". The parent of
 *   the judged message is the last context turn; with an empty context list, none (root).
 *   `message.parent_id` together with `context` -> invalid_field "message.parent_id"
 *   (the same for other_message.parent_id). A parent_id equal to the message's own id ->
 *   invalid_field. Members of the inline objects other than content, model, parent_id,
 *   conversation_id, and of context items other than role, content -> invalid_field with
 *   the nested path ("message.role"): unknown_field is reserved by docs/api.md for top-level
 *   fields.
 * - other_message (comparison only) inherits message.conversation_id; if it names its
 *   own, it must be the same (the two answers are siblings of one context), and without
 *   `message` it must name one. Its id is other_message_id (required on comparisons
 *   anyway).
 * - The first error found is reported, in this order: not an object, unknown top-level
 *   field (first in document order), kind, fields of another kind, then the fields in the
 *   order of docs/api.md: id, message_id, user, tags, comment, created_at, metadata, kind
 *   fields, message, context, other_message. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/content_hash.h"
#include "ingest/rows.h"
#include "ingest/signal_names.h"
#include "ingest/validate_common.h"
#include "ingest/validate_fine.h"

bool fd_context_turn_id(const char *conversation_id, size_t index, const char *role, const char *content,
                        size_t content_len, char out[FD_ID_BUF]) {
  char head[FD_ID_BUF + 64];
  int hn = snprintf(head, sizeof head, "%s\n%zu\n%s\n", conversation_id, index, role);
  if (hn < 0 || (size_t)hn >= sizeof head) return false;
  size_t total = (size_t)hn + content_len;
  char *buf = malloc(total ? total : 1);
  if (!buf) return false;
  memcpy(buf, head, (size_t)hn);
  if (content_len) memcpy(buf + hn, content, content_len);
  char hex[FD_SHA256_HEX_LEN + 1];
  fd_sha256_hex(buf, total, hex);
  free(buf);
  snprintf(out, FD_ID_BUF, "ctx-%.32s", hex);
  return true;
}

static const char *const event_fields[] = {
    "id",       "kind",     "message_id",    "user",  "tags",  "comment",        "created_at",
    "metadata", "message",  "context",       "value", "scale", "edited_content", "other_message_id",
    "outcome",  "strength", "other_message", "start", "end",   "label",          "quote",
    "step",     "emoji",    "signal",        NULL,
};

/* Fields that only one kind may carry (value, shared by three kinds, is checked in check_kind). */
#define KIND_BIT(k) (1u << (k))
static const struct {
  const char *name;
  enum fd_feedback_kind kind; /* named in the error */
  unsigned kinds;             /* bits of the kinds that may carry it */
} kind_fields[] = {
    {"scale", FD_KIND_RATING, KIND_BIT(FD_KIND_RATING)},
    {"start", FD_KIND_SPAN, KIND_BIT(FD_KIND_SPAN)},
    {"end", FD_KIND_SPAN, KIND_BIT(FD_KIND_SPAN)},
    {"label", FD_KIND_SPAN, KIND_BIT(FD_KIND_SPAN)},
    {"quote", FD_KIND_SPAN, KIND_BIT(FD_KIND_SPAN)},
    {"step", FD_KIND_STEP, KIND_BIT(FD_KIND_STEP)},
    {"edited_content", FD_KIND_EDIT, KIND_BIT(FD_KIND_EDIT)},
    {"other_message_id", FD_KIND_COMPARISON, KIND_BIT(FD_KIND_COMPARISON)},
    {"outcome", FD_KIND_COMPARISON, KIND_BIT(FD_KIND_COMPARISON)},
    {"strength", FD_KIND_COMPARISON, KIND_BIT(FD_KIND_COMPARISON)},
    {"other_message", FD_KIND_COMPARISON, KIND_BIT(FD_KIND_COMPARISON)},
    {"emoji", FD_KIND_REACTION, KIND_BIT(FD_KIND_REACTION)},
    {"signal", FD_KIND_SIGNAL, KIND_BIT(FD_KIND_SIGNAL)},
};

static const char *const inline_message_fields[] = {"content", "model", "parent_id", "conversation_id", NULL};
static const char *const context_item_fields[] = {"role", "content", NULL};

static bool oom(struct fd_error *err) { return fd_error_set(err, FD_ERR_INTERNAL, NULL, "Out of memory."); }

/* Shape checks of an inline message object at `path` ("message" / "other_message").
 * Does not decide which members are required (the caller knows the context). */
static bool check_inline_message(const json_t *m, const struct fd_limits *lim, const char *path, struct fd_error *err) {
  char p[FD_PATH_MAX];
  if (!json_is_object(m)) return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "This field must be a JSON object.");
  const char *unknown = fd_first_unknown_key(m, inline_message_fields);
  if (unknown) {
    fd_path_key(p, path, unknown);
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p,
                        "An inline message may only contain content, model, parent_id and conversation_id.");
  }
  json_t *v;
  if (!(v = fd_json_member(m, "content"))) {
    fd_path_key(p, path, "content");
    return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "An inline message needs its content.");
  }
  fd_path_key(p, path, "content");
  if (!fd_check_string(v, 0, lim->content_max_bytes, p, err)) return false;
  if ((v = fd_json_member(m, "model"))) {
    fd_path_key(p, path, "model");
    if (!fd_check_string(v, 1, lim->model_max_bytes, p, err)) return false;
  }
  if ((v = fd_json_member(m, "conversation_id"))) {
    fd_path_key(p, path, "conversation_id");
    if (!fd_check_id(v, lim, p, err)) return false;
  }
  if ((v = fd_json_member(m, "parent_id"))) {
    fd_path_key(p, path, "parent_id");
    if (!fd_check_id(v, lim, p, err)) return false;
  }
  return true;
}

/* Fill a generated message row; `id`/`parent` are copied, the rest borrowed. */
static bool fill_turn(struct fd_message_row *t, const char *id, const char *conversation_id, const char *parent,
                      const char *role, const json_t *content, const char *model, const struct fd_feedback_row *ev,
                      struct fd_error *err) {
  snprintf(t->id, sizeof t->id, "%s", id);
  snprintf(t->parent_id, sizeof t->parent_id, "%s", parent ? parent : "");
  t->conversation_id = conversation_id;
  t->role = role;
  t->content = json_string_value(content);
  t->content_len = json_string_length(content);
  t->model = model;
  t->created_at_us = ev->created_at_us;
  t->created_at_defaulted = ev->created_at_defaulted;
  t->origin = FD_MESSAGE_INLINE;
  /* The hash of the equivalent POST /v1/messages item, so that a backend logging the very
   * same turn later gets "duplicate" rather than "conflict". */
  json_t *item = json_pack("{s:s, s:s, s:s, s:O}", "id", t->id, "conversation_id", conversation_id, "role", role,
                           "content", content);
  if (!item) return oom(err);
  bool ok = (!parent || json_object_set_new(item, "parent_id", json_string(parent)) == 0) &&
            (!model || json_object_set_new(item, "model", json_string(model)) == 0) &&
            fd_content_hash(item, t->content_sha256);
  json_decref(item);
  return ok ? true : oom(err);
}

/* The parent_id of an inline message, when it has one: not its own id, and not together with
 * context (whose last turn is the parent). p is the message's path. */
static bool check_inline_parent(const json_t *m, const char *own_id, bool has_context, const char *p,
                                struct fd_error *err) {
  char q[FD_PATH_MAX];
  json_t *par = fd_json_member(m, "parent_id");
  fd_path_key(q, p, "parent_id");
  if (par && strcmp(json_string_value(par), own_id) == 0)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, q, "A message cannot be its own parent.");
  if (par && has_context)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, q,
                        "parent_id and context are mutually exclusive: the parent is the last context turn.");
  return true;
}

/* `message`: an inline message that names its conversation; *conv receives it. */
static bool check_message(const json_t *msg, bool has_context, const struct fd_limits *lim, const char *path,
                          const struct fd_feedback_row *row, const char **conv, struct fd_error *err) {
  char p[FD_PATH_MAX], q[FD_PATH_MAX];
  fd_path_key(p, path, "message");
  if (!check_inline_message(msg, lim, p, err)) return false;
  json_t *c = fd_json_member(msg, "conversation_id");
  if (!c) {
    fd_path_key(q, p, "conversation_id");
    return fd_error_set(err, FD_ERR_MISSING_FIELD, q, "An inline message needs its conversation_id.");
  }
  *conv = json_string_value(c);
  return check_inline_parent(msg, row->message_id, has_context, p, err);
}

/* One item of `context` at path ip: {role, content}. */
static bool check_context_turn(const json_t *it, const struct fd_limits *lim, const char *ip, struct fd_error *err) {
  char q[FD_PATH_MAX];
  if (!json_is_object(it))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, ip, "A context turn must be an object {role, content}.");
  const char *unknown = fd_first_unknown_key(it, context_item_fields);
  if (unknown) {
    fd_path_key(q, ip, unknown);
    return fd_error_set(err, FD_ERR_INVALID_FIELD, q, "A context turn may only contain role and content.");
  }
  json_t *role = fd_json_member(it, "role"), *content = fd_json_member(it, "content");
  fd_path_key(q, ip, "role");
  if (!role) return fd_error_set(err, FD_ERR_MISSING_FIELD, q, "A context turn needs a role.");
  if (!json_is_string(role) || !fd_role_static(json_string_value(role)))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, q, "role must be one of system, user, assistant, tool.");
  fd_path_key(q, ip, "content");
  if (!content) return fd_error_set(err, FD_ERR_MISSING_FIELD, q, "A context turn needs its content.");
  return fd_check_string(content, 0, lim->content_max_bytes, q, err);
}

/* `context`: an array of turns, which needs the inline message (its conversation). */
static bool check_context(const json_t *ctx, bool has_message, const struct fd_limits *lim, const char *path,
                          struct fd_error *err) {
  char p[FD_PATH_MAX], q[FD_PATH_MAX];
  fd_path_key(p, path, "context");
  if (!json_is_array(ctx))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "context must be an array of {role, content}.");
  if (!has_message) {
    fd_path_key(q, path, "message");
    return fd_error_set(err, FD_ERR_MISSING_FIELD, q,
                        "Inline context needs the inline message (its conversation_id and content).");
  }
  for (size_t i = 0; i < json_array_size(ctx); i++) {
    char ip[FD_PATH_MAX];
    fd_path_index(ip, p, i);
    if (!check_context_turn(json_array_get(ctx, i), lim, ip, err)) return false;
  }
  return true;
}

/* `other_message`: in the conversation of `message` (conv, NULL when there is none), or
 * naming its own; *other_conv receives the conversation. */
static bool check_other_message(const json_t *other, bool has_context, const char *conv, const struct fd_limits *lim,
                                const char *path, const struct fd_feedback_row *row, const char **other_conv,
                                struct fd_error *err) {
  char p[FD_PATH_MAX], q[FD_PATH_MAX];
  fd_path_key(p, path, "other_message");
  if (!check_inline_message(other, lim, p, err)) return false;
  json_t *c = fd_json_member(other, "conversation_id");
  fd_path_key(q, p, "conversation_id");
  if (!c && !conv) return fd_error_set(err, FD_ERR_MISSING_FIELD, q, "An inline message needs its conversation_id.");
  if (c && conv && strcmp(json_string_value(c), conv) != 0)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, q, "other_message must be in the same conversation as message.");
  *other_conv = c ? json_string_value(c) : conv;
  return check_inline_parent(other, row->other_message_id, has_context, p, err);
}

/* The row of an inline judged message (message or other_message) with id `id`: its parent
 * is the last context turn when there is context (last: "" for an empty one), else its own
 * parent_id. */
static bool fill_inline_turn(struct fd_feedback_row *row, const json_t *m, const char *id, const char *conv,
                             bool has_context, const char *last, struct fd_error *err) {
  json_t *par = fd_json_member(m, "parent_id"), *model = fd_json_member(m, "model");
  const char *parent = has_context ? (last[0] ? last : NULL) : par ? json_string_value(par) : NULL;
  return fill_turn(&row->turns[row->n_turns++], id, conv, parent, "assistant", json_object_get(m, "content"),
                   model ? json_string_value(model) : NULL, row, err);
}

/* The message rows of checked inline turns: the context chain, then message, then
 * other_message. */
static bool fill_turns(const json_t *msg, const json_t *ctx, const json_t *other, const char *conv,
                       const char *other_conv, struct fd_feedback_row *row, struct fd_error *err) {
  size_t n = (ctx ? json_array_size(ctx) : 0) + (msg ? 1 : 0) + (other ? 1 : 0);
  if (n == 0) return true;
  row->turns = calloc(n, sizeof *row->turns);
  if (!row->turns) return oom(err);
  char last[FD_ID_BUF] = "";
  for (size_t i = 0; ctx && i < json_array_size(ctx); i++) {
    json_t *it = json_array_get(ctx, i), *content = json_object_get(it, "content");
    const char *role = fd_role_static(json_string_value(json_object_get(it, "role")));
    char id[FD_ID_BUF];
    if (!fd_context_turn_id(conv, i, role, json_string_value(content), json_string_length(content), id))
      return oom(err);
    if (!fill_turn(&row->turns[row->n_turns++], id, conv, last[0] ? last : NULL, role, content, NULL, row, err))
      return false;
    snprintf(last, sizeof last, "%s", id);
  }
  if (msg && !fill_inline_turn(row, msg, row->message_id, conv, ctx != NULL, last, err)) return false;
  if (other && !fill_inline_turn(row, other, row->other_message_id, other_conv, ctx != NULL, last, err)) return false;
  return true;
}

/* message / context / other_message -> row->conversation_id and row->turns. */
static bool build_turns(const json_t *ev, const struct fd_limits *lim, const char *path, struct fd_feedback_row *row,
                        struct fd_error *err) {
  json_t *msg = fd_json_member(ev, "message"), *ctx = fd_json_member(ev, "context"),
         *other = fd_json_member(ev, "other_message");
  const char *conv = NULL, *other_conv = NULL;
  if (msg && !check_message(msg, ctx != NULL, lim, path, row, &conv, err)) return false;
  if (ctx && !check_context(ctx, msg != NULL, lim, path, err)) return false;
  if (other && !check_other_message(other, ctx != NULL, conv, lim, path, row, &other_conv, err)) return false;
  row->conversation_id = conv ? conv : other_conv;
  return fill_turns(msg, ctx, other, conv, other_conv, row, err);
}

static bool check_rating(const json_t *ev, const char *path, struct fd_feedback_row *row, struct fd_error *err) {
  char p[FD_PATH_MAX];
  long long scale = 2, value;
  json_t *v = fd_json_member(ev, "scale");
  if (v) {
    fd_path_key(p, path, "scale");
    /* scale 2 is the thumbs scale; 1 or above 10 make no sense */
    if (!fd_check_int_range(v, 2, 10, p, &scale, err)) return false;
  }
  fd_path_key(p, path, "value");
  if (!(v = fd_json_member(ev, "value"))) return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "A rating needs a value.");
  if (scale == 2) {
    if (!json_is_integer(v) || (json_integer_value(v) != -1 && json_integer_value(v) != 1))
      return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "A thumbs rating's value must be -1 or 1.");
    value = json_integer_value(v);
  } else if (!fd_check_int_range(v, 1, scale, p, &value, err)) {
    return false;
  }
  row->has_value = true;
  row->value = (int)value;
  row->scale = (int)scale;
  return true;
}

static bool check_comparison(const json_t *ev, const struct fd_limits *lim, const char *path,
                             struct fd_feedback_row *row, struct fd_error *err) {
  char p[FD_PATH_MAX];
  json_t *v;
  fd_path_key(p, path, "other_message_id");
  if (!(v = fd_json_member(ev, "other_message_id")))
    return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "A comparison needs other_message_id.");
  if (!fd_check_id(v, lim, p, err)) return false;
  if (strcmp(json_string_value(v), row->message_id) == 0)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "other_message_id must differ from message_id.");
  row->other_message_id = json_string_value(v);
  row->outcome = "preferred";
  if ((v = fd_json_member(ev, "outcome"))) {
    static const char *const outcomes[] = {"preferred", "tie", "both_bad"};
    row->outcome = NULL;
    for (size_t i = 0; json_is_string(v) && i < 3; i++)
      if (strcmp(json_string_value(v), outcomes[i]) == 0) row->outcome = outcomes[i];
    fd_path_key(p, path, "outcome");
    if (!row->outcome) return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "outcome must be preferred, tie or both_bad.");
  }
  if ((v = fd_json_member(ev, "strength"))) {
    long long s;
    fd_path_key(p, path, "strength");
    if (!fd_check_int_range(v, 1, 3, p, &s, err)) return false;
    row->strength = (int)s;
  }
  return true;
}

/* The checks before a row exists: an object, no unknown top-level field, a known kind, and
 * no field of another kind. */
static bool check_kind(const json_t *ev, const char *path, enum fd_feedback_kind *kind, struct fd_error *err) {
  char p[FD_PATH_MAX];
  json_t *v;
  if (!json_is_object(ev))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "A feedback event must be a JSON object.");
  const char *unknown = fd_first_unknown_key(ev, event_fields);
  if (unknown) {
    fd_path_key(p, path, unknown);
    return fd_error_set(err, FD_ERR_UNKNOWN_FIELD, p,
                        "This field is not part of a feedback event; put extra data in metadata.");
  }
  fd_path_key(p, path, "kind");
  if (!(v = fd_json_member(ev, "kind")))
    return fd_error_set(err, FD_ERR_MISSING_FIELD, p,
                        "kind is required (rating, comment, edit, comparison, span, step, reaction or signal).");
  if (!json_is_string(v) || !fd_feedback_kind_parse(json_string_value(v), kind))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p,
                        "kind must be rating, comment, edit, comparison, span, step, reaction or signal.");
  /* value belongs to ratings, steps and signals (a dwell's milliseconds) */
  if (*kind != FD_KIND_RATING && *kind != FD_KIND_STEP && *kind != FD_KIND_SIGNAL && fd_json_member(ev, "value")) {
    fd_path_key(p, path, "value");
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p,
                        "This field belongs to kinds \"rating\", \"step\" and \"signal\", not to \"%s\".",
                        fd_feedback_kind_name(*kind));
  }
  for (size_t i = 0; i < sizeof kind_fields / sizeof kind_fields[0]; i++)
    if (!(kind_fields[i].kinds & KIND_BIT(*kind)) && fd_json_member(ev, kind_fields[i].name)) {
      fd_path_key(p, path, kind_fields[i].name);
      return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "This field belongs to kind \"%s\", not to \"%s\".",
                          fd_feedback_kind_name(kind_fields[i].kind), fd_feedback_kind_name(*kind));
    }
  return true;
}

/* id (or a generated one) and message_id, the event's identity. */
static bool check_ids(const json_t *ev, const struct fd_limits *lim, const char *path, struct fd_feedback_row *row,
                      struct fd_error *err) {
  char p[FD_PATH_MAX];
  json_t *v;
  if ((v = fd_json_member(ev, "id"))) {
    fd_path_key(p, path, "id");
    if (!fd_check_id(v, lim, p, err)) return false;
    snprintf(row->id, sizeof row->id, "%s", json_string_value(v));
  } else {
    if (!fd_uuid_v4(row->id)) return fd_error_set(err, FD_ERR_INTERNAL, NULL, "The random generator failed.");
    row->id_generated = true;
  }
  fd_path_key(p, path, "message_id");
  if (!(v = fd_json_member(ev, "message_id")))
    return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "message_id (the assistant message judged) is required.");
  if (!fd_check_id(v, lim, p, err)) return false;
  row->message_id = json_string_value(v);
  return true;
}

/* The optional fields every kind may carry: user, tags, comment (required on kind
 * "comment"), created_at, metadata. */
static bool check_common(const json_t *ev, const struct fd_limits *lim, const char *path, struct fd_feedback_row *row,
                         struct fd_error *err) {
  char p[FD_PATH_MAX];
  json_t *v;
  if ((v = fd_json_member(ev, "user"))) {
    fd_path_key(p, path, "user");
    if (!fd_check_string(v, 1, lim->user_max_bytes, p, err)) return false;
    row->user = json_string_value(v);
  }
  if ((v = fd_json_member(ev, "tags"))) {
    fd_path_key(p, path, "tags");
    if (!fd_check_tags(v, lim, p, &row->tags, &row->n_tags, err)) return false;
  }
  fd_path_key(p, path, "comment");
  if ((v = fd_json_member(ev, "comment"))) {
    if (!fd_check_string(v, row->kind == FD_KIND_COMMENT ? 1 : 0, lim->comment_max_bytes, p, err)) return false;
    row->comment = json_string_value(v);
  } else if (row->kind == FD_KIND_COMMENT) {
    return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "A comment event needs its comment.");
  }
  if ((v = fd_json_member(ev, "created_at"))) {
    fd_path_key(p, path, "created_at");
    if (!fd_check_timestamp(v, p, &row->created_at_us, err)) return false;
  } else {
    row->created_at_defaulted = true;
  }
  if ((v = fd_json_member(ev, "metadata"))) {
    fd_path_key(p, path, "metadata");
    if (!fd_check_metadata(v, lim, p, &row->metadata_json, err)) return false;
  }
  return true;
}

static bool check_edit(const json_t *ev, const struct fd_limits *lim, const char *path, struct fd_feedback_row *row,
                       struct fd_error *err) {
  char p[FD_PATH_MAX];
  json_t *v;
  fd_path_key(p, path, "edited_content");
  if (!(v = fd_json_member(ev, "edited_content")))
    return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "An edit needs edited_content.");
  if (!fd_check_string(v, 1, lim->edited_content_max_bytes, p, err)) return false;
  row->edited_content = json_string_value(v);
  return true;
}

/* reaction: `emoji`, a string the project's set resolves later (fd_feedback_row_resolve_reaction). */
static bool check_reaction(const json_t *ev, const char *path, struct fd_feedback_row *row, struct fd_error *err) {
  char p[FD_PATH_MAX];
  json_t *v;
  fd_path_key(p, path, "emoji");
  if (!(v = fd_json_member(ev, "emoji")))
    return fd_error_set(err, FD_ERR_MISSING_FIELD, p,
                        "A reaction needs its emoji (a name or emoji of the project's set).");
  if (!fd_check_string(v, 1, FD_REACTION_EMOJI_MAX, p, err)) return false;
  row->emoji = json_string_value(v);
  return true;
}

/* signal: a known name; value (a number >= 0) required for dwell, forbidden otherwise. */
static bool check_signal(const json_t *ev, const char *path, struct fd_feedback_row *row, struct fd_error *err) {
  char p[FD_PATH_MAX];
  json_t *v;
  fd_path_key(p, path, "signal");
  if (!(v = fd_json_member(ev, "signal")))
    return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "A signal event needs its signal name.");
  /* the detected_* names are stored by the server only */
  int si = json_is_string(v) ? fd_signal_index(json_string_value(v)) : -1;
  if (si >= 0 && si < FD_SIGNALS_CLIENT) row->signal = fd_signal_names[si];
  if (!row->signal)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p,
                        "signal must be copy, share, regenerate, continue, abandon, dwell or retry.");
  bool dwell = strcmp(row->signal, "dwell") == 0;
  fd_path_key(p, path, "value");
  v = fd_json_member(ev, "value");
  if (!dwell && v) return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "Only a dwell signal carries a value.");
  if (dwell && !v) return fd_error_set(err, FD_ERR_MISSING_FIELD, p, "A dwell signal needs its value (milliseconds).");
  if (dwell && (!json_is_number(v) || !(json_number_value(v) >= 0) || !isfinite(json_number_value(v))))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "value must be a number of milliseconds >= 0.");
  if (dwell) {
    row->has_signal_value = true;
    row->signal_value = json_number_value(v);
  }
  return true;
}

bool fd_feedback_row_resolve_reaction(struct fd_feedback_row *row, const struct fd_reaction_set *set, const char *path,
                                      struct fd_error *err) {
  if (row->kind != FD_KIND_REACTION) return true;
  const struct fd_reaction *r = fd_reaction_find(set, row->emoji);
  if (!r) {
    char p[FD_PATH_MAX];
    fd_path_key(p, path ? path : "", "emoji");
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "This emoji is not in the project's reaction set.");
  }
  snprintf(row->reaction, sizeof row->reaction, "%s", r->name);
  return true;
}

/* The fields of the event's own kind. */
static bool check_kind_fields(const json_t *ev, const struct fd_limits *lim, const char *path,
                              struct fd_feedback_row *row, struct fd_error *err) {
  switch (row->kind) {
    case FD_KIND_RATING: return check_rating(ev, path, row, err);
    case FD_KIND_COMMENT: return true;
    case FD_KIND_EDIT: return check_edit(ev, lim, path, row, err);
    case FD_KIND_COMPARISON: return check_comparison(ev, lim, path, row, err);
    case FD_KIND_SPAN: return fd_check_span_fields(ev, lim, path, row, err);
    case FD_KIND_STEP: return fd_check_step_fields(ev, path, row, err);
    case FD_KIND_REACTION: return check_reaction(ev, path, row, err);
    case FD_KIND_SIGNAL: return check_signal(ev, path, row, err);
  }
  return true;
}

struct fd_feedback_row *fd_feedback_row_new(const json_t *ev, const struct fd_limits *lim, const char *path,
                                            struct fd_error *err) {
  if (!path) path = "";
  enum fd_feedback_kind kind;
  if (!check_kind(ev, path, &kind, err)) return NULL;
  struct fd_feedback_row *row = calloc(1, sizeof *row);
  if (!row) {
    oom(err);
    return NULL;
  }
  row->source_ = json_incref((json_t *)ev);
  row->kind = kind;
  row->kind_name = fd_feedback_kind_name(kind);
  /* The fields in the order listed at the top of this file: the first error found is reported. */
  bool ok = check_ids(ev, lim, path, row, err) && check_common(ev, lim, path, row, err) &&
            check_kind_fields(ev, lim, path, row, err) && build_turns(ev, lim, path, row, err) &&
            (fd_content_hash(ev, row->content_sha256) || oom(err));
  if (ok) return row;
  fd_feedback_row_free(row);
  return NULL;
}

void fd_feedback_row_free(struct fd_feedback_row *row) {
  if (!row) return;
  for (size_t i = 0; i < row->n_turns; i++) free(row->turns[i].metadata_json);
  free(row->turns);
  free(row->tags);
  free(row->metadata_json);
  json_decref(row->source_);
  free(row);
}
