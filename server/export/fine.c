/* fine.c — the prm and spans formats (see fine.h). */
#include "export/fine.h"

#include <stdlib.h>
#include <string.h>

#include "util/text_steps.h"

static bool count_step(size_t i, const char *line, size_t n, void *arg) {
  (void)i, (void)line, (void)n, (void)arg;
  return true;
}

/* Whether event f fits the message content (docs/api.md: spans in code points, steps into
 * the non-blank lines). */
static bool fits(const struct fd_feedback *f, size_t cps, size_t n_steps) {
  if (f->kind == FD_KIND_SPAN) return f->span_start >= 0 && f->span_end > f->span_start && (size_t)f->span_end <= cps;
  return f->step_index >= 0 && (size_t)f->step_index < n_steps;
}

/* The labels of a message's steps from its counting step events ev[0..n): labels[i] = 1
 * (mean > 0), -1 (mean < 0) or 0 (no label: no event, or a mean of 0). Returns the length of
 * the longest prefix whose every step has a label; SIZE_MAX when out of memory. */
static size_t step_labels(const struct fd_conversation *conv, const size_t *ev, size_t n, size_t n_steps,
                          signed char *labels) {
  long *sum = calloc(n_steps ? n_steps : 1, sizeof *sum);
  if (!sum) return SIZE_MAX;
  for (size_t k = 0; k < n; k++) sum[conv->feedback[ev[k]].step_index] += conv->feedback[ev[k]].value;
  size_t prefix = 0;
  bool open = true;
  for (size_t i = 0; i < n_steps; i++) {
    labels[i] = (signed char)(sum[i] > 0 ? 1 : sum[i] < 0 ? -1 : 0); /* the mean's sign is the sum's */
    if (open && labels[i])
      prefix++;
    else
      open = false;
  }
  free(sum);
  return prefix;
}

static bool derive_member(const struct fd_group *g, enum fd_family family, size_t l, struct fd_candidates *out) {
  const struct fd_conversation *conv = g->conv;
  const struct fd_message *m = &conv->messages[g->members[l]];
  enum fd_feedback_kind want = family == FD_FAMILY_SPANS ? FD_KIND_SPAN : FD_KIND_STEP;
  enum fd_origin origin = family == FD_FAMILY_SPANS ? FD_ORIGIN_SPAN : FD_ORIGIN_STEP;
  size_t len = strlen(m->content);
  size_t cps = fd_utf8_cp_count(m->content, len), n_steps = fd_steps_each(m->content, len, count_step, NULL);
  /* the events that do not fit, one skipped candidate each */
  for (size_t i = 0; i < g->n_events; i++) {
    size_t ev = g->events[i];
    const struct fd_feedback *f = &conv->feedback[ev];
    if (f->kind != want || g->ev_msg[ev] != g->members[l] || fits(f, cps, n_steps)) continue;
    struct fd_candidate *c = fd_candidate_push(out, origin);
    if (!c) return false;
    c->skip = family == FD_FAMILY_SPANS ? FD_SKIP_INVALID_SPAN : FD_SKIP_INVALID_STEP;
    c->chosen = m->content;
    c->chosen_model = m->model;
    if (!fd_candidate_add_ev(out, c, ev)) return false;
  }
  struct fd_candidate *rec = NULL;
  for (size_t i = 0; i < g->n_events; i++) {
    size_t ev = g->events[i];
    const struct fd_feedback *f = &conv->feedback[ev];
    if (f->kind != want || g->ev_msg[ev] != g->members[l] || !fits(f, cps, n_steps)) continue;
    if (!rec && !(rec = fd_candidate_push(out, origin))) return false;
    rec->chosen = m->content;
    rec->chosen_model = m->model;
    if (!fd_candidate_add_ev(out, rec, ev)) return false;
  }
  if (!rec || family != FD_FAMILY_STEPS) return true;
  signed char *labels = malloc(n_steps ? n_steps : 1);
  if (!labels) return false;
  size_t prefix = step_labels(conv, out->evidence + rec->ev_off, rec->n_ev, n_steps, labels);
  free(labels);
  if (prefix == SIZE_MAX) return false;
  if (prefix == 0) rec->skip = FD_SKIP_UNLABELLED;
  return true;
}

bool fd_fine_derive(const struct fd_group *g, enum fd_family family, struct fd_candidates *out) {
  for (size_t l = 0; l < g->n_members; l++)
    if (!derive_member(g, family, l, out)) return false;
  return true;
}

/* ---- rendering ---------------------------------------------------------------------------- */

struct steps_out {
  json_t *completions, *labels;
  const signed char *label;
  size_t prefix;
  bool ok;
};

static bool add_step(size_t i, const char *line, size_t n, void *arg) {
  struct steps_out *s = arg;
  if (i >= s->prefix) return false;
  s->ok = s->ok && json_array_append_new(s->completions, json_stringn(line, n)) == 0 &&
          json_array_append_new(s->labels, json_boolean(s->label[i] > 0)) == 0;
  return s->ok;
}

static json_t *prm_record_new(const struct fd_conversation *conv, const char *user_turn, const struct fd_candidate *c,
                              const size_t *evidence) {
  size_t len = strlen(c->chosen), n_steps = fd_steps_each(c->chosen, len, count_step, NULL);
  signed char *labels = malloc(n_steps ? n_steps : 1);
  struct steps_out s = {.completions = json_array(), .labels = json_array(), .label = labels, .ok = true};
  json_t *rec = NULL;
  if (labels && s.completions && s.labels) {
    s.prefix = step_labels(conv, evidence + c->ev_off, c->n_ev, n_steps, labels);
    if (s.prefix != SIZE_MAX) fd_steps_each(c->chosen, len, add_step, &s);
    if (s.prefix != SIZE_MAX && s.ok && json_array_size(s.completions) == s.prefix)
      rec = json_pack("{s:s, s:O, s:O}", "prompt", user_turn, "completions", s.completions, "labels", s.labels);
  }
  free(labels);
  json_decref(s.completions);
  json_decref(s.labels);
  return rec;
}

/* One entry of a spans record: the counting span events of one (start, end, label). */
struct span_entry {
  int start, end;
  const char *label;
  long sum;
  size_t n;
};

static int cmp_entry(const void *pa, const void *pb) {
  const struct span_entry *a = pa, *b = pb;
  if (a->start != b->start) return a->start < b->start ? -1 : 1;
  if (a->end != b->end) return a->end < b->end ? -1 : 1;
  return strcmp(a->label, b->label);
}

static json_t *spans_record_new(const struct fd_conversation *conv, const json_t *prompt, const struct fd_candidate *c,
                                const size_t *evidence) {
  struct span_entry *e = malloc((c->n_ev ? c->n_ev : 1) * sizeof *e);
  json_t *spans = json_array(), *rec = NULL;
  if (!e || !spans) goto out;
  for (size_t k = 0; k < c->n_ev; k++) {
    const struct fd_feedback *f = &conv->feedback[evidence[c->ev_off + k]];
    e[k] = (struct span_entry){.start = f->span_start, .end = f->span_end, .label = f->span_label, .sum = f->value};
  }
  qsort(e, c->n_ev, sizeof *e, cmp_entry);
  for (size_t k = 0; k < c->n_ev;) {
    size_t j = k;
    long sum = 0;
    for (; j < c->n_ev && cmp_entry(&e[k], &e[j]) == 0; j++) sum += e[j].sum;
    json_t *it = json_pack("{s:i, s:i, s:s, s:f, s:I}", "start", e[k].start, "end", e[k].end, "label", e[k].label,
                           "value", (double)sum / (double)(j - k), "n", (json_int_t)(j - k));
    if (!it || json_array_append_new(spans, it) != 0) goto out;
    k = j;
  }
  rec = json_pack("{s:O, s:s, s:O}", "prompt", prompt, "completion", c->chosen, "spans", spans);
out:
  free(e);
  json_decref(spans);
  return rec;
}

bool fd_fine_record_new(enum fd_family family, const struct fd_conversation *conv, const size_t *turns, size_t n_turns,
                        const json_t *prompt, const struct fd_candidate *c, const size_t *evidence, json_t **out,
                        enum fd_skip_reason *skip) {
  *out = NULL;
  *skip = FD_SKIP_NONE;
  if (family == FD_FAMILY_STEPS) {
    if (n_turns != 1 || conv->messages[turns[0]].role != FD_ROLE_USER) {
      *skip = FD_SKIP_NOT_SINGLE_TURN;
      return true;
    }
    *out = prm_record_new(conv, conv->messages[turns[0]].content, c, evidence);
  } else {
    *out = spans_record_new(conv, prompt, c, evidence);
  }
  return *out != NULL;
}
