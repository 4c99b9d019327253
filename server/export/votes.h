/* votes.h — which feedback events count (docs/export.md "Which feedback counts") and how a rating
 * becomes a score in [-1, 1].
 *
 * For the same (user, message, kind) — for comparisons (user, unordered pair of messages) —
 * only the latest event counts: latest created_at, then latest seq (arrival). When that latest
 * event is retracted, nothing of that rater counts there (earlier events do not come back).
 * Events without a user each count on their own unless retracted.
 *
 * For spans the key adds (start, end, label), for steps the step index, for reactions the
 * reaction's name. Signals are not votes: every non-retracted signal counts on its own. Comments count (only
 * unknown_turn / invalid_prompt read them: a message they name is counted there). Ratings whose value/scale are outside
 * the docs/api.md ranges, comparisons without a second message or naming the same message twice
 * never count (ingest rejects them; this only guards against hand-edited rows). */
#ifndef FD_EXPORT_VOTES_H
#define FD_EXPORT_VOTES_H

#include <stdbool.h>

#include "export/model.h"

/* Scores and margins are compared with this tolerance (docs/export.md). */
#define FD_SCORE_TOL 1e-9

/* Fill counting[0..conv->n_feedback) with whether each event counts. The latest-vote rule is
 * applied among the events of this conversation, so the loader must deliver every event of a
 * (user, message, kind) key together (it does: they name the same messages). False only when
 * out of memory. */
bool fd_votes_select(const struct fd_conversation *conv, bool *counting) __attribute__((warn_unused_result));

/* The normalised score of a rating: thumbs (scale 2, or 0 as "not given") ±1; a scale rating v
 * of n: 2(v-1)/(n-1) - 1. False when the event is not a valid rating. */
bool fd_rating_score(const struct fd_feedback *f, double *score) __attribute__((warn_unused_result));

#endif
