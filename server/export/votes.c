/* votes.c — the latest-vote rule and rating normalisation (see votes.h). */
#include "export/votes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool fd_rating_score(const struct fd_feedback *f, double *score) {
  if (f->kind != FD_KIND_RATING) return false;
  if (f->scale == 2 || f->scale == 0) {
    if (f->value != 1 && f->value != -1) return false;
    *score = f->value;
    return true;
  }
  if (f->scale < 3 || f->scale > 10 || f->value < 1 || f->value > f->scale) return false;
  *score = 2.0 * (f->value - 1) / (f->scale - 1) - 1.0;
  return true;
}

/* An event reduced to its vote key; the comparison pair is stored ordered (lo <= hi) so both
 * directions of the same pair share one key. Spans add (start, end, label), steps the step
 * index (docs/api.md "Vote semantics"); other kinds leave them 0 / NULL. */
struct vote_key {
  size_t idx;
  const struct fd_feedback *f;
  const char *lo, *hi;
  int a, b;
  const char *label;
};

static int cmp_str(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : ""); }

static int cmp_key_only(const struct vote_key *a, const struct vote_key *b) {
  int c = strcmp(a->f->user, b->f->user);
  if (c) return c;
  if (a->f->kind != b->f->kind) return a->f->kind < b->f->kind ? -1 : 1;
  c = cmp_str(a->lo, b->lo);
  if (c) return c;
  c = cmp_str(a->hi, b->hi);
  if (c) return c;
  if (a->a != b->a) return a->a < b->a ? -1 : 1;
  if (a->b != b->b) return a->b < b->b ? -1 : 1;
  return cmp_str(a->label, b->label);
}

static int cmp_vote(const void *pa, const void *pb) {
  const struct vote_key *a = pa, *b = pb;
  int c = cmp_key_only(a, b);
  if (c) return c;
  if (a->f->created_at != b->f->created_at) return a->f->created_at < b->f->created_at ? -1 : 1;
  if (a->f->seq != b->f->seq) return a->f->seq < b->f->seq ? -1 : 1;
  return a->idx < b->idx ? -1 : (a->idx > b->idx);
}

/* Whether an event is of a kind the rules read and well-formed enough to be keyed. */
static bool votable(const struct fd_feedback *f) {
  switch (f->kind) {
    case FD_KIND_RATING:
    case FD_KIND_COMMENT:
    case FD_KIND_SPAN:
    case FD_KIND_STEP:
    case FD_KIND_EDIT:
    case FD_KIND_SIGNAL: return f->message_id != NULL;
    case FD_KIND_REACTION: return f->message_id != NULL && f->reaction != NULL;
    case FD_KIND_COMPARISON:
      return f->message_id && f->other_message_id && strcmp(f->message_id, f->other_message_id) != 0;
  }
  return false;
}

/* Validity checked after the latest-vote choice: an invalid latest event still hides the
 * rater's earlier events, as the newest word of that rater. */
static bool valid_payload(const struct fd_feedback *f) {
  double s;
  switch (f->kind) {
    case FD_KIND_RATING: return fd_rating_score(f, &s);
    case FD_KIND_EDIT: return f->edited_content != NULL;
    case FD_KIND_COMPARISON: return true;
    case FD_KIND_COMMENT: return true; /* counts, though only unknown_turn / invalid_prompt read it */
    case FD_KIND_SPAN: return f->span_label && f->span_start >= 0 && f->span_end > f->span_start;
    case FD_KIND_STEP: return f->step_index >= 0 && f->value >= -1 && f->value <= 1;
    case FD_KIND_REACTION: return true;                       /* its name's value: rules.c (the current set) */
    case FD_KIND_SIGNAL: return f->signal != FD_SIGNAL_OTHER; /* not votes: see fd_votes_select */
  }
  return false;
}

bool fd_votes_select(const struct fd_conversation *conv, bool *counting) {
  size_t n = conv->n_feedback;
  for (size_t i = 0; i < n; i++) counting[i] = false;
  if (n == 0) return true;
  struct vote_key *keys = malloc(n * sizeof *keys);
  if (!keys) return false;
  size_t nk = 0;
  for (size_t i = 0; i < n; i++) {
    const struct fd_feedback *f = &conv->feedback[i];
    if (!votable(f)) continue;
    if (!f->user || f->kind == FD_KIND_SIGNAL) {
      /* Anonymous events are their own key; so is every signal (signals are not votes). */
      counting[i] = !f->retracted && valid_payload(f);
      continue;
    }
    struct vote_key k = {.idx = i, .f = f, .lo = f->message_id, .hi = NULL};
    if (f->kind == FD_KIND_COMPARISON) {
      bool swap = strcmp(f->message_id, f->other_message_id) > 0;
      k.lo = swap ? f->other_message_id : f->message_id;
      k.hi = swap ? f->message_id : f->other_message_id;
    } else if (f->kind == FD_KIND_SPAN) {
      k.a = f->span_start;
      k.b = f->span_end;
      k.label = f->span_label;
    } else if (f->kind == FD_KIND_STEP) {
      k.a = f->step_index;
    } else if (f->kind == FD_KIND_REACTION) {
      k.label = f->reaction; /* a rater holds one counting reaction per (message, name) */
    }
    keys[nk++] = k;
  }
  qsort(keys, nk, sizeof *keys, cmp_vote);
  for (size_t i = 0; i < nk; i++) {
    bool last_of_key = i + 1 == nk || cmp_key_only(&keys[i], &keys[i + 1]) != 0;
    if (!last_of_key) continue;
    const struct fd_feedback *f = keys[i].f;
    counting[keys[i].idx] = !f->retracted && valid_payload(f);
  }
  free(keys);
  return true;
}
