/* format.h — the export record formats of docs/export.md ("Formats"), the `meta` object, and the
 * canonical JSON that prompt_id / pair_id / dedup hash.
 *
 * Canonical JSON is jansson's json_dumps with JSON_COMPACT | JSON_SORT_KEYS and neither
 * JSON_ENSURE_ASCII nor JSON_ESCAPE_SLASH: no whitespace, keys sorted bytewise (strcmp), UTF-8
 * kept as is, '/' not escaped, escapes exactly \" \\ \b \f \n \r \t and \u00XX (uppercase hex)
 * for the other control characters — docs/export.md's definition (tests/unit/test_export_format.c
 * checks the output byte for byte). It is written by util/jdump.h, which matches jansson's
 * json_dumps byte for byte at a fraction of its cost.
 *
 * Records are rendered from a format-independent candidate (rules.h) and the prompt turns.
 * Output lines keep the key order of docs/export.md's examples (prompt, chosen, rejected, meta). */
#ifndef FD_EXPORT_FORMAT_H
#define FD_EXPORT_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "export/model.h"
#include "export/rules.h"
#include "export/split.h"
#include "util/buf.h"
#include "util/crypto.h"

enum fd_export_format {
  FD_FORMAT_TRL,
  FD_FORMAT_TRL_TEXT,
  FD_FORMAT_KTO,
  FD_FORMAT_OPENAI,
  FD_FORMAT_HH,
  FD_FORMAT_SFT,
  FD_FORMAT_PRM,   /* export/fine.h */
  FD_FORMAT_SPANS, /* export/fine.h */
  FD_FORMAT_REWARD /* one scored response per record (docs/export.md "Reactions and signals") */
};

/* "trl", "trl-text", "kto", "openai", "hh", "sft", "prm", "spans", "reward" (the `format=` values). */
bool fd_export_format_parse(const char *s, enum fd_export_format *out) __attribute__((warn_unused_result));
const char *fd_export_format_name(enum fd_export_format f);
/* Which rules feed the format: pairs (trl, trl-text, openai, hh), unpaired (kto), sft, steps
 * (prm), spans (spans), reward (reward). */
enum fd_family fd_export_format_family(enum fd_export_format f);

/* The canonical JSON text of j; caller frees with free(). NULL when out of memory. */
char *fd_canonical_json_alloc(const json_t *j) __attribute__((warn_unused_result));

/* SHA-256 of the canonical JSON of j, written into `scratch` (reset first; its memory is kept
 * for the next call). False when out of memory. */
bool fd_canonical_sha256(const json_t *j, struct fd_buf *scratch, unsigned char out[FD_SHA256_LEN])
    __attribute__((warn_unused_result));

/* The prompt as docs/export.md's list of {"role", "content"} (turns = message indices, root first).
 * New reference; NULL when out of memory or a text is not valid UTF-8. */
json_t *fd_prompt_json_new(const struct fd_conversation *conv, const size_t *turns, size_t n_turns)
    __attribute__((warn_unused_result));

/* Render candidate c (skip == FD_SKIP_NONE) as a record of format f, without meta. A reward
 * record counts its reactions by name over the set (every name, zeros included) from
 * `evidence` (the candidates' evidence pool). On success
 * returns true and either sets *out to a new reference (caller decrefs) or, when the format
 * cannot express the record, leaves *out NULL and sets *skip (not_single_turn for trl-text,
 * unsupported_role for hh prompts with a tool turn). False when out of memory or a text is not
 * valid UTF-8. `prompt` is fd_prompt_json_new's result for the same turns (borrowed). */
bool fd_format_record_new(enum fd_export_format f, const struct fd_conversation *conv, const size_t *turns,
                          size_t n_turns, const json_t *prompt, const struct fd_candidate *c, const size_t *evidence,
                          const struct fd_rules_opts *o, json_t **out, enum fd_skip_reason *skip)
    __attribute__((warn_unused_result));

/* What `meta` says about one record (include_meta=true). Strings borrowed. */
struct fd_meta {
  const char *prompt_id; /* 64 hex digits */
  const char *conversation_id;
  const char *parent_id;
  enum fd_origin origin;
  const char *const *feedback_ids;
  size_t n_feedback_ids;
  enum fd_split split;
  /* pair formats */
  const char *pair_id; /* 64 hex digits */
  bool has_margin;
  double margin;
  bool has_agreement;
  double agreement;
  size_t n_votes;
  const char *chosen_model; /* also the KTO record's `model` */
  const char *rejected_model;
};

/* The meta object for a record of `family`: prompt_id, conversation_id, parent_id, origin,
 * feedback_ids, split; pairs add pair_id, margin, n_votes, agreement, models; unpaired adds
 * model, and so do prm, spans and reward records. New reference; NULL when out of memory or a string is not valid
 * UTF-8. */
json_t *fd_format_meta_new(enum fd_family family, const struct fd_meta *m) __attribute__((warn_unused_result));

#endif
