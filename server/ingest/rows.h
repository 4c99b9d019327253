/* rows.h — normalized rows produced by ingestion validation, ready for the database writer,
 * and the validators that build them from parsed JSON (validate_feedback.c,
 * validate_messages.c). No HTTP and no SQL here.
 *
 * OWNERSHIP (read before keeping a row):
 * - A row from fd_feedback_row_new / fd_message_row_new holds its own reference to the
 *   json_t it was validated from (json_incref), so the request's root JSON may be freed
 *   before the row is written. Every `const char *` and `const json_t *` member borrows
 *   from that JSON: valid until the row is freed, NUL-terminated, valid UTF-8, no NUL
 *   inside. Nobody may modify that JSON while a row exists.
 * - Members declared as char arrays (ids that may be generated) and members documented
 *   "owned" belong to the row and go away with fd_*_row_free. Nothing else needs freeing.
 * - The json_t reference counts are atomic in jansson >= 2.11, so a row may be freed on
 *   the writer thread while the request thread frees the body.
 *
 * SQL NULL: a NULL pointer, or an empty char array for the array members (an empty string
 * is never a valid id, so "" unambiguously means "no value").
 *
 * TIMES: created_at_us is microseconds since the Unix epoch (UTC). When the client did not
 * send created_at, created_at_defaulted is true and created_at_us is 0: the caller sets
 * it to the receipt time (the same instant it stores as received_at). The default never
 * enters content_sha256. */
#ifndef FD_INGEST_ROWS_H
#define FD_INGEST_ROWS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/kinds.h"
#include "core/limits.h"
#include "ingest/reactions.h"
#include "util/crypto.h"

#define FD_ID_BUF (FD_ID_MAX_BYTES + 1)

/* Where a message row came from; it decides how the writer treats an existing row. */
enum fd_message_origin {
  /* POST /v1/messages item: insert; same id + same content_sha256 -> "duplicate",
   * different hash -> item error "conflict". */
  FD_MESSAGE_CLIENT = 0,
  /* Generated from a feedback event's inline message/context/other_message: insert ON
   * CONFLICT DO NOTHING. The event is what the client is storing; a turn that is already
   * known (logged by the backend, or sent inline by an earlier event) is kept as it is
   * and is never a conflict of the event. */
  FD_MESSAGE_INLINE = 1,
};

/* One row of table messages (plus, for /v1/messages, the conversation's user). */
struct fd_message_row {
  char id[FD_ID_BUF];          /* client id, or "ctx-" + 32 hex for a context turn */
  const char *conversation_id; /* borrowed; never NULL */
  char parent_id[FD_ID_BUF];   /* "" = NULL (a root turn, or parent unknown) */
  const char *role;            /* static string: "system" | "user" | "assistant" | "tool" */
  const char *content;         /* borrowed; may be "" */
  size_t content_len;          /* bytes */
  const char *model;           /* borrowed or NULL */
  const char *user;            /* borrowed or NULL: /v1/messages only; goes to conversations.user_ref */
  char *metadata_json;         /* owned: compact JSON (sorted keys) for jsonb, or NULL */
  int64_t created_at_us;
  bool created_at_defaulted; /* caller fills created_at_us with the receipt time */
  enum fd_message_origin origin;
  unsigned char content_sha256[FD_SHA256_LEN]; /* messages.content_sha256 */
  json_t *source_;                             /* private: the reference that keeps borrowed strings alive
                                                * (NULL for rows embedded in a feedback row) */
};

/* One row of table feedback, plus the message rows its inline turns produce. */
struct fd_feedback_row {
  char id[FD_ID_BUF]; /* the client's id, or a generated UUIDv4 */
  bool id_generated;  /* true when the client sent no id (results echo the new id) */
  enum fd_feedback_kind kind;
  const char
      *kind_name; /* static "rating" | "comment" | "edit" | "comparison" | "span" | "step" | "reaction" | "signal" */
  const char *message_id;      /* borrowed; never NULL */
  const char *conversation_id; /* borrowed from message.conversation_id (or
                                * other_message.conversation_id), or NULL */
  const char *user;            /* borrowed or NULL */
  /* rating: value and scale (scale is 2 for thumbs, value -1/1; else 3..10, value 1..scale).
   * step: value -1/0/1, scale 0 (NULL). span: the value of its label in the project's span
   * labels at ingestion (filled by fd_feedback_check_target), scale 0. Other kinds:
   * has_value false, both 0. */
  bool has_value;
  int value;
  int scale;
  const char **tags; /* owned array (strings borrowed): distinct tags in first-seen order */
  size_t n_tags;
  const char *comment;        /* borrowed or NULL (may be "" except for kind comment) */
  const char *edited_content; /* borrowed; edit only (never "") */
  /* No edit ratio here: it is computed after COMMIT from the stored original
   * (pipeline/edit_ratios.c), never on the request path. */
  const char *other_message_id; /* borrowed; comparison only */
  const char *outcome;          /* static "preferred" | "tie" | "both_bad"; comparison only, else NULL */
  int strength;                 /* 1..3, or 0 = NULL */
  /* span: [span_start, span_end) in Unicode code points of the judged message's content,
   * its label and the optional quote (borrowed or NULL). step: step_index (0-based). */
  long long span_start, span_end;
  const char *span_label;
  const char *quote;
  long long step_index;
  /* reaction: `emoji` as sent (a name or an emoji character, borrowed); `reaction` is the
   * name it resolves to in the project's set (fd_feedback_row_resolve_reaction), "" until
   * then. Other kinds: NULL and "". */
  const char *emoji;
  char reaction[FD_REACTION_NAME_MAX + 1];
  /* signal: static name; signal_value only for "dwell" (milliseconds, >= 0). */
  const char *signal;
  bool has_signal_value;
  double signal_value;
  int64_t created_at_us;
  bool created_at_defaulted;
  char *metadata_json;                         /* owned: compact JSON (sorted keys) for jsonb, or NULL */
  unsigned char content_sha256[FD_SHA256_LEN]; /* feedback.content_sha256 */
  /* Inline turns, in insertion order: context[0..k) (ids "ctx-..."), then the judged
   * message (id = message_id), then other_message (id = other_message_id). Each is
   * origin FD_MESSAGE_INLINE, created_at = the event's created_at (defaulted with it).
   * Owned array; rows borrow from the event. */
  struct fd_message_row *turns;
  size_t n_turns;
  json_t *source_; /* private: keeps the event alive */
};

/* Validate one feedback event (the body of POST /v1/feedback, or one item of
 * /v1/feedback/batch) and build its row. `path` prefixes every error field: NULL or ""
 * for a single event (fields "tags[3]", "context[1].role"), "events[7]" for a batch item
 * (fields "events[7].tags[3]"; an item that is not an object fails with field
 * "events[7]"). Returns a new row (free with fd_feedback_row_free) or NULL with *err set:
 * invalid_field / missing_field / unknown_field for the client, FD_ERR_INTERNAL only when
 * memory or the random generator fail. */
struct fd_feedback_row *fd_feedback_row_new(const json_t *event, const struct fd_limits *lim, const char *path,
                                            struct fd_error *err) __attribute__((warn_unused_result));
void fd_feedback_row_free(struct fd_feedback_row *row);

/* A reaction's emoji (name or character) -> its name in `set` (row->reaction). Other kinds:
 * true, nothing to do. An emoji the set does not know is invalid_field `emoji` (with the
 * row's path prefix, as for fd_feedback_row_new). */
bool fd_feedback_row_resolve_reaction(struct fd_feedback_row *row, const struct fd_reaction_set *set, const char *path,
                                      struct fd_error *err) __attribute__((warn_unused_result));

/* Validate one item of POST /v1/messages (path as above, e.g. "messages[2]"). Returns a
 * new row (origin FD_MESSAGE_CLIENT; free with fd_message_row_free) or NULL with *err. */
struct fd_message_row *fd_message_row_new(const json_t *item, const struct fd_limits *lim, const char *path,
                                          struct fd_error *err) __attribute__((warn_unused_result));
void fd_message_row_free(struct fd_message_row *row);

/* span and step events: the checks that need the project's span labels (a JSON array of
 * {"name", "value"}) and the judged message's content (content NULL: not known yet, then
 * only the label is checked and the event is stored; exports skip it if it does not fit).
 * Sets row->value of a span from its label. Offsets and step indexes count as in
 * docs/api.md "Span feedback" / "Step feedback". Other kinds: true, nothing done. */
bool fd_feedback_check_target(struct fd_feedback_row *row, const json_t *span_labels, const char *content,
                              size_t content_len, const char *path, struct fd_error *err)
    __attribute__((warn_unused_result));

/* The judged message's content when the event carries it inline, else NULL. */
const struct fd_message_row *fd_feedback_inline_message(const struct fd_feedback_row *row);

/* The id of context turn `index` of conversation `conversation_id` (docs/api.md):
 * "ctx-" + the first 32 hex digits of SHA-256(C "\n" index "\n" role "\n" content).
 * out holds FD_ID_BUF bytes. False only if the input is too large to hash (never with
 * validated input). */
bool fd_context_turn_id(const char *conversation_id, size_t index, const char *role, const char *content,
                        size_t content_len, char out[FD_ID_BUF]) __attribute__((warn_unused_result));

#endif
