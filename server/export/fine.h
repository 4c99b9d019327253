/* fine.h — the fine-grained formats of docs/export.md "Fine-grained rules": `prm` (TRL
 * stepwise supervision, from step events) and `spans` (labelled passages, from span events).
 *
 * One candidate per logged assistant message of a sibling group with at least one counting
 * event of the format's kind that fits the message; its evidence is those events. Events that
 * do not fit (a span past the content's end in code points, a step index past the last step:
 * possible for events stored before their message) are each one skipped candidate
 * `invalid_span` / `invalid_step` with that event as evidence, so the model/since/until
 * filters apply to them as to records. A prm candidate whose labelled prefix is empty is
 * skipped as `unlabelled`; a prm record whose prompt is not exactly one user turn is skipped
 * as `not_single_turn` when rendered (as trl-text). */
#ifndef FD_EXPORT_FINE_H
#define FD_EXPORT_FINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "export/model.h"
#include "export/rules.h"

/* The candidates of group g for family FD_FAMILY_STEPS or FD_FAMILY_SPANS (prompt status OK).
 * False only when out of memory. */
bool fd_fine_derive(const struct fd_group *g, enum fd_family family, struct fd_candidates *out)
    __attribute__((warn_unused_result));

/* Render candidate c (a record of family STEPS or SPANS; evidence indices at
 * evidence[c->ev_off ..+ c->n_ev)) without meta, as fd_format_record_new does: *out a new
 * reference, or NULL with *skip set (not_single_turn). False when out of memory. */
bool fd_fine_record_new(enum fd_family family, const struct fd_conversation *conv, const size_t *turns, size_t n_turns,
                        const json_t *prompt, const struct fd_candidate *c, const size_t *evidence, json_t **out,
                        enum fd_skip_reason *skip) __attribute__((warn_unused_result));

#endif
