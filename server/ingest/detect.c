/* detect.c — the detector: rule patterns compiled into one trie of words (edges in an
 * open-addressing table keyed by (node, word hash)), walked from every word of a turn;
 * the matches are filtered (anchors, quotes, questions, negation, nesting) and decided in
 * the labelling order. See detect.h for the reading and docs/detection.md for the rules. */
#include "ingest/detect.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/detect_rules.h"
#include "ingest/detect_text.h"

/* RC_OPENER ("no", "nope", "actually") and RC_FACT ("it's", "is", "was") are no verdict on
 * their own: an opener or complaint followed, in a later clause, by a plain statement is a
 * correction ("Nope, Python lists are zero-indexed"). RC_NEGATOR rules are not matched:
 * they are the words that cancel a judgement after them. */
enum rule_class { RC_PRAISE, RC_COMPLAINT, RC_CORRECTION, RC_NONE, RC_OTHER, RC_OPENER, RC_FACT, RC_NEGATOR };
enum anchor { ANCHOR_ANY, ANCHOR_CLAUSE, ANCHOR_TURN };

/* Words a negator may stand before the match it cancels ("not at all helpful"). */
#define NEGATION_WINDOW 3
#define PATTERN_MAX_SLOTS 16
#define SLOT_MAX_ALTS 32
/* Paths one pattern may expand to (alternatives x optional words): a typo in the rule
 * file must not blow up the trie. */
#define PATTERN_MAX_PATHS 4096
/* Matches considered per turn; a turn with more is judged on the first ones. */
#define MAX_CANDIDATES 64

struct rule {
  const char *id;
  const char *lang;
  char *owned_id; /* project phrases: the id is built here */
  enum rule_class cls;
  enum anchor start, end;
  bool in_questions;     /* =q: also counts in a question */
  bool ignores_negation; /* =n: a negator before it does not cancel it */
  bool not_first_clause; /* =m: must not start in the turn's first clause */
};

struct node {
  uint32_t wild; /* child reached by any word (`*`), 0 if none */
  uint32_t term; /* 1 + index of the first terminal here, 0 if none */
};

struct term {
  uint32_t rule;
  uint32_t wilds; /* `*` words on the path: fewer is more specific */
  uint32_t next;  /* 1 + index of the next terminal of the node, 0 at the end */
};

struct edge {
  uint64_t word;
  uint32_t from, to; /* to == 0: empty slot (the root, node 0, is never a child) */
};

struct fd_detector {
  struct rule *rules;
  size_t nrules, caprules;
  struct node *nodes;
  size_t nnodes, capnodes;
  struct term *terms;
  size_t nterms, capterms;
  struct edge *edges;
  size_t nedges, edgecap;   /* edgecap a power of two */
  struct negator *negators; /* sorted by hash */
  size_t nneg, capneg;
};

/* A negator cancels judgements of its own language only: Spanish "no" negates ("no es
 * útil") where English "no" is an answer ("no that's wrong"). */
struct negator {
  uint64_t hash;
  const char *lang;
};

struct slot {
  uint64_t alt[SLOT_MAX_ALTS];
  unsigned nalt;
  bool optional, wild;
};

static bool grow(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return true;
  size_t n = *cap ? *cap * 2 : 64;
  while (n < need) n *= 2;
  void *q = realloc(*p, n * size);
  if (!q) return false;
  *p = q, *cap = n;
  return true;
}

static size_t edge_index(uint32_t from, uint64_t word, size_t mask) {
  uint64_t h = word ^ ((uint64_t)from * 0x9e3779b97f4a7c15ull);
  h ^= h >> 29;
  return (size_t)(h & mask);
}

static uint32_t edge_get(const struct fd_detector *d, uint32_t from, uint64_t word) {
  size_t mask = d->edgecap - 1;
  for (size_t i = edge_index(from, word, mask);; i = (i + 1) & mask) {
    const struct edge *e = &d->edges[i];
    if (!e->to) return 0;
    if (e->from == from && e->word == word) return e->to;
  }
}

static bool edge_put(struct edge *tab, size_t cap, uint32_t from, uint64_t word, uint32_t to) {
  size_t mask = cap - 1;
  for (size_t i = edge_index(from, word, mask);; i = (i + 1) & mask) {
    if (!tab[i].to) {
      tab[i] = (struct edge){word, from, to};
      return true;
    }
  }
}

static bool edges_reserve(struct fd_detector *d) {
  if ((d->nedges + 1) * 2 <= d->edgecap) return true; /* keep the table at most half full */
  size_t cap = d->edgecap ? d->edgecap * 2 : 1024;
  struct edge *tab = calloc(cap, sizeof *tab);
  if (!tab) return false;
  for (size_t i = 0; i < d->edgecap; i++)
    if (d->edges[i].to) edge_put(tab, cap, d->edges[i].from, d->edges[i].word, d->edges[i].to);
  free(d->edges);
  d->edges = tab, d->edgecap = cap;
  return true;
}

static uint32_t node_new(struct fd_detector *d) {
  if (!grow((void **)&d->nodes, &d->capnodes, d->nnodes + 1, sizeof *d->nodes)) return 0;
  d->nodes[d->nnodes] = (struct node){0, 0};
  return (uint32_t)d->nnodes++;
}

/* The child of `from` by `word` (by any word if wild), made if missing; 0 without memory. */
static uint32_t child(struct fd_detector *d, uint32_t from, bool wild, uint64_t word) {
  if (wild) {
    if (d->nodes[from].wild) return d->nodes[from].wild;
    uint32_t n = node_new(d);
    if (n) d->nodes[from].wild = n;
    return n;
  }
  uint32_t to = edge_get(d, from, word);
  if (to) return to;
  if (!edges_reserve(d)) return 0;
  to = node_new(d);
  if (to) {
    edge_put(d->edges, d->edgecap, from, word, to);
    d->nedges++;
  }
  return to;
}

static bool term_add(struct fd_detector *d, uint32_t node, uint32_t rule, uint32_t wilds) {
  for (uint32_t t = d->nodes[node].term; t; t = d->terms[t - 1].next)
    if (d->terms[t - 1].rule == rule) return true; /* the same path twice (via optional words) */
  if (!grow((void **)&d->terms, &d->capterms, d->nterms + 1, sizeof *d->terms)) return false;
  d->terms[d->nterms] = (struct term){rule, wilds, d->nodes[node].term};
  d->nodes[node].term = (uint32_t)++d->nterms;
  return true;
}

struct build {
  struct fd_detector *d;
  const struct slot *slots;
  size_t nslots;
  uint32_t rule;
  size_t paths;
  const char *err;
};

static bool insert(struct build *b, size_t pos, uint32_t node, uint32_t wilds) {
  if (pos == b->nslots) {
    if (node == 0) return (b->err = "the pattern can match no word at all"), false;
    if (++b->paths > PATTERN_MAX_PATHS) return (b->err = "the pattern expands to too many phrases"), false;
    return term_add(b->d, node, b->rule, wilds) || ((b->err = "out of memory"), false);
  }
  const struct slot *s = &b->slots[pos];
  if (s->optional && !insert(b, pos + 1, node, wilds)) return false;
  if (s->wild) {
    uint32_t c = child(b->d, node, true, 0);
    return c ? insert(b, pos + 1, c, wilds + 1) : ((b->err = "out of memory"), false);
  }
  for (unsigned i = 0; i < s->nalt; i++) {
    uint32_t c = child(b->d, node, false, s->alt[i]);
    if (!c) return (b->err = "out of memory"), false;
    if (!insert(b, pos + 1, c, wilds)) return false;
  }
  return true;
}

/* The hash of s[0..len) read as exactly one word; false if it is not one word. */
static bool one_word(const char *s, size_t len, uint64_t *hash) {
  struct fd_detect_text t;
  fd_detect_read(s, len, &t, NULL, 0);
  if (t.n != 1) return false;
  *hash = t.w[0].hash;
  return true;
}

/* Parses a rule pattern (syntax in docs/detection.md) into r's anchors and flags and
 * slots[]. Returns NULL or what is wrong. */
static const char *parse_pattern(const char *pat, struct rule *r, struct slot *slots, size_t *nslots) {
  *nslots = 0;
  const char *p = pat;
  while (*p) {
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) break;
    const char *e = p;
    while (*e && *e != ' ' && *e != '\t') e++;
    size_t n = (size_t)(e - p);
    bool last = *e == '\0' || e[strspn(e, " \t")] == '\0';
    if (n == 2 && p[0] == '=' && *nslots == 0) {
      if (p[1] == 'q')
        r->in_questions = true;
      else if (p[1] == 'n')
        r->ignores_negation = true;
      else if (p[1] == 'm')
        r->not_first_clause = true;
      else
        return "unknown flag (=q, =n, =m)";
    } else if (n == 1 && (*p == '^' || *p == '<')) {
      if (*nslots) return "^ and < only before the first word";
      r->start = *p == '^' ? ANCHOR_TURN : ANCHOR_CLAUSE;
    } else if (n == 1 && (*p == '$' || *p == '>')) {
      if (!last) return "$ and > only after the last word";
      r->end = *p == '$' ? ANCHOR_TURN : ANCHOR_CLAUSE;
    } else {
      if (*nslots == PATTERN_MAX_SLOTS) return "too many words";
      struct slot *s = &slots[(*nslots)++];
      *s = (struct slot){.nalt = 0};
      if (p[0] == '[') {
        if (n < 3 || p[n - 1] != ']') return "unclosed [";
        s->optional = true, p++, n -= 2;
      }
      if (n == 1 && *p == '*') {
        s->wild = true;
      } else {
        for (const char *a = p, *end = p + n; a <= end;) {
          const char *bar = memchr(a, '|', (size_t)(end - a));
          if (!bar) bar = end;
          if (s->nalt == SLOT_MAX_ALTS) return "too many alternatives";
          if (!one_word(a, (size_t)(bar - a), &s->alt[s->nalt++])) return "an alternative is not one word";
          a = bar + 1;
        }
      }
    }
    p = e;
  }
  return *nslots ? NULL : "empty pattern";
}

static int cmp_negator(const void *a, const void *b) {
  uint64_t x = ((const struct negator *)a)->hash, y = ((const struct negator *)b)->hash;
  return x < y ? -1 : x > y;
}

static bool negator_add(struct fd_detector *d, const char *word, const char *lang) {
  uint64_t h;
  if (!one_word(word, strlen(word), &h)) return false;
  if (!grow((void **)&d->negators, &d->capneg, d->nneg + 1, sizeof *d->negators)) return false;
  d->negators[d->nneg++] = (struct negator){h, lang};
  return true;
}

static enum rule_class class_of(const char *name) {
  static const char *const names[] = {"praise", "complaint", "correction", "none",
                                      "other",  "opener",    "fact",       "negator"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(names[i], name)) return (enum rule_class)i;
  return RC_NONE; /* unreachable: the generator admits only these */
}

/* Adds one rule; on failure writes why to err. */
static bool rule_add(struct fd_detector *d, const struct rule *proto, const char *pattern, char *err, size_t errlen) {
  if (proto->cls == RC_NEGATOR) {
    if (negator_add(d, pattern, proto->lang)) return true;
    snprintf(err, errlen, "%s: a negator must be one word", proto->id);
    return false;
  }
  if (!grow((void **)&d->rules, &d->caprules, d->nrules + 1, sizeof *d->rules)) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  struct rule *r = &d->rules[d->nrules];
  *r = *proto;
  struct slot slots[PATTERN_MAX_SLOTS];
  size_t nslots;
  const char *why = parse_pattern(pattern, r, slots, &nslots);
  struct build b = {.d = d, .slots = slots, .nslots = nslots, .rule = (uint32_t)d->nrules};
  if (!why && !insert(&b, 0, 0, 0)) why = b.err;
  if (why) {
    snprintf(err, errlen, "%s: %s", proto->id, why);
    return false;
  }
  d->nrules++;
  return true;
}

bool fd_detect_phrase_valid(const char *s, size_t len) {
  if (!s || len == 0 || len > FD_DETECT_PHRASE_MAX_BYTES) return false;
  struct fd_detect_text t;
  fd_detect_read(s, len, &t, NULL, 0);
  return t.n >= 1 && t.n <= FD_DETECT_PHRASE_MAX_WORDS;
}

/* A project phrase is a pattern of its folded words: no operators, so a user's "|" or "*"
 * is punctuation like any other. */
static bool phrases_add(struct fd_detector *d, const char *const *list, size_t n, enum rule_class cls,
                        const char *clsname, char *err, size_t errlen) {
  for (size_t i = 0; i < n; i++) {
    char id[64], folded[FD_DETECT_PHRASE_MAX_BYTES * 4 + 1];
    snprintf(id, sizeof id, "project.%s.%zu", clsname, i);
    size_t len = list[i] ? strlen(list[i]) : 0;
    if (!fd_detect_phrase_valid(list[i], len)) {
      snprintf(err, errlen, "%s: a phrase must have 1 to %d words and at most %d bytes", id, FD_DETECT_PHRASE_MAX_WORDS,
               FD_DETECT_PHRASE_MAX_BYTES);
      return false;
    }
    fd_detect_fold(list[i], len, folded, sizeof folded);
    struct rule proto = {.lang = "*", .cls = cls, .owned_id = strdup(id)};
    if (!proto.owned_id) {
      snprintf(err, errlen, "out of memory");
      return false;
    }
    proto.id = proto.owned_id;
    if (!rule_add(d, &proto, folded, err, errlen)) {
      free(proto.owned_id);
      return false;
    }
  }
  return true;
}

struct fd_detector *fd_detector_new(const struct fd_detect_phrases *extra, char *err, size_t errlen) {
  char dummy[1];
  if (!err || !errlen) err = dummy, errlen = sizeof dummy;
  err[0] = '\0';
  struct fd_detector *d = calloc(1, sizeof *d);
  if (d && grow((void **)&d->nodes, &d->capnodes, 1, sizeof *d->nodes)) { /* the root, node 0 */
    d->nodes[0] = (struct node){0, 0};
    d->nnodes = 1;
  }
  if (!d || d->nnodes != 1 || !edges_reserve(d)) {
    snprintf(err, errlen, "out of memory");
    fd_detector_free(d);
    return NULL;
  }
  bool ok = true;
  for (size_t i = 0; ok && i < fd_detect_rules_count; i++) {
    const struct fd_detect_rule_src *src = &fd_detect_rules[i];
    struct rule proto = {.id = src->id, .lang = src->lang, .cls = class_of(src->cls)};
    ok = rule_add(d, &proto, src->pattern, err, errlen);
  }
  if (ok && extra) {
    ok = phrases_add(d, extra->praise, extra->n_praise, RC_PRAISE, "praise", err, errlen) &&
         phrases_add(d, extra->complaint, extra->n_complaint, RC_COMPLAINT, "complaint", err, errlen) &&
         phrases_add(d, extra->correction, extra->n_correction, RC_CORRECTION, "correction", err, errlen);
  }
  if (!ok) {
    fd_detector_free(d);
    return NULL;
  }
  qsort(d->negators, d->nneg, sizeof *d->negators, cmp_negator);
  return d;
}

void fd_detector_free(struct fd_detector *d) {
  if (!d) return;
  for (size_t i = 0; i < d->nrules; i++) free(d->rules[i].owned_id);
  free(d->rules);
  free(d->nodes);
  free(d->terms);
  free(d->edges);
  free(d->negators);
  free(d);
}

size_t fd_detect_fold(const char *s, size_t len, char *out, size_t outsize) {
  struct fd_detect_text t;
  return fd_detect_read(s, len, &t, out, outsize);
}

const char *fd_detect_class_name(enum fd_detect_class c) {
  switch (c) {
    case FD_DETECT_PRAISE: return "praise";
    case FD_DETECT_COMPLAINT: return "complaint";
    case FD_DETECT_CORRECTION: return "correction";
    default: return "none";
  }
}

/* ---- matching ---- */

struct cand {
  uint32_t start, end; /* words [start, end) */
  uint32_t rule, wilds;
};

struct scan {
  const struct fd_detector *d;
  const struct fd_detect_text *t;
  struct cand c[MAX_CANDIDATES];
  size_t n;
};

/* Whether word h negates a judgement of language lang ("*": project phrases, any). */
static bool is_negator(const struct fd_detector *d, uint64_t h, const char *lang) {
  size_t lo = 0, hi = d->nneg;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (d->negators[mid].hash < h)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (; lo < d->nneg && d->negators[lo].hash == h; lo++)
    if (lang[0] == '*' || !strcmp(d->negators[lo].lang, lang)) return true;
  return false;
}

static bool is_judgement(enum rule_class c) { return c == RC_PRAISE || c == RC_COMPLAINT || c == RC_CORRECTION; }
/* Classes that say nothing inside a question ("is that wrong?", "is it 1969?"). */
static bool is_statement(enum rule_class c) { return is_judgement(c) || c == RC_OPENER || c == RC_FACT; }

/* Whether rule r matching words [s, e) counts, by its anchors and flags and the text. */
static bool counts(const struct scan *sc, const struct rule *r, size_t s, size_t e) {
  const struct fd_detect_text *t = sc->t;
  const struct fd_detect_word *w = t->w;
  if (r->start == ANCHOR_TURN && s != 0) return false;
  if (r->start == ANCHOR_CLAUSE && s != 0 && w[s - 1].clause == w[s].clause) return false;
  if (r->end == ANCHOR_TURN && (e != t->n || t->truncated)) return false;
  if (r->end == ANCHOR_CLAUSE && e != t->n && w[e].clause == w[e - 1].clause) return false;
  if (r->not_first_clause && w[s].clause == w[0].clause) return false;
  for (size_t i = s; i < e; i++)
    if (w[i].quoted) return false; /* someone's words, quoted: not the user's verdict */
  if (!is_statement(r->cls)) return true;
  if (!r->in_questions && t->question[w[s].sentence]) return false;
  if (is_judgement(r->cls) && !r->ignores_negation)
    for (size_t k = 1; k <= NEGATION_WINDOW && k <= s && w[s - k].clause == w[s].clause; k++)
      if (is_negator(sc->d, w[s - k].hash, r->lang)) return false;
  return true;
}

static void walk(struct scan *sc, size_t start, size_t pos, uint32_t node) {
  const struct fd_detector *d = sc->d;
  for (uint32_t ti = d->nodes[node].term; ti; ti = d->terms[ti - 1].next) {
    const struct term *tm = &d->terms[ti - 1];
    if (sc->n < MAX_CANDIDATES && counts(sc, &d->rules[tm->rule], start, pos))
      sc->c[sc->n++] = (struct cand){(uint32_t)start, (uint32_t)pos, tm->rule, tm->wilds};
  }
  if (pos == sc->t->n) return;
  uint32_t next = edge_get(d, node, sc->t->w[pos].hash);
  if (next) walk(sc, start, pos + 1, next);
  if (d->nodes[node].wild) walk(sc, start, pos + 1, d->nodes[node].wild);
}

/* a hides b: b lies inside a and a is longer, or both cover the same words and a is more
 * specific (fewer `*`), or as specific and earlier in the rule set. */
static bool hides(const struct cand *a, const struct cand *b) {
  if (a->start > b->start || a->end < b->end) return false;
  if (a->end - a->start != b->end - b->start) return true;
  if (a->wilds != b->wilds) return a->wilds < b->wilds;
  return a->rule < b->rule;
}

static const struct cand *earliest(const struct fd_detector *d, const struct cand *const *live, size_t n,
                                   enum rule_class cls) {
  const struct cand *best = NULL;
  for (size_t i = 0; i < n; i++)
    if (d->rules[live[i]->rule].cls == cls && (!best || live[i]->start < best->start)) best = live[i];
  return best;
}

/* An opener or a complaint followed, in a later clause, by a statement (a `fact` match
 * alone in its clause: "it's fine" or "it's too long" are verdicts, not content): the
 * span from the first to the statement, or false. */
static bool opener_then_fact(const struct fd_detector *d, const struct fd_detect_text *t,
                             const struct cand *const *live, size_t n, struct cand *span) {
  for (size_t i = 0; i < n; i++) {
    enum rule_class ci = d->rules[live[i]->rule].cls;
    if (ci != RC_OPENER && ci != RC_COMPLAINT) continue;
    for (size_t j = 0; j < n; j++) {
      const struct cand *f = live[j];
      if (d->rules[f->rule].cls != RC_FACT || f->start < live[i]->end) continue;
      uint16_t clause = t->w[f->start].clause;
      if (clause == t->w[live[i]->end - 1].clause) continue;
      bool alone = true;
      for (size_t k = 0; k < n && alone; k++) {
        enum rule_class ck = d->rules[live[k]->rule].cls;
        alone = k == j || ck == RC_FACT || ck == RC_OPENER || t->w[live[k]->start].clause != clause;
      }
      if (!alone) continue;
      *span = (struct cand){live[i]->start, f->end, live[i]->rule, 0};
      return true;
    }
  }
  return false;
}

/* The labelling order: about something else -> nothing; supplies the right content ->
 * correction; negative verdict -> complaint; positive -> praise; else nothing. */
static enum fd_detect_class decide(const struct fd_detector *d, const struct fd_detect_text *t,
                                   const struct cand *const *live, size_t n, struct fd_detect_match *m) {
  if (earliest(d, live, n, RC_OTHER)) return FD_DETECT_NONE;
  enum fd_detect_class out = FD_DETECT_NONE;
  struct cand span;
  const struct cand *c;
  if ((c = earliest(d, live, n, RC_CORRECTION))) {
    out = FD_DETECT_CORRECTION;
  } else if (opener_then_fact(d, t, live, n, &span)) {
    out = FD_DETECT_CORRECTION, c = &span;
  } else if ((c = earliest(d, live, n, RC_COMPLAINT))) {
    out = FD_DETECT_COMPLAINT;
  } else if ((c = earliest(d, live, n, RC_PRAISE))) {
    out = FD_DETECT_PRAISE;
  }
  if (out != FD_DETECT_NONE && m) {
    const struct rule *r = &d->rules[c->rule];
    m->rule = r->id;
    m->lang = r->lang;
    m->offset = t->w[c->start].offset;
    m->length = t->w[c->end - 1].end - t->w[c->start].offset;
  }
  return out;
}

enum fd_detect_class fd_detect(const struct fd_detector *d, const char *text, size_t len, struct fd_detect_match *m) {
  struct fd_detect_text t;
  fd_detect_read(text, len, &t, NULL, 0);
  struct scan sc = {.d = d, .t = &t};
  for (size_t i = 0; i < t.n; i++) walk(&sc, i, i, 0);

  /* the matches no other match hides */
  const struct cand *live[MAX_CANDIDATES];
  size_t nlive = 0;
  for (size_t i = 0; i < sc.n; i++) {
    bool hidden = false;
    for (size_t j = 0; j < sc.n && !hidden; j++) hidden = j != i && hides(&sc.c[j], &sc.c[i]);
    if (!hidden) live[nlive++] = &sc.c[i];
  }
  return decide(d, &t, live, nlive, m);
}
