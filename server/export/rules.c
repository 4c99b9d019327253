/* rules.c — pair rules 1-3, the unpaired (KTO/BCO) rules and the SFT rules for one sibling
 * group (see rules.h for the contract and the decisions taken where docs/export.md leaves room). */
#include "export/rules.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/fine.h"
#include "export/votes.h"

/* Rule 3: at most this many rated pairs per sibling group. */
#define FD_RATED_PAIR_CAP 4

static const char *const origin_names[] = {"edit", "comparison", "ratings",  "both_bad",
                                           "span", "step",       "reaction", "signal"};
static const char *const skip_names[] = {"unknown_turn",    "trivial_edit",     "tie",        "low_agreement",
                                         "invalid_prompt",  "duplicate",        "conflict",   "cap",
                                         "not_single_turn", "unsupported_role", "no_consent", "invalid_span",
                                         "invalid_step",    "unlabelled"};

const char *fd_origin_name(enum fd_origin o) { return (unsigned)o < FD_ORIGIN_COUNT ? origin_names[o] : "ratings"; }

const char *fd_skip_name(enum fd_skip_reason r) { return r >= 0 && r < FD_SKIP_COUNT ? skip_names[r] : "unknown"; }

void fd_candidates_reset(struct fd_candidates *cs) {
  cs->n = 0;
  cs->n_ev = 0;
}

void fd_candidates_clear(struct fd_candidates *cs) {
  free(cs->items);
  free(cs->evidence);
  memset(cs, 0, sizeof *cs);
}

static bool is_ws(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r'; }

bool fd_text_equal_ws(const char *a, const char *b) {
  /* Equal after trim + collapse <=> the same sequence of whitespace-separated words. */
  for (;;) {
    while (is_ws(*a)) a++;
    while (is_ws(*b)) b++;
    if (!*a || !*b) return !*a && !*b;
    while (*a && !is_ws(*a) && *b && !is_ws(*b)) {
      if (*a != *b) return false;
      a++;
      b++;
    }
    bool end_a = !*a || is_ws(*a), end_b = !*b || is_ws(*b);
    if (end_a != end_b) return false;
  }
}

struct fd_candidate *fd_candidate_push(struct fd_candidates *cs, enum fd_origin origin) {
  if (cs->n == cs->cap) {
    size_t ncap = cs->cap ? cs->cap * 2 : 32;
    struct fd_candidate *p = realloc(cs->items, ncap * sizeof *p);
    if (!p) return NULL;
    cs->items = p;
    cs->cap = ncap;
  }
  struct fd_candidate *c = &cs->items[cs->n++];
  memset(c, 0, sizeof *c);
  c->skip = FD_SKIP_NONE;
  c->origin = origin;
  c->ev_off = cs->n_ev;
  return c;
}

bool fd_candidate_add_ev(struct fd_candidates *cs, struct fd_candidate *c, size_t ev) {
  if (cs->n_ev == cs->cap_ev) {
    size_t ncap = cs->cap_ev ? cs->cap_ev * 2 : 64;
    size_t *p = realloc(cs->evidence, ncap * sizeof *p);
    if (!p) return false;
    cs->evidence = p;
    cs->cap_ev = ncap;
  }
  cs->evidence[cs->n_ev++] = ev;
  c->n_ev++;
  return true;
}

bool fd_reaction_value(const struct fd_rules_opts *o, const char *name, double *value) {
  for (size_t i = 0; name && i < o->n_set; i++) {
    if (strcmp(o->set[i].name, name) == 0) {
      *value = o->set[i].value;
      return true;
    }
  }
  return false;
}

/* Working state of one derivation. Arrays indexed by member position ("local"). */
struct work {
  const struct fd_group *g;
  struct fd_candidates *out;
  const struct fd_rules_opts *o;
  double *score;
  bool *rated, *has_one, *has_neg;
  bool *only_reactions;                   /* every scored event of the member is a reaction */
  size_t *rat_start, *rat_count, *rat_ev; /* each member's scored events (ratings, and reactions when they
                                             count as ratings), in event order */
  size_t *rank;                           /* rated members, best first */
  size_t n_rated;
};

static bool local_of(const struct fd_group *g, size_t msg, size_t *local) {
  if (msg == SIZE_MAX) return false;
  size_t l = g->msg_local[msg];
  if (l == SIZE_MAX || l >= g->n_members || g->members[l] != msg) return false;
  *local = l;
  return true;
}

static const struct fd_message *member(const struct fd_group *g, size_t local) {
  return &g->conv->messages[g->members[local]];
}

static const struct fd_feedback *event(const struct fd_group *g, size_t ev) { return &g->conv->feedback[ev]; }

/* A comparison both of whose messages are distinct members of the group: siblings. */
static bool sibling_comparison(const struct fd_group *g, size_t ev, size_t *lm, size_t *lo) {
  if (event(g, ev)->kind != FD_KIND_COMPARISON) return false;
  return local_of(g, g->ev_msg[ev], lm) && local_of(g, g->ev_other[ev], lo) && *lm != *lo;
}

/* unknown_turn / invalid_prompt: one candidate per member named by a counting event. */
static bool derive_bad_prompt(struct work *w) {
  const struct fd_group *g = w->g;
  enum fd_skip_reason reason = g->status == FD_PROMPT_UNKNOWN_TURN ? FD_SKIP_UNKNOWN_TURN : FD_SKIP_INVALID_PROMPT;
  for (size_t l = 0; l < g->n_members; l++) {
    size_t msg = g->members[l];
    struct fd_candidate *c = NULL;
    for (size_t i = 0; i < g->n_events; i++) {
      size_t ev = g->events[i];
      bool names = g->ev_msg[ev] == msg || (event(g, ev)->kind == FD_KIND_COMPARISON && g->ev_other[ev] == msg);
      if (!names) continue;
      if (!c) {
        c = fd_candidate_push(w->out, FD_ORIGIN_RATINGS);
        if (!c) return false;
        c->skip = reason;
        c->chosen = member(g, l)->content;
        c->chosen_model = member(g, l)->model;
      }
      if (!fd_candidate_add_ev(w->out, c, ev)) return false;
    }
  }
  return true;
}

static int cmp_rank(const void *pa, const void *pb, void *ctx) {
  const struct work *w = ctx;
  size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
  double sa = w->score[a], sb = w->score[b];
  if (fabs(sa - sb) > FD_SCORE_TOL) return sa > sb ? -1 : 1;
  /* Members are already in (created_at, id) order: the tie-break is their position. */
  return a < b ? -1 : (a > b);
}

/* The score of a counting event that counts as a rating: a rating's normalised score, or (with
 * reactions) a reaction's value in the current set. False for every other event. */
static bool scored(const struct work *w, size_t ev, double *s) {
  const struct fd_feedback *f = event(w->g, ev);
  if (f->kind == FD_KIND_RATING) return fd_rating_score(f, s);
  return f->kind == FD_KIND_REACTION && w->o->reactions && fd_reaction_value(w->o, f->reaction, s);
}

/* Per-member scored events, scores and the rating rank. */
static bool compute_scores(struct work *w) {
  const struct fd_group *g = w->g;
  size_t n = g->n_members, total = 0;
  double s;
  for (size_t i = 0; i < g->n_events; i++) {
    size_t ev = g->events[i], l;
    if (scored(w, ev, &s) && local_of(g, g->ev_msg[ev], &l)) {
      w->rat_count[l]++;
      total++;
    }
  }
  w->rat_ev = malloc((total ? total : 1) * sizeof *w->rat_ev);
  if (!w->rat_ev) return false;
  size_t off = 0;
  for (size_t l = 0; l < n; l++) {
    w->rat_start[l] = off;
    off += w->rat_count[l];
    w->rat_count[l] = 0;
  }
  for (size_t i = 0; i < g->n_events; i++) {
    size_t ev = g->events[i], l;
    if (scored(w, ev, &s) && local_of(g, g->ev_msg[ev], &l)) w->rat_ev[w->rat_start[l] + w->rat_count[l]++] = ev;
  }
  for (size_t l = 0; l < n; l++) {
    double sum = 0;
    w->only_reactions[l] = true;
    for (size_t k = 0; k < w->rat_count[l]; k++) {
      size_t ev = w->rat_ev[w->rat_start[l] + k];
      if (!scored(w, ev, &s)) continue; /* counted above: cannot happen */
      if (event(g, ev)->kind != FD_KIND_REACTION) w->only_reactions[l] = false;
      sum += s;
      if (s >= 1.0 - FD_SCORE_TOL) w->has_one[l] = true;
      if (s < -FD_SCORE_TOL) w->has_neg[l] = true;
    }
    w->rated[l] = w->rat_count[l] > 0;
    w->score[l] = w->rated[l] ? sum / (double)w->rat_count[l] : 0.0;
    if (w->rated[l]) w->rank[w->n_rated++] = l;
  }
  qsort_r(w->rank, w->n_rated, sizeof *w->rank, cmp_rank, w);
  return true;
}

static bool add_ratings_ev(struct work *w, struct fd_candidate *c, size_t l) {
  for (size_t k = 0; k < w->rat_count[l]; k++)
    if (!fd_candidate_add_ev(w->out, c, w->rat_ev[w->rat_start[l] + k])) return false;
  return true;
}

/* Rule 1 (and the edit part of the unpaired/SFT rules). */
static bool derive_edits(struct work *w, enum fd_family family) {
  const struct fd_group *g = w->g;
  for (size_t i = 0; i < g->n_events; i++) {
    size_t ev = g->events[i], l;
    const struct fd_feedback *f = event(g, ev);
    if (f->kind != FD_KIND_EDIT || !local_of(g, g->ev_msg[ev], &l)) continue;
    const struct fd_message *m = member(g, l);
    bool trivial = fd_text_equal_ws(f->edited_content, m->content);
    struct fd_candidate *c = fd_candidate_push(w->out, FD_ORIGIN_EDIT);
    if (!c) return false;
    c->chosen = f->edited_content;
    c->chosen_model = m->model;
    c->label = true;
    if (family == FD_FAMILY_PAIRS || trivial) {
      c->rejected = m->content;
      c->rejected_model = m->model;
    }
    if (trivial) c->skip = FD_SKIP_TRIVIAL_EDIT;
    if (!fd_candidate_add_ev(w->out, c, ev)) return false;
    if (family == FD_FAMILY_UNPAIRED && !trivial) {
      c = fd_candidate_push(w->out, FD_ORIGIN_EDIT);
      if (!c) return false;
      c->chosen = m->content;
      c->chosen_model = m->model;
      c->label = false;
      if (!fd_candidate_add_ev(w->out, c, ev)) return false;
    }
  }
  return true;
}

struct cmp_vote {
  size_t lo, hi; /* member positions, lo < hi */
  size_t order;  /* position in g->events: keeps (created_at, seq) order within a pair */
  size_t ev;
};

static int cmp_cmp_vote(const void *pa, const void *pb) {
  const struct cmp_vote *a = pa, *b = pb;
  if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
  if (a->hi != b->hi) return a->hi < b->hi ? -1 : 1;
  return a->order < b->order ? -1 : (a->order > b->order);
}

/* Rule 2: one candidate per compared pair of siblings. */
static bool derive_comparisons(struct work *w) {
  const struct fd_group *g = w->g;
  bool ok = false;
  struct cmp_vote *votes = malloc((g->n_events ? g->n_events : 1) * sizeof *votes);
  if (!votes) return false;
  size_t nv = 0;
  for (size_t i = 0; i < g->n_events; i++) {
    size_t ev = g->events[i], lm, lo;
    if (!sibling_comparison(g, ev, &lm, &lo)) continue;
    votes[nv++] = (struct cmp_vote){.lo = lm < lo ? lm : lo, .hi = lm < lo ? lo : lm, .order = i, .ev = ev};
  }
  qsort(votes, nv, sizeof *votes, cmp_cmp_vote);
  for (size_t start = 0; start < nv;) {
    size_t end = start, lo = votes[start].lo, hi = votes[start].hi;
    unsigned long a = 0, b = 0, t = 0; /* a: lo preferred, b: hi preferred, t: tie/both_bad */
    while (end < nv && votes[end].lo == lo && votes[end].hi == hi) {
      const struct fd_feedback *f = event(g, votes[end].ev);
      if (f->outcome != FD_OUTCOME_PREFERRED)
        t++;
      else if (g->ev_msg[votes[end].ev] == g->members[lo])
        a++;
      else
        b++;
      end++;
    }
    size_t win = a >= b ? lo : hi, lose = a >= b ? hi : lo;
    unsigned long top = a >= b ? a : b, total = a + b + t;
    struct fd_candidate *c = fd_candidate_push(w->out, FD_ORIGIN_COMPARISON);
    if (!c) goto out;
    c->chosen = member(g, win)->content;
    c->rejected = member(g, lose)->content;
    c->chosen_model = member(g, win)->model;
    c->rejected_model = member(g, lose)->model;
    if (a == b) {
      c->skip = FD_SKIP_TIE;
    } else if (3 * top < 2 * total) { /* integer form of top/total >= 2/3 */
      c->skip = FD_SKIP_LOW_AGREEMENT;
    } else {
      c->has_agreement = true;
      c->agreement = (double)top / (double)total;
      if (w->rated[win] && w->rated[lose]) {
        c->has_margin = true;
        c->margin = w->score[win] - w->score[lose];
      }
    }
    for (size_t k = start; k < end; k++)
      if (!fd_candidate_add_ev(w->out, c, votes[k].ev)) goto out;
    start = end;
  }
  ok = true;
out:
  free(votes);
  return ok;
}

struct rated_pair {
  size_t hi_rank, lo_rank; /* positions in w->rank */
  double margin;
};

static int cmp_rated_pair(const void *pa, const void *pb) {
  const struct rated_pair *a = pa, *b = pb;
  if (a->hi_rank != b->hi_rank) return a->hi_rank < b->hi_rank ? -1 : 1;
  if (fabs(a->margin - b->margin) > FD_SCORE_TOL) return a->margin > b->margin ? -1 : 1;
  return a->lo_rank < b->lo_rank ? -1 : (a->lo_rank > b->lo_rank);
}

/* Whether the rated pair (chosen, rejected) repeats or contradicts one of the group's edit or
 * comparison records, items[from .. to). */
static bool conflicts(const struct fd_candidates *cs, size_t from, size_t to, const char *chosen,
                      const char *rejected) {
  for (size_t i = from; i < to; i++) {
    const struct fd_candidate *e = &cs->items[i];
    if (e->skip != FD_SKIP_NONE) continue;
    if ((strcmp(e->chosen, chosen) == 0 && strcmp(e->rejected, rejected) == 0) ||
        (strcmp(e->chosen, rejected) == 0 && strcmp(e->rejected, chosen) == 0))
      return true;
  }
  return false;
}

/* Rule 3, after rules 1 and 2 put the group's explicit records at items[explicit_from ..). */
static bool derive_rated_pairs(struct work *w, size_t explicit_from) {
  const struct fd_group *g = w->g;
  size_t explicit_to = w->out->n, np = 0, kept = 0;
  bool ok = false;
  size_t maxp = w->n_rated * (w->n_rated ? w->n_rated - 1 : 0) / 2;
  struct rated_pair *pairs = malloc((maxp ? maxp : 1) * sizeof *pairs);
  if (!pairs) return false;
  for (size_t i = 0; i < w->n_rated; i++) {
    for (size_t j = i + 1; j < w->n_rated; j++) {
      double m = w->score[w->rank[i]] - w->score[w->rank[j]];
      if (m > FD_SCORE_TOL && m >= w->o->min_margin - FD_SCORE_TOL)
        pairs[np++] = (struct rated_pair){.hi_rank = i, .lo_rank = j, .margin = m};
    }
  }
  qsort(pairs, np, sizeof *pairs, cmp_rated_pair);
  for (size_t k = 0; k < np; k++) {
    size_t a = w->rank[pairs[k].hi_rank], b = w->rank[pairs[k].lo_rank];
    struct fd_candidate *c = fd_candidate_push(w->out, FD_ORIGIN_RATINGS);
    if (!c) goto out;
    c->chosen = member(g, a)->content;
    c->rejected = member(g, b)->content;
    c->chosen_model = member(g, a)->model;
    c->rejected_model = member(g, b)->model;
    c->has_margin = true;
    c->margin = pairs[k].margin;
    /* Conflicts are dropped before the cap, so they do not use up one of the 4 places. */
    if (conflicts(w->out, explicit_from, explicit_to, c->chosen, c->rejected))
      c->skip = FD_SKIP_CONFLICT;
    else if (kept == FD_RATED_PAIR_CAP)
      c->skip = FD_SKIP_CAP;
    else
      kept++;
    if (!add_ratings_ev(w, c, a) || !add_ratings_ev(w, c, b)) goto out;
  }
  ok = true;
out:
  free(pairs);
  return ok;
}

static enum fd_origin score_origin(const struct work *w, size_t l) {
  return w->only_reactions[l] ? FD_ORIGIN_REACTION : FD_ORIGIN_RATINGS;
}

/* Whether member l has explicit feedback: a counting rating, reaction (of the set), edit or
 * comparison names it. Only such messages are left out of the signal rule. */
static bool has_explicit(const struct work *w, size_t l) {
  const struct fd_group *g = w->g;
  size_t msg = g->members[l];
  double v;
  for (size_t i = 0; i < g->n_events; i++) {
    size_t ev = g->events[i];
    const struct fd_feedback *f = event(g, ev);
    bool names = g->ev_msg[ev] == msg || (f->kind == FD_KIND_COMPARISON && g->ev_other[ev] == msg);
    if (!names) continue;
    if (f->kind == FD_KIND_RATING || f->kind == FD_KIND_EDIT || f->kind == FD_KIND_COMPARISON) return true;
    if (f->kind == FD_KIND_REACTION && fd_reaction_value(w->o, f->reaction, &v)) return true;
  }
  return false;
}

/* signals=true: one candidate per member without explicit feedback that has counting signals
 * (evidence: all of them). label/reward from the sum of their signs; `tie` when it says
 * nothing (sum 0 for kto; no signal but dwell for reward). */
static bool derive_signals(struct work *w, enum fd_family family) {
  const struct fd_group *g = w->g;
  for (size_t l = 0; l < g->n_members; l++) {
    if (has_explicit(w, l)) continue;
    struct fd_candidate *c = NULL;
    long sum = 0;
    size_t n_signed = 0;
    for (size_t i = 0; i < g->n_events; i++) {
      size_t ev = g->events[i];
      const struct fd_feedback *f = event(g, ev);
      if (f->kind != FD_KIND_SIGNAL || g->ev_msg[ev] != g->members[l]) continue;
      if (!c) {
        if (!(c = fd_candidate_push(w->out, FD_ORIGIN_SIGNAL))) return false;
        c->chosen = member(g, l)->content;
        c->chosen_model = member(g, l)->model;
      }
      sum += fd_signal_sign(f->signal);
      if (f->signal != FD_SIGNAL_DWELL) n_signed++;
      if (!fd_candidate_add_ev(w->out, c, ev)) return false;
    }
    if (!c) continue;
    c->label = sum > 0;
    c->n_scored = n_signed;
    c->reward = n_signed ? (double)sum / (double)n_signed : 0.0;
    if (family == FD_FAMILY_REWARD ? n_signed == 0 : sum == 0) c->skip = FD_SKIP_TIE;
  }
  return true;
}

/* Reward: one record per scored member (mean score over its counting ratings and reactions),
 * then, with signals, the members that have only signals. */
static bool derive_reward(struct work *w) {
  const struct fd_group *g = w->g;
  for (size_t l = 0; l < g->n_members; l++) {
    if (!w->rated[l]) continue;
    struct fd_candidate *c = fd_candidate_push(w->out, score_origin(w, l));
    if (!c) return false;
    c->chosen = member(g, l)->content;
    c->chosen_model = member(g, l)->model;
    c->reward = w->score[l];
    c->n_scored = w->rat_count[l];
    if (!add_ratings_ev(w, c, l)) return false;
  }
  return !w->o->signals || derive_signals(w, FD_FAMILY_REWARD);
}

/* Unpaired rules beyond edits: rated messages with score != 0, then both_bad votes. */
static bool derive_unpaired(struct work *w) {
  const struct fd_group *g = w->g;
  for (size_t l = 0; l < g->n_members; l++) {
    if (!w->rated[l] || fabs(w->score[l]) <= FD_SCORE_TOL) continue;
    struct fd_candidate *c = fd_candidate_push(w->out, score_origin(w, l));
    if (!c) return false;
    c->chosen = member(g, l)->content;
    c->chosen_model = member(g, l)->model;
    c->label = w->score[l] > 0;
    if (!add_ratings_ev(w, c, l)) return false;
  }
  for (size_t i = 0; i < g->n_events; i++) {
    size_t ev = g->events[i], lm, lo;
    if (!sibling_comparison(g, ev, &lm, &lo) || event(g, ev)->outcome != FD_OUTCOME_BOTH_BAD) continue;
    size_t both[2] = {lm, lo};
    for (int k = 0; k < 2; k++) {
      struct fd_candidate *c = fd_candidate_push(w->out, FD_ORIGIN_BOTH_BAD);
      if (!c) return false;
      c->chosen = member(g, both[k])->content;
      c->chosen_model = member(g, both[k])->model;
      c->label = false;
      if (!fd_candidate_add_ev(w->out, c, ev)) return false;
    }
  }
  return !w->o->signals || derive_signals(w, FD_FAMILY_UNPAIRED);
}

/* SFT beyond edits: messages with a counting rating of score 1 and none below 0. */
static bool derive_sft(struct work *w) {
  const struct fd_group *g = w->g;
  for (size_t l = 0; l < g->n_members; l++) {
    if (!w->rated[l] || !w->has_one[l] || w->has_neg[l]) continue;
    struct fd_candidate *c = fd_candidate_push(w->out, FD_ORIGIN_RATINGS);
    if (!c) return false;
    c->chosen = member(g, l)->content;
    c->chosen_model = member(g, l)->model;
    c->label = true;
    if (!add_ratings_ev(w, c, l)) return false;
  }
  return true;
}

bool fd_rules_derive(const struct fd_group *g, enum fd_family family, const struct fd_rules_opts *o,
                     struct fd_candidates *out) {
  if (g->status != FD_PROMPT_OK) {
    struct work bw = {.g = g, .out = out};
    return derive_bad_prompt(&bw);
  }
  if (family == FD_FAMILY_STEPS || family == FD_FAMILY_SPANS) return fd_fine_derive(g, family, out);
  bool ok = false;
  size_t n = g->n_members ? g->n_members : 1;
  struct work w = {.g = g, .out = out, .o = o};
  w.score = calloc(n, sizeof *w.score);
  w.rated = calloc(n, sizeof *w.rated);
  w.has_one = calloc(n, sizeof *w.has_one);
  w.has_neg = calloc(n, sizeof *w.has_neg);
  w.rat_start = calloc(n, sizeof *w.rat_start);
  w.rat_count = calloc(n, sizeof *w.rat_count);
  w.rank = calloc(n, sizeof *w.rank);
  w.only_reactions = calloc(n, sizeof *w.only_reactions);
  if (!w.score || !w.rated || !w.has_one || !w.has_neg || !w.rat_start || !w.rat_count || !w.rank || !w.only_reactions)
    goto out;
  if (!compute_scores(&w)) goto out;
  if (family == FD_FAMILY_REWARD) {
    ok = derive_reward(&w);
    goto out;
  }
  size_t explicit_from = out->n;
  if (!derive_edits(&w, family)) goto out;
  switch (family) {
    case FD_FAMILY_PAIRS:
      if (!derive_comparisons(&w) || !derive_rated_pairs(&w, explicit_from)) goto out;
      break;
    case FD_FAMILY_UNPAIRED:
      if (!derive_unpaired(&w)) goto out;
      break;
    case FD_FAMILY_SFT:
      if (!derive_sft(&w)) goto out;
      break;
    case FD_FAMILY_STEPS:
    case FD_FAMILY_SPANS:
    case FD_FAMILY_REWARD: break; /* above */
  }
  ok = true;
out:
  free(w.score);
  free(w.rated);
  free(w.has_one);
  free(w.has_neg);
  free(w.rat_start);
  free(w.rat_count);
  free(w.rat_ev);
  free(w.rank);
  free(w.only_reactions);
  return ok;
}
