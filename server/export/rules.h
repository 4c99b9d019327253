/* rules.h — the derivation rules of docs/export.md applied to ONE sibling group (the assistant
 * messages sharing one parent): pair rules 1-3, the unpaired (KTO/BCO) rules and the SFT rules.
 *
 * The output is a list of format-independent *candidates*: each either a record (skip ==
 * FD_SKIP_NONE) or a candidate dropped for a reason (trivial_edit, tie, low_agreement,
 * conflict, cap; unknown_turn / invalid_prompt for each named message of a group whose prompt
 * cannot be used). Skipped candidates carry their models and evidence too, so the driver can
 * apply the model/since/until filters before counting them, exactly as for records. Format
 * rendering, dedup (rule 4) and filters happen later, in export.c.
 *
 * Decisions where docs/export.md leaves room (documented in the report too):
 * - Evidence of every candidate lists feedback indices; the edit/trivial candidates have the
 *   edit event, comparison/tie/low_agreement candidates every counting vote on the pair, rated
 *   pairs every counting rating of both messages, KTO/SFT rating records the message's
 *   counting ratings, unknown_turn/invalid_prompt candidates the events naming the message.
 * - "Repeat or contradict" (rule 3) compares texts: a rated pair (A, B) is dropped as
 *   `conflict` when an edit or comparison record of the group has (chosen, rejected) equal to
 *   (A, B) or (B, A) by content — the records would otherwise be identical or opposite.
 * - A comparison record's margin is s_chosen - s_rejected when both messages are rated, else
 *   null; an edit record's margin is null (docs/export.md), its models are both M's model.
 * - A trivial edit is one skipped candidate in every format (not two in KTO).
 * - Reactions (docs/export.md "Reactions and signals"): with reactions=true a counting reaction
 *   whose name is in the current set is one more rating of its message, scored by its value,
 *   and part of the evidence wherever ratings are. A KTO / reward record from a score whose
 *   evidence holds only reactions has origin `reaction`, else `ratings`.
 * - Signals (signals=true, kto and reward): a message no counting rating, reaction (in the set),
 *   edit or comparison names gets one candidate from its counting signals (evidence: all of
 *   them, dwell included), origin `signal`: sum 0 (or, for reward, no signal but dwell) is
 *   skipped as `tie`. */
#ifndef FD_EXPORT_RULES_H
#define FD_EXPORT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "export/model.h"
#include "export/tree.h"

enum fd_origin {
  FD_ORIGIN_EDIT,
  FD_ORIGIN_COMPARISON,
  FD_ORIGIN_RATINGS,
  FD_ORIGIN_BOTH_BAD,
  FD_ORIGIN_SPAN,     /* spans records */
  FD_ORIGIN_STEP,     /* prm records */
  FD_ORIGIN_REACTION, /* kto / reward records whose score evidence is reactions only */
  FD_ORIGIN_SIGNAL,   /* kto / reward records from implicit and detected signals (signals=true) */
  FD_ORIGIN_COUNT
};

/* The manifest's `skipped` keys, in manifest order. */
enum fd_skip_reason {
  FD_SKIP_NONE = -1,
  FD_SKIP_UNKNOWN_TURN = 0,
  FD_SKIP_TRIVIAL_EDIT,
  FD_SKIP_TIE,
  FD_SKIP_LOW_AGREEMENT,
  FD_SKIP_INVALID_PROMPT,
  FD_SKIP_DUPLICATE,
  FD_SKIP_CONFLICT,
  FD_SKIP_CAP,
  FD_SKIP_NOT_SINGLE_TURN,
  FD_SKIP_UNSUPPORTED_ROLE,
  FD_SKIP_NO_CONSENT, /* counted by the driver (export.c), never derived here */
  FD_SKIP_INVALID_SPAN,
  FD_SKIP_INVALID_STEP,
  FD_SKIP_UNLABELLED,
  FD_SKIP_COUNT
};

/* Which rule set a format uses. */
enum fd_family {
  FD_FAMILY_PAIRS,
  FD_FAMILY_UNPAIRED,
  FD_FAMILY_SFT,
  FD_FAMILY_STEPS,
  FD_FAMILY_SPANS,
  FD_FAMILY_REWARD
};

/* "edit", "comparison", "ratings", "both_bad", "span", "step", "reaction", "signal". */
const char *fd_origin_name(enum fd_origin o);
/* "unknown_turn", ... (reason must be a real reason, not FD_SKIP_NONE). */
const char *fd_skip_name(enum fd_skip_reason r);

struct fd_candidate {
  enum fd_skip_reason skip;
  enum fd_origin origin;
  const char *chosen;         /* pairs: the chosen text; unpaired/SFT: the completion */
  const char *rejected;       /* pairs only */
  const char *chosen_model;   /* model of the chosen message / completion (edit: M's model) */
  const char *rejected_model; /* pairs only; NULL elsewhere */
  bool label;                 /* unpaired only */
  bool has_margin;
  double margin;
  bool has_agreement;
  double agreement;
  double reward;       /* reward records: the mean score (or signal sum / non-dwell signals) */
  size_t n_scored;     /* reward records: how many ratings and reactions (or non-dwell signals) */
  size_t ev_off, n_ev; /* evidence: feedback indices at candidates->evidence[ev_off ..+ n_ev) */
};

/* A growable list of candidates; reused group after group (fd_candidates_reset). Text and
 * model pointers borrow from the conversation. */
struct fd_candidates {
  struct fd_candidate *items;
  size_t n, cap;
  size_t *evidence;
  size_t n_ev, cap_ev;
};

void fd_candidates_reset(struct fd_candidates *cs);
/* Frees the buffers; the struct itself is the caller's. */
void fd_candidates_clear(struct fd_candidates *cs);

/* A new zeroed candidate (skip FD_SKIP_NONE) whose evidence starts at the current end of the
 * evidence pool; NULL when out of memory. The pointer is valid until the next push. */
struct fd_candidate *fd_candidate_push(struct fd_candidates *cs, enum fd_origin origin)
    __attribute__((warn_unused_result));
/* Append one evidence event to c, which must be the last candidate pushed. */
bool fd_candidate_add_ev(struct fd_candidates *cs, struct fd_candidate *c, size_t ev)
    __attribute__((warn_unused_result));

/* One sibling group, prepared by the driver. All arrays borrowed. */
struct fd_group {
  const struct fd_conversation *conv;
  enum fd_prompt_status status;
  const size_t *members; /* message indices of the group's assistant messages, in rank-tie order
                            (created_at, then id) */
  size_t n_members;
  const size_t *events; /* counting events of every kind naming at least one member,
                           sorted by (created_at, seq); comparisons only when both their
                           messages are logged in this conversation */
  size_t n_events;
  const size_t *ev_msg;    /* per feedback index: message index of message_id, or SIZE_MAX */
  const size_t *ev_other;  /* per feedback index: message index of other_message_id, or SIZE_MAX */
  const size_t *msg_local; /* per message index: its position in its group's members, or SIZE_MAX */
};

/* What the derivation reads beyond the group. */
struct fd_rules_opts {
  double min_margin;                    /* rule 3's threshold */
  bool reactions;                       /* counting reactions count as ratings (reactions=true; always for reward) */
  bool signals;                         /* kto / reward: messages without explicit feedback get a label from signals */
  const struct fd_export_reaction *set; /* the project's current reaction set */
  size_t n_set;
};

/* The value of reaction `name` in the set; false when the name is not in it (such a reaction
 * no longer counts). */
bool fd_reaction_value(const struct fd_rules_opts *o, const char *name, double *value)
    __attribute__((warn_unused_result));

/* Append the group's candidates for `family` to *out. False only when out of memory. */
bool fd_rules_derive(const struct fd_group *g, enum fd_family family, const struct fd_rules_opts *o,
                     struct fd_candidates *out) __attribute__((warn_unused_result));

/* Whether two texts are equal after trimming and collapsing runs of whitespace (space, \t,
 * \n, \v, \f, \r) into one space: the trivial-edit test of rule 1. */
bool fd_text_equal_ws(const char *a, const char *b);

#endif
