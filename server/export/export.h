/* export.h — the driver of the preference export: feed it conversations one at a time, it
 * derives the records of docs/export.md, renders them in the requested format and hands out
 * finished NDJSON lines through a write callback. No I/O, no SQL, no HTTP here: the export
 * endpoint and `feedbackd export` wrap this.
 *
 * STREAMING. The caller (DB layer) loads ONE conversation at a time, in bytewise order of
 * conversation id (ORDER BY id COLLATE "C"), and calls fd_export_add_conversation for each.
 * Inside a conversation the driver visits sibling groups in bytewise order of parent id, so
 * occurrences of a record arrive in exactly the order of rule 4's (conversation id, parent id)
 * key: the first occurrence seen is the one to keep, with its conversation's split. All
 * per-conversation memory is released before the call returns: memory is bounded by the
 * largest conversation plus the dedup set (dedup.h: ~35 bytes per distinct record).
 *
 * DEDUP. One pass: a record is written when first seen, later duplicates are
 * dropped (`skipped.duplicate`), and by_origin is corrected when a later duplicate has an
 * earlier origin (edit < comparison < ratings).
 *
 * SPILL. With include_meta the kept occurrence must list the merged evidence of all its
 * duplicates, which are only known later. Its line is therefore not written at once: every
 * line goes, in order, to an anonymous temporary file (util/spill.h), and the dedup set keeps,
 * for records seen again, the feedback ids of the later occurrences. Once every conversation
 * is in, fd_export_flush reads the file back and writes each line, rebuilding the meta of
 * those seen again with feedback_ids = own evidence ∪ remembered evidence (sorted bytewise,
 * unique) and n_votes = their number; the others go out byte for byte. Memory stays what it
 * is without meta; the file holds the body (its size on disk, in $TMPDIR). Earlier versions
 * read the snapshot twice instead (derivation and queries twice; bench/README.md "export").
 *
 *     struct fd_export *x = fd_export_new(&params, write_cb, cls, &err);
 *     for each conversation c (bytewise id order): if (!fd_export_add_conversation(x, c)) fail;
 *     while ((r = fd_export_flush(x)) > 0) {}     // optional: a bounded piece per call
 *     if (r < 0 || !fd_export_finish(x)) fail;     // finish flushes what is left
 *     json_t *counts = fd_export_counts_new(x);   // merge into the manifest
 *     fd_export_free(x);
 *
 * FILTERS. model / since / until select among the derived candidates (records and skipped
 * candidates alike) BEFORE dedup: the derivation itself (latest votes, agreement, conflicts,
 * the cap of 4) always runs on all data, so a filtered export holds a subset of a full
 * export's records. A candidate passes `model` when its chosen, rejected or completion
 * message has that model (edit records count as M's model) and passes since/until when at
 * least one event of its evidence has created_at in [since, until). `split` selects which
 * records are written, AFTER dedup (a record kept in train is not written by a test export
 * even when a duplicate of it lives in a test conversation). Skip counters count candidates
 * that pass the filters and belong to a selected split.
 *
 * DECISIONS where docs/export.md leaves room (rules.h lists those of the derivation itself):
 * - Dedup compares the rendered record of the requested format without meta (the JSON whose
 *   SHA-256 is pair_id), so e.g. two hh records with equal transcripts merge.
 * - A merged record's meta comes from its kept occurrence (conversation_id, parent_id,
 *   split, origin, margin, agreement, models); feedback_ids is the union over all occurrences,
 *   sorted bytewise, and n_votes its size. by_origin uses the first origin over all
 *   occurrences (edit < comparison < ratings), as docs/export.md says.
 * - Format-level skips (not_single_turn, unsupported_role) happen before dedup, per
 *   candidate; a trivial edit is one trivial_edit in every format.
 * - unknown_turn / invalid_prompt count, per group, each logged assistant message named by a
 *   counting event of any kind (comments, spans and steps included: docs/export.md counts
 *   every counting feedback event), subject to the filters with the message's model and the
 *   naming events as evidence.
 * - prm / spans (export/fine.h): invalid_span / invalid_step count each counting event that
 *   does not fit its message, unlabelled each prm message with no labelled step prefix. A comparison counts
 *   only when both its messages are logged in the same conversation.
 * - Reals in meta (margin, agreement) are written with jansson's default 17 significant
 *   digits (exact round trip): 2/3 is 0.66666666666666663.
 * - Consent (docs/export.md "Consent"): events whose fd_feedback.no_consent is set are evidence
 *   of nothing. A sibling group holding such events is derived twice: with every counting
 *   event, where each candidate whose evidence is entirely such events counts as `no_consent`
 *   (subject to the filters, before any other reason: it would not exist without them), and
 *   then without them, which gives the records and the other counters. A group without such
 *   events is derived once, as before.
 * - reward dedups on (prompt, completion) (docs/export.md): the kept occurrence's `reward`, `n`
 *   and `reactions` stand.
 *
 * COUNTERS (fd_export_counts_new): {"records", "by_split": {"train","test"}, "by_origin":
 * {"edit","comparison","ratings"} (pair formats), "by_label": {"true","false"} (kto),
 * "skipped": {the fourteen reasons of docs/export.md}, "sha256": hex of every byte written}. */
#ifndef FD_EXPORT_EXPORT_H
#define FD_EXPORT_EXPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"
#include "export/format.h"
#include "export/model.h"
#include "export/split.h"

enum fd_split_select { FD_SPLIT_SELECT_ALL, FD_SPLIT_SELECT_TRAIN, FD_SPLIT_SELECT_TEST };

/* "all", "train", "test". */
bool fd_split_select_parse(const char *s, enum fd_split_select *out) __attribute__((warn_unused_result));

struct fd_export_params {
  enum fd_export_format format; /* default trl */
  bool include_meta;            /* default false */
  enum fd_split_select split;   /* default all */
  double test_fraction;         /* [0, 1], default 0.1 */
  double min_margin;            /* >= 0, default 1.0 */
  const char *project_slug;     /* required; hashed into the split */
  const char *model;            /* NULL: any model */
  const char *exclude_users;    /* NULL: nobody; "u1,u2": these raters' events count nowhere (exclude.h) */
  bool reactions;               /* counting reactions count as ratings (pair formats, kto; reward always) */
  bool signals;                 /* kto / reward: labels from signals for messages without explicit feedback */
  const struct fd_export_reaction *reaction_set; /* the project's current set (copied); NULL/0: none */
  size_t n_reaction_set;
  bool has_since;
  int64_t since; /* microseconds since the epoch, inclusive */
  bool has_until;
  int64_t until; /* microseconds since the epoch, exclusive */
};

/* The defaults of docs/api.md (format trl, split all, test_fraction 0.1, min_margin 1.0,
 * reactions and signals off). */
void fd_export_params_default(struct fd_export_params *p);

/* Receives each finished line (one JSON object plus '\n', len bytes, not NUL-terminated for
 * the callee's purposes) and the split it belongs to, so the caller can stream it or pick a
 * file per split. Return false to abort the export (e.g. the client went away). */
typedef bool (*fd_export_write_fn)(void *cls, enum fd_split split, const char *line, size_t len);

struct fd_export;

/* Whether `reactions=true` / `signals=true` may go with format f (docs/export.md: reactions
 * with trl, trl-text, openai, hh, kto and reward, where they always count; signals with kto
 * and reward). */
bool fd_export_reactions_allowed(enum fd_export_format f);
bool fd_export_signals_allowed(enum fd_export_format f);

/* A new export. The params' strings are copied. On invalid params returns NULL with *err set
 * to FD_ERR_INVALID_PARAMETER and the parameter's name in err->field; when out of memory,
 * NULL with FD_ERR_INTERNAL. err may be NULL. */
struct fd_export *fd_export_new(const struct fd_export_params *p, fd_export_write_fn write, void *cls,
                                struct fd_error *err) __attribute__((warn_unused_result));

/* Derive, filter, dedup and write the records of one conversation (borrowed for the call
 * only). Conversations must come in strictly increasing bytewise id order within a pass.
 * False, with fd_export_error() saying why, when out of memory, on an out-of-order or
 * repeated conversation id, a text that is not valid UTF-8, or when the write callback
 * failed; the export is then failed and every later call fails too. */
bool fd_export_add_conversation(struct fd_export *x, const struct fd_conversation *conv)
    __attribute__((warn_unused_result));

/* What an incremental export (after=<watermark>, docs/export.md "Incremental exports") learned
 * changed in a conversation. An event, retraction or erasure touches the sibling group of
 * each message it names: {message_id, false} per named message. A new turn touches its own
 * group and every group below it: {message_id, true}. message_id is borrowed. */
struct fd_touch {
  const char *message_id;
  bool subtree;
};

/* As fd_export_add_conversation, but only the sibling groups touched by touches[0..n) yield
 * records and skip counts; the rules still see the whole conversation (all its votes, the
 * whole group). Dedup (rule 4) then applies among the touched groups of this export only, as
 * docs/export.md says. The consumer replaces its records of each touched (conversation_id,
 * parent_id); the DB layer must also list touched groups that now yield nothing, if it wants
 * to tell the consumer (they produce no line here). */
bool fd_export_add_conversation_touched(struct fd_export *x, const struct fd_conversation *conv,
                                        const struct fd_touch *touches, size_t n_touches)
    __attribute__((warn_unused_result));

/* After every conversation: write the next piece (about 16 KiB) of a spilled body (SPILL).
 * 1: more to come; 0: all written (at once without include_meta); -1: failed (an I/O error
 * of the spill file, out of memory, or the write callback refused). */
int fd_export_flush(struct fd_export *x) __attribute__((warn_unused_result));

/* End the export, flushing what is left of a spilled body. False when it failed. */
bool fd_export_finish(struct fd_export *x) __attribute__((warn_unused_result));

/* A human sentence about the first failure; "" when none. Owned by x. */
const char *fd_export_error(const struct fd_export *x);

/* The manifest counters so far (see above), as a new reference; NULL when out of memory. */
json_t *fd_export_counts_new(const struct fd_export *x) __attribute__((warn_unused_result));

/* Frees everything; accepts NULL. */
void fd_export_free(struct fd_export *x);

#endif
