/* edit_ratio.c — bounded normalised edit distance (algorithm and error bound in
 * edit_ratio.h and docs/edit-ratio.md). Every level works on a sequence of 64-bit units
 * (code points, word hashes or chunk hashes), each weighing the code points it stands for:
 * deleting or inserting a unit costs its weight, replacing it by a different one the larger
 * weight, which is what the same edit costs in code points at most. So every level's
 * distance is an upper bound of the code-point distance, and level 1 (weights 1) is it. */
#include "ingest/edit_ratio.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t unit;

/* Decode UTF-8 into code points; an invalid byte becomes one unit of its own (0x110000 +
 * byte) so it never equals a real character. Returns a new array (count in *n) or NULL. */
static unit *decode_new(const char *str, size_t len, size_t *n) {
  const unsigned char *s = (const unsigned char *)str;
  unit *out = malloc((len ? len : 1) * sizeof *out);
  if (!out) return NULL;
  size_t i = 0, k = 0;
  while (i < len) {
    unsigned c = s[i];
    size_t need = c < 0x80                   ? 1
                  : (c >= 0xC2 && c <= 0xDF) ? 2
                  : (c >= 0xE0 && c <= 0xEF) ? 3
                  : (c >= 0xF0 && c <= 0xF4) ? 4
                                             : 0;
    uint32_t cp = need == 1 ? c : need == 2 ? (c & 0x1F) : need == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = need > 0 && len - i >= need;
    for (size_t j = 1; ok && j < need; j++) {
      if ((s[i + j] & 0xC0) != 0x80)
        ok = false;
      else
        cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if (ok &&
        ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)))
      ok = false;
    if (ok) {
      out[k++] = cp;
      i += need;
    } else {
      out[k++] = 0x110000u + c;
      i++;
    }
  }
  *n = k;
  return out;
}

/* A sequence of units with their weights (w NULL: every unit weighs 1). */
struct seq {
  unit *u;
  uint32_t *w;
  size_t n;
};

static uint64_t weight(const struct seq *s, size_t i) { return s->w ? s->w[i] : 1; }
static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* Weighted Levenshtein with one row over the shorter sequence (the costs are symmetric).
 * UINT64_MAX on allocation failure. */
static uint64_t lev_weighted(const struct seq *a, const struct seq *b) {
  if (a->n < b->n) {
    const struct seq *t = a;
    a = b;
    b = t;
  }
  size_t n = a->n, m = b->n;
  uint64_t *row = malloc((m + 1) * sizeof *row);
  if (!row) return UINT64_MAX;
  row[0] = 0;
  for (size_t j = 1; j <= m; j++) row[j] = row[j - 1] + weight(b, j - 1);
  for (size_t i = 1; i <= n; i++) {
    uint64_t diag = row[0], wa = weight(a, i - 1); /* D[i-1][j-1] */
    unit ai = a->u[i - 1];
    row[0] += wa;
    for (size_t j = 1; j <= m; j++) {
      uint64_t up = row[j], wb = weight(b, j - 1); /* D[i-1][j] */
      uint64_t best = diag + (ai == b->u[j - 1] ? 0 : max64(wa, wb));
      if (up + wa < best) best = up + wa;
      if (row[j - 1] + wb < best) best = row[j - 1] + wb;
      row[j] = best;
      diag = up;
    }
  }
  uint64_t d = row[m];
  free(row);
  return d;
}

size_t fd_levenshtein(const uint32_t *a, size_t n, const uint32_t *b, size_t m) {
  struct seq x = {malloc((n ? n : 1) * sizeof(unit)), NULL, n}, y = {malloc((m ? m : 1) * sizeof(unit)), NULL, m};
  size_t d = SIZE_MAX;
  if (x.u && y.u) {
    for (size_t i = 0; i < n; i++) x.u[i] = a[i];
    for (size_t j = 0; j < m; j++) y.u[j] = b[j];
    uint64_t w = lev_weighted(&x, &y);
    d = w == UINT64_MAX ? SIZE_MAX : (size_t)w;
  }
  free(x.u);
  free(y.u);
  return d;
}

/* Weighted Levenshtein restricted to the diagonal band j - i in [-w, (m-n)+w] (a->n <=
 * b->n), one row of the band's width: an upper bound of the full figure (fewer alignments),
 * equal to it whenever an optimal alignment never drifts more than w units off the
 * diagonal. UINT64_MAX on allocation failure. */
static uint64_t lev_banded(const struct seq *a, const struct seq *b, size_t w) {
  const uint64_t INF = UINT64_MAX / 4;
  size_t n = a->n, m = b->n, width = (m - n) + 2 * w + 1;
  uint64_t *prev = malloc((width + 1) * sizeof *prev), *cur = malloc((width + 1) * sizeof *cur);
  uint64_t *cumb = malloc((m + 1) * sizeof *cumb), d = UINT64_MAX;
  if (!prev || !cur || !cumb) goto out;
  cumb[0] = 0;
  for (size_t j = 0; j < m; j++) cumb[j + 1] = cumb[j] + weight(b, j);
  /* cell (i, j) lives at index k = j - i + w of row i */
  for (size_t k = 0; k <= width; k++) {
    ptrdiff_t j = (ptrdiff_t)k - (ptrdiff_t)w;
    prev[k] = k < width && j >= 0 && (size_t)j <= m ? cumb[j] : INF;
  }
  cur[width] = INF;
  uint64_t suma = 0;
  for (size_t i = 1; i <= n; i++) {
    unit ai = a->u[i - 1];
    uint64_t wa = weight(a, i - 1);
    suma += wa;
    for (size_t k = 0; k < width; k++) {
      ptrdiff_t j = (ptrdiff_t)k + (ptrdiff_t)i - (ptrdiff_t)w;
      if (j < 0 || (size_t)j > m) {
        cur[k] = INF;
        continue;
      }
      if (j == 0) {
        cur[k] = suma;
        continue;
      }
      uint64_t wb = weight(b, (size_t)j - 1);
      uint64_t best = prev[k] + (ai == b->u[j - 1] ? 0 : max64(wa, wb)); /* (i-1, j-1) */
      if (prev[k + 1] + wa < best) best = prev[k + 1] + wa;              /* (i-1, j) */
      if (k > 0 && cur[k - 1] + wb < best) best = cur[k - 1] + wb;       /* (i, j-1) */
      cur[k] = best;
    }
    uint64_t *t = prev;
    prev = cur;
    cur = t;
  }
  d = prev[(m - n) + w];
out:
  free(prev);
  free(cur);
  free(cumb);
  return d;
}

enum level_result { LEVEL_DONE, LEVEL_TOO_BIG, LEVEL_NOMEM };

/* The narrowest band worth running, in words or chunks (below it the bound is too loose to
 * beat coarser units), and in code points (a band of a few code points is exact for
 * scattered substitutions, which coarser units overcount). */
#define MIN_BAND 32
#define MIN_BAND_CODE_POINTS 4

/* Distance (in code points: an upper bound, exact at level 1) of a and b when the differing
 * middle (after the common prefix and suffix) fits the budget exactly, or — with band > 0 —
 * within a diagonal band of at least `band` units (see lev_banded). */
static enum level_result distance_if_fits(const struct seq *a, const struct seq *b, uint64_t budget, size_t band,
                                          uint64_t *dist, uint64_t *ops) {
  size_t n = a->n, m = b->n, p = 0, s = 0;
  while (p < n && p < m && a->u[p] == b->u[p]) p++;
  while (s < n - p && s < m - p && a->u[n - 1 - s] == b->u[m - 1 - s]) s++;
  *ops += p + s + 1;
  /* stripping equal ends keeps the optimum: a matched pair costs nothing */
  struct seq x = {a->u + p, a->w ? a->w + p : NULL, n - p - s}, y = {b->u + p, b->w ? b->w + p : NULL, m - p - s};
  uint64_t d;
  if ((uint64_t)x.n * (uint64_t)y.n <= budget) {
    *ops += (uint64_t)x.n * (uint64_t)y.n;
    d = lev_weighted(&x, &y);
  } else {
    if (!band) return LEVEL_TOO_BIG;
    if (x.n > y.n) { /* the band code wants the shorter sequence first */
      struct seq t = x;
      x = y;
      y = t;
    }
    /* cells = x.n * (y.n - x.n + 2w + 1) <= budget */
    uint64_t per_row = budget / x.n;
    if (per_row < (uint64_t)(y.n - x.n) + 1 + 2 * (uint64_t)band) return LEVEL_TOO_BIG;
    size_t w = (size_t)((per_row - (y.n - x.n) - 1) / 2);
    *ops += (uint64_t)x.n * ((y.n - x.n) + 2 * (uint64_t)w + 1);
    d = lev_banded(&x, &y, w);
  }
  if (d == UINT64_MAX) return LEVEL_NOMEM;
  *dist = d;
  return LEVEL_DONE;
}

static bool is_space(unit c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* 64-bit mixing (splitmix64 finaliser): spreads hashes so low bits are usable. */
static unit mix(unit h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

/* Words: a run of non-space plus the spaces after it (leading spaces form a word of
 * their own), hashed, weighing their code points. Fills out (capacity cp->n); returns the
 * count. */
static size_t words(const struct seq *cp, struct seq *out) {
  size_t k = 0, i = 0, n = cp->n;
  while (i < n) {
    unit h = 0xcbf29ce484222325ull;
    size_t start = i;
    while (i < n && !is_space(cp->u[i])) h = (h ^ cp->u[i++]) * 0x100000001b3ull;
    while (i < n && is_space(cp->u[i])) h = (h ^ cp->u[i++]) * 0x100000001b3ull;
    out->w[k] = (uint32_t)(i - start);
    out->u[k++] = mix(h);
  }
  return out->n = k;
}

/* Content-defined chunks of units: a chunk ends after a unit whose low bits under mask are
 * zero; fixed > 0 instead groups `fixed` units per chunk. A chunk weighs its units' sum. */
static size_t chunks(const struct seq *in, unit mask, size_t fixed, struct seq *out) {
  size_t k = 0, in_chunk = 0;
  unit h = 0;
  uint64_t w = 0;
  for (size_t i = 0; i < in->n; i++) {
    h = mix(h * 31 + in->u[i]);
    w += weight(in, i);
    in_chunk++;
    bool end = fixed ? in_chunk == fixed : (in->u[i] & mask) == 0;
    if (end || i + 1 == in->n) {
      out->u[k] = h;
      out->w[k++] = (uint32_t)w;
      h = 0;
      w = 0;
      in_chunk = 0;
    }
  }
  return out->n = k;
}

/* A lower bound of the code-point distance: every edit operation removes at most one unit of
 * surplus of some character on each side, so the larger total surplus is a bound. Characters
 * are counted in buckets (merging them can only cancel surplus: still a bound). */
#define BUCKETS 4096
static uint64_t lower_bound(const struct seq *a, const struct seq *b) {
  int64_t *c = calloc(BUCKETS, sizeof *c);
  if (!c) return a->n > b->n ? a->n - b->n : b->n - a->n;
  for (size_t i = 0; i < a->n; i++) c[mix(a->u[i]) & (BUCKETS - 1)]++;
  for (size_t j = 0; j < b->n; j++) c[mix(b->u[j]) & (BUCKETS - 1)]--;
  uint64_t pos = 0, neg = 0;
  for (size_t k = 0; k < BUCKETS; k++) {
    if (c[k] > 0) pos += (uint64_t)c[k];
    if (c[k] < 0) neg += (uint64_t)-c[k];
  }
  free(c);
  return pos > neg ? pos : neg;
}

static bool alloc_seq(struct seq *s, size_t n) {
  s->u = malloc((n ? n : 1) * sizeof *s->u);
  s->w = malloc((n ? n : 1) * sizeof *s->w);
  s->n = 0;
  return s->u && s->w;
}

static void free_seq(struct seq *s) {
  free(s->u);
  free(s->w);
}

/* The upper bound of the distance in words, then chunks, within `budget` cells. */
static bool upper_bound_coarse(const struct seq *ca, const struct seq *cb, uint64_t budget, uint64_t *d,
                               uint64_t *ops) {
  bool ok = false;
  struct seq wa = {0}, wb = {0}, ka = {0}, kb = {0};
  if (!alloc_seq(&wa, ca->n) || !alloc_seq(&wb, cb->n)) goto out;
  size_t nw = words(ca, &wa), mw = words(cb, &wb);
  *ops += ca->n + cb->n;
  enum level_result r = distance_if_fits(&wa, &wb, budget, MIN_BAND, d, ops);
  if (r != LEVEL_TOO_BIG) {
    ok = r == LEVEL_DONE;
    goto out;
  }

  if (!alloc_seq(&ka, nw) || !alloc_seq(&kb, mw)) goto out;
  /* Chunk size needed so that (nw/k)*(mw/k) <= budget. */
  double need = sqrt((double)nw * (double)mw / (double)budget);
  unit k = 2;
  while ((double)k < need) k <<= 1;
  for (; k <= (unit)nw + (unit)mw; k <<= 1) {
    chunks(&wa, k - 1, 0, &ka);
    chunks(&wb, k - 1, 0, &kb);
    *ops += nw + mw;
    r = distance_if_fits(&ka, &kb, budget, MIN_BAND, d, ops);
    if (r != LEVEL_TOO_BIG) {
      ok = r == LEVEL_DONE;
      goto out;
    }
  }
  /* Repetitive text whose words all hash alike: fixed groups always shrink it. */
  size_t g = (size_t)need + 2;
  chunks(&wa, 0, g, &ka);
  chunks(&wb, 0, g, &kb);
  *ops += nw + mw;
  r = distance_if_fits(&ka, &kb, UINT64_MAX, 0, d, ops);
  ok = r == LEVEL_DONE;
out:
  free_seq(&wa);
  free_seq(&wb);
  free_seq(&ka);
  free_seq(&kb);
  return ok;
}

/* The distance, exact when the code-point table fits the budget; else the smaller of two
 * upper bounds with half the budget each: a narrow band on code points (exact for scattered
 * substitutions) and the coarse levels (robust to long insertions and deletions). */
static bool upper_bound(const struct seq *ca, const struct seq *cb, uint64_t budget, uint64_t *d, uint64_t *ops) {
  enum level_result r = distance_if_fits(ca, cb, budget, 0, d, ops);
  if (r != LEVEL_TOO_BIG) return r == LEVEL_DONE;
  uint64_t half = budget / 2 ? budget / 2 : 1, banded = UINT64_MAX, coarse = UINT64_MAX;
  r = distance_if_fits(ca, cb, half, MIN_BAND_CODE_POINTS, &banded, ops);
  if (r == LEVEL_NOMEM) return false;
  if (!upper_bound_coarse(ca, cb, half, &coarse, ops)) return false;
  *d = banded < coarse ? banded : coarse;
  return true;
}

bool fd_edit_ratio_budget(const char *a, size_t alen, const char *b, size_t blen, uint64_t budget, double *out,
                          struct fd_edit_ratio_work *work) {
  bool ok = false;
  struct fd_edit_ratio_work local;
  if (!work) work = &local;
  memset(work, 0, sizeof *work);
  work->ops = alen + blen; /* decoding */
  struct seq ca = {0}, cb = {0};
  size_t n = 0, m = 0;
  ca.u = decode_new(a, alen, &n);
  cb.u = decode_new(b, blen, &m);
  ca.n = n;
  cb.n = m;
  if (!ca.u || !cb.u) goto out;
  if (budget == 0) budget = 1;
  size_t longest = ca.n > cb.n ? ca.n : cb.n;
  uint64_t d = 0;
  if (!upper_bound(&ca, &cb, budget, &d, &work->ops)) goto out;
  /* replacing the shorter text and inserting the rest is always possible */
  if (d > longest) d = longest;
  uint64_t lower = lower_bound(&ca, &cb);
  work->ops += ca.n + cb.n + BUCKETS;
  if (d < lower) d = lower; /* equal word hashes of different words (~2^-64) must not report less */
  *out = longest ? (double)d / (double)longest : 0.0;
  work->lower = longest ? (double)lower / (double)longest : 0.0;
  ok = true;
out:
  free(ca.u);
  free(cb.u);
  return ok;
}

bool fd_edit_ratio(const char *a, size_t alen, const char *b, size_t blen, double *out) {
  return fd_edit_ratio_budget(a, alen, b, blen, FD_EDIT_RATIO_BUDGET, out, NULL);
}
