/* edit_ratio.h — how much of an assistant message a user's in-place edit changed.
 *
 * edit_ratio(original, edited) = Levenshtein distance / max(length) in [0, 1]: 0 for an
 * unchanged text, 1 when nothing was kept (or exactly one side is empty).
 *
 * Exact where it is affordable, bounded everywhere (content may be 256 KiB, i.e. up to
 * 262144 code points a side, and a full n*m table would be 6.9e10 cells). The work per
 * pair is at most FD_EDIT_RATIO_BUDGET table cells plus O((n + m) log(n + m)) linear
 * passes; docs/edit-ratio.md has the details.
 *  1. Texts are decoded to Unicode code points (a byte that is not valid UTF-8 counts as
 *     one unit). The common prefix and suffix are stripped (this does not change the
 *     distance) and if the differing middles have n*m <= budget cells the distance is
 *     computed exactly. This covers every pair up to ~2200 code points a side and long
 *     texts with one localised edit.
 *  2. Otherwise on words (a run of non-white-space with the white space after it, compared
 *     by a 64-bit hash), each weighing its code points: deleting or inserting a word costs
 *     its length, replacing it by another the longer length — what the same edit costs in
 *     code points at most. The whole table when the middles fit, else a diagonal band as
 *     wide as the budget allows (at least 32 words each side).
 *  3. When even the band does not fit (very different lengths), on content-defined chunks
 *     of words (a chunk ends after a word whose hash has its low k bits zero; k grows until
 *     the table fits), and for degenerate repetitive texts on fixed groups of words.
 * Levels 2 and 3 give an UPPER BOUND of the code-point distance (every word or chunk
 * script is a code-point script costing at most as much). A lower bound (character count
 * surplus) is computed alongside: the true ratio lies in [lower, *out], and *out is exact
 * at level 1. Only one level fills a table, so the budget is a hard bound. */
#ifndef FD_INGEST_EDIT_RATIO_H
#define FD_INGEST_EDIT_RATIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DP cells per pair: 10-15 ms at -O2 in the worst case. The ratio is a descriptive figure; beyond this the
 * coarser levels answer (docs/edit-ratio.md). */
#define FD_EDIT_RATIO_BUDGET 5000000ull

/* *out = normalised edit distance of a[0..alen) -> b[0..blen) (UTF-8). False only when
 * memory runs out (*out untouched). */
bool fd_edit_ratio(const char *a, size_t alen, const char *b, size_t blen, double *out)
    __attribute__((warn_unused_result));

/* What one computation did. */
struct fd_edit_ratio_work {
  uint64_t ops; /* table cells filled plus units scanned by linear passes */
  double lower; /* a lower bound of the true ratio: it lies in [lower, *out] */
};

/* The same with an explicit cell budget (tests use a small one to reach levels 2 and 3);
 * work (NULL ok) receives the cost and the lower bound. */
bool fd_edit_ratio_budget(const char *a, size_t alen, const char *b, size_t blen, uint64_t budget, double *out,
                          struct fd_edit_ratio_work *work) __attribute__((warn_unused_result));

/* Exact Levenshtein distance of two code point sequences (no budget; O(min(n,m)) memory).
 * SIZE_MAX when memory runs out. */
size_t fd_levenshtein(const uint32_t *a, size_t n, const uint32_t *b, size_t m);

#endif
