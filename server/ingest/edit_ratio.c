/* edit_ratio.c — bounded normalised edit distance (algorithm and error bounds in
 * edit_ratio.h). Every level works on sequences of 64-bit units: code points, word
 * hashes or chunk hashes. */
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

/* Levenshtein with one row over the shorter sequence. SIZE_MAX on allocation failure. */
static size_t lev_units(const unit *a, size_t n, const unit *b, size_t m) {
  if (n < m) { /* make b the shorter one: the row has m+1 entries */
    const unit *t = a;
    a = b;
    b = t;
    size_t tn = n;
    n = m;
    m = tn;
  }
  if (m == 0) return n;
  size_t *row = malloc((m + 1) * sizeof *row);
  if (!row) return SIZE_MAX;
  for (size_t j = 0; j <= m; j++) row[j] = j;
  for (size_t i = 1; i <= n; i++) {
    size_t diag = row[0]; /* D[i-1][j-1] */
    row[0] = i;
    unit ai = a[i - 1];
    for (size_t j = 1; j <= m; j++) {
      size_t up = row[j]; /* D[i-1][j] */
      size_t best = diag + (ai != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  size_t d = row[m];
  free(row);
  return d;
}

size_t fd_levenshtein(const uint32_t *a, size_t n, const uint32_t *b, size_t m) {
  unit *ua = malloc((n ? n : 1) * sizeof *ua), *ub = malloc((m ? m : 1) * sizeof *ub);
  size_t d = SIZE_MAX;
  if (!ua || !ub) goto out;
  for (size_t i = 0; i < n; i++) ua[i] = a[i];
  for (size_t j = 0; j < m; j++) ub[j] = b[j];
  d = lev_units(ua, n, ub, m);
out:
  free(ua);
  free(ub);
  return d;
}

/* Levenshtein restricted to the diagonal band j - i in [-w, (m-n)+w] (n <= m), one row of
 * the band's width: an upper bound of the distance, equal to it whenever an optimal
 * alignment never drifts more than w units off the diagonal (in particular whenever the
 * result is <= 2w + (m-n), since such an alignment has at most that many indels).
 * SIZE_MAX on allocation failure. */
static size_t lev_banded(const unit *a, size_t n, const unit *b, size_t m, size_t w) {
  const size_t INF = SIZE_MAX / 2;
  size_t width = (m - n) + 2 * w + 1;
  size_t *prev = malloc((width + 1) * sizeof *prev), *cur = malloc((width + 1) * sizeof *cur);
  size_t d = SIZE_MAX;
  if (!prev || !cur) goto out;
  /* cell (i, j) lives at index k = j - i + w of row i */
  for (size_t k = 0; k <= width; k++) {
    ptrdiff_t j = (ptrdiff_t)k - (ptrdiff_t)w;
    prev[k] = k < width && j >= 0 && (size_t)j <= m ? (size_t)j : INF;
  }
  cur[width] = INF;
  for (size_t i = 1; i <= n; i++) {
    unit ai = a[i - 1];
    for (size_t k = 0; k < width; k++) {
      ptrdiff_t j = (ptrdiff_t)k + (ptrdiff_t)i - (ptrdiff_t)w;
      if (j < 0 || (size_t)j > m) {
        cur[k] = INF;
        continue;
      }
      if (j == 0) {
        cur[k] = i;
        continue;
      }
      size_t best = prev[k] + (ai != b[j - 1]);                  /* (i-1, j-1) */
      if (prev[k + 1] + 1 < best) best = prev[k + 1] + 1;        /* (i-1, j) */
      if (k > 0 && cur[k - 1] + 1 < best) best = cur[k - 1] + 1; /* (i, j-1) */
      cur[k] = best;
    }
    size_t *t = prev;
    prev = cur;
    cur = t;
  }
  d = prev[(m - n) + w];
out:
  free(prev);
  free(cur);
  return d;
}

enum level_result { LEVEL_DONE, LEVEL_TOO_BIG, LEVEL_NOMEM };

/* The narrowest band worth running: below it the bound is too loose to beat coarser units. */
#define MIN_BAND 32

/* Normalised distance of a and b when the differing middle (after the common prefix and
 * suffix) fits the budget exactly, or — with `band` — within a diagonal band of at least
 * MIN_BAND units (an upper bound, see lev_banded). */
static enum level_result ratio_if_fits(const unit *a, size_t n, const unit *b, size_t m, uint64_t budget, bool band,
                                       double *out, uint64_t *ops) {
  size_t longest = n > m ? n : m;
  if (longest == 0) {
    *out = 0.0;
    return LEVEL_DONE;
  }
  size_t p = 0;
  while (p < n && p < m && a[p] == b[p]) p++;
  size_t s = 0;
  while (s < n - p && s < m - p && a[n - 1 - s] == b[m - 1 - s]) s++;
  *ops += p + s + 1;
  const unit *x = a + p, *y = b + p;
  size_t xn = n - p - s, yn = m - p - s, d;
  if ((uint64_t)xn * (uint64_t)yn <= budget) {
    *ops += (uint64_t)xn * (uint64_t)yn;
    d = lev_units(x, xn, y, yn);
  } else {
    if (!band) return LEVEL_TOO_BIG;
    if (xn > yn) { /* the band code wants the shorter sequence first */
      const unit *t = x;
      x = y;
      y = t;
      size_t tn = xn;
      xn = yn;
      yn = tn;
    }
    /* cells = xn * (yn - xn + 2w + 1) <= budget */
    uint64_t per_row = budget / xn;
    if (per_row < (uint64_t)(yn - xn) + 1 + 2 * MIN_BAND) return LEVEL_TOO_BIG;
    size_t w = (size_t)((per_row - (yn - xn) - 1) / 2);
    *ops += (uint64_t)xn * ((yn - xn) + 2 * (uint64_t)w + 1);
    d = lev_banded(x, xn, y, yn, w);
  }
  if (d == SIZE_MAX) return LEVEL_NOMEM;
  *out = (double)d / (double)longest;
  if (*out > 1.0) *out = 1.0;
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
 * their own). Hashes into out (capacity n); returns the count. */
static size_t words(const unit *cp, size_t n, unit *out) {
  size_t k = 0, i = 0;
  while (i < n) {
    unit h = 0xcbf29ce484222325ull;
    while (i < n && !is_space(cp[i])) h = (h ^ cp[i++]) * 0x100000001b3ull;
    while (i < n && is_space(cp[i])) h = (h ^ cp[i++]) * 0x100000001b3ull;
    out[k++] = mix(h);
  }
  return k;
}

/* Content-defined chunks: a chunk ends after a unit whose low bits under mask are zero.
 * fixed > 0 instead groups `fixed` units per chunk. Returns the chunk count. */
static size_t chunks(const unit *u, size_t n, unit mask, size_t fixed, unit *out) {
  size_t k = 0, in_chunk = 0;
  unit h = 0;
  for (size_t i = 0; i < n; i++) {
    h = mix(h * 31 + u[i]);
    in_chunk++;
    bool end = fixed ? in_chunk == fixed : (u[i] & mask) == 0;
    if (end || i + 1 == n) {
      out[k++] = h;
      h = 0;
      in_chunk = 0;
    }
  }
  return k;
}

bool fd_edit_ratio_budget(const char *a, size_t alen, const char *b, size_t blen, uint64_t budget, double *out,
                          uint64_t *ops_out) {
  bool ok = false;
  uint64_t ops_local = 0, *ops = ops_out ? ops_out : &ops_local;
  *ops = alen + blen; /* decoding */
  size_t n = 0, m = 0;
  unit *ca = decode_new(a, alen, &n), *cb = decode_new(b, blen, &m);
  unit *wa = NULL, *wb = NULL, *ka = NULL, *kb = NULL;
  if (!ca || !cb) goto out;
  if (budget == 0) budget = 1;

  enum level_result r = ratio_if_fits(ca, n, cb, m, budget, false, out, ops);
  if (r != LEVEL_TOO_BIG) {
    ok = r == LEVEL_DONE;
    goto out;
  }

  wa = malloc((n ? n : 1) * sizeof *wa);
  wb = malloc((m ? m : 1) * sizeof *wb);
  if (!wa || !wb) goto out;
  size_t nw = words(ca, n, wa), mw = words(cb, m, wb);
  *ops += n + m;
  r = ratio_if_fits(wa, nw, wb, mw, budget, true, out, ops);
  if (r != LEVEL_TOO_BIG) {
    ok = r == LEVEL_DONE;
    goto out;
  }

  ka = malloc((nw ? nw : 1) * sizeof *ka);
  kb = malloc((mw ? mw : 1) * sizeof *kb);
  if (!ka || !kb) goto out;
  /* Chunk size needed so that (nw/k)*(mw/k) <= budget. */
  double need = sqrt((double)nw * (double)mw / (double)budget);
  unit k = 2;
  while ((double)k < need) k <<= 1;
  for (; k <= (unit)nw + (unit)mw; k <<= 1) {
    size_t nk = chunks(wa, nw, k - 1, 0, ka), mk = chunks(wb, mw, k - 1, 0, kb);
    *ops += nw + mw;
    r = ratio_if_fits(ka, nk, kb, mk, budget, true, out, ops);
    if (r != LEVEL_TOO_BIG) {
      ok = r == LEVEL_DONE;
      goto out;
    }
  }
  /* Repetitive text whose words all hash alike: fixed groups always shrink it. */
  size_t g = (size_t)need + 2;
  size_t nk = chunks(wa, nw, 0, g, ka), mk = chunks(wb, mw, 0, g, kb);
  *ops += nw + mw;
  r = ratio_if_fits(ka, nk, kb, mk, UINT64_MAX, false, out, ops);
  ok = r == LEVEL_DONE;
out:
  free(ca);
  free(cb);
  free(wa);
  free(wb);
  free(ka);
  free(kb);
  return ok;
}

bool fd_edit_ratio(const char *a, size_t alen, const char *b, size_t blen, double *out) {
  return fd_edit_ratio_budget(a, alen, b, blen, FD_EDIT_RATIO_BUDGET, out, NULL);
}
