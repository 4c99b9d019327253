/* model.h — the in-memory data model of the export core: one conversation's logged turns and
 * the feedback events that name them, exactly as the DB layer loads them.
 *
 * The export works one conversation at a time (export.h), so these structs only ever hold a
 * single conversation; memory is bounded by the largest conversation, not by the export.
 *
 * Ownership: a struct fd_conversation owns private copies of every string it holds. The
 * fd_conversation_add_* functions copy what they are given (the caller keeps its own
 * buffers, e.g. a PGresult), so the loader can clear its result right after adding a row. */
#ifndef FD_EXPORT_MODEL_H
#define FD_EXPORT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/kinds.h"

enum fd_role { FD_ROLE_SYSTEM, FD_ROLE_USER, FD_ROLE_ASSISTANT, FD_ROLE_TOOL };

/* The signal names of docs/api.md "Implicit signals" and the detected ones of docs/detection.md;
 * FD_SIGNAL_OTHER for a name this exporter does not know (it counts nowhere). */
enum fd_signal {
  FD_SIGNAL_OTHER,
  FD_SIGNAL_COPY,
  FD_SIGNAL_SHARE,
  FD_SIGNAL_REGENERATE,
  FD_SIGNAL_CONTINUE,
  FD_SIGNAL_ABANDON,
  FD_SIGNAL_DWELL,
  FD_SIGNAL_RETRY,
  FD_SIGNAL_DETECTED_PRAISE,
  FD_SIGNAL_DETECTED_COMPLAINT,
  FD_SIGNAL_DETECTED_CORRECTION
};

/* One reaction of the project's current set: a counting reaction scores `value`
 * (docs/export.md "Reactions and signals"). */
struct fd_export_reaction {
  char name[33];
  double value;
};

enum fd_outcome { FD_OUTCOME_PREFERRED, FD_OUTCOME_TIE, FD_OUTCOME_BOTH_BAD };

/* One logged turn (a row of `messages`). */
struct fd_message {
  const char *id;
  const char *conversation_id;
  const char *parent_id; /* NULL for a root turn */
  enum fd_role role;
  const char *content;
  const char *model;  /* NULL when the backend did not say */
  int64_t created_at; /* microseconds since the Unix epoch */
  int64_t seq;        /* arrival order */
};

/* One feedback event (a row of `feedback`). Fields a kind does not use are ignored. */
struct fd_feedback {
  const char *id;
  int64_t seq; /* arrival order: breaks ties of created_at */
  enum fd_feedback_kind kind;
  const char *message_id;       /* comparisons: the preferred message (outcome preferred) */
  const char *other_message_id; /* comparisons only */
  const char *user;             /* NULL: anonymous, each such event counts on its own */
  int value;                    /* ratings; steps (-1/0/1); spans: the label's value */
  int scale;                    /* ratings: 2 = thumbs (value -1/1), 3..10 = scale (value 1..scale) */
  const char *edited_content;   /* edits only */
  enum fd_outcome outcome;      /* comparisons only */
  int span_start, span_end;     /* spans only: code points of the message's content */
  const char *span_label;       /* spans only */
  int step_index;               /* steps only */
  const char *reaction;         /* reactions only: the reaction's name */
  enum fd_signal signal;        /* signals only */
  int64_t created_at;           /* microseconds since the Unix epoch */
  bool retracted;               /* retracted_at IS NOT NULL */
  bool no_consent;              /* the rater's consent is not `train` (explicit or by the project default) */
};

/* One conversation: its logged turns and every feedback event naming one of them (for a
 * comparison: naming either of its two messages). Order of the arrays does not matter. */
struct fd_conversation {
  char *id;
  struct fd_message *messages;
  size_t n_messages;
  struct fd_feedback *feedback;
  size_t n_feedback;
  size_t cap_messages_; /* private */
  size_t cap_feedback_; /* private */
  void *arena_;         /* private: the chunks holding the copied strings */
};

/* A new empty conversation named `id` (copied). NULL when out of memory. */
struct fd_conversation *fd_conversation_new(const char *id) __attribute__((warn_unused_result));

/* Append a copy of *m (all strings duplicated; m->conversation_id may be NULL and then is
 * taken from the conversation). False when out of memory or a required string (id, content)
 * is NULL. */
bool fd_conversation_add_message(struct fd_conversation *c, const struct fd_message *m)
    __attribute__((warn_unused_result));

/* Append a copy of *f (all strings duplicated). False when out of memory or id/message_id is
 * NULL. */
bool fd_conversation_add_feedback(struct fd_conversation *c, const struct fd_feedback *f)
    __attribute__((warn_unused_result));

/* Frees the conversation and every string it owns; accepts NULL. */
void fd_conversation_free(struct fd_conversation *c);

/* Parse the database spellings ("system", "both_bad", ...; kinds: core/kinds.h). False when unknown. */
bool fd_role_parse(const char *s, enum fd_role *out) __attribute__((warn_unused_result));
bool fd_outcome_parse(const char *s, enum fd_outcome *out) __attribute__((warn_unused_result));
/* A signal's name; FD_SIGNAL_OTHER when unknown or NULL. */
enum fd_signal fd_signal_parse(const char *s);
/* +1 (copy, share, continue, detected_praise), -1 (regenerate, abandon, retry,
 * detected_complaint, detected_correction), 0 (dwell, unknown). */
int fd_signal_sign(enum fd_signal s);

/* "system", "user", "assistant", "tool" — the role names of every output format. */
const char *fd_role_name(enum fd_role role);

#endif
