/* edit_ratio.h — how much of an assistant message a user's in-place edit changed.
 *
 * edit_ratio(original, edited) = Levenshtein distance / max(length) in [0, 1]: 0 for an
 * unchanged text, 1 when nothing was kept (or exactly one side is empty).
 *
 * Exact where it is affordable, bounded everywhere (content may be 256 KiB, i.e. up to
 * 262144 code points a side, and a full n*m table would be 6.9e10 cells). The work per
 * pair is at most FD_EDIT_RATIO_BUDGET table cells plus O((n + m) log(n + m)) linear passes
 * (*ops counts both); the levels, their exactness and their error are described in
 * docs/edit-ratio.md:
 *  1. Texts are decoded to Unicode code points (a byte that is not valid UTF-8 counts as
 *     one unit). The common prefix and suffix are stripped — this does not change the
 *     Levenshtein distance — and if the differing middles have n*m <= budget the distance
 *     is computed exactly on code points, with one DP row of min(n, m)+1 entries. This
 *     covers every pair of texts up to ~2200 code points and long texts with one
 *     localised edit.
 *  2. Otherwise the same is done on words (a word = a run of non-white-space with the
 *     white space that follows it, compared by a 64-bit hash): distance in words / max
 *     word count — exactly when the differing middles fit the budget, else restricted to
 *     a diagonal band as wide as the budget allows (w >= MIN_BAND words each side). The
 *     banded figure is an upper bound of the word distance, exact whenever the best
 *     alignment never drifts more than w words off the diagonal.
 *  3. When even the band does not fit (very different lengths), on content-defined chunks
 *     of words (a chunk ends after a word whose hash has its low k bits zero, so an
 *     insertion only disturbs the chunks around it; k grows until the table fits), and,
 *     for degenerate repetitive texts where that cannot shrink the sequences, on fixed
 *     groups of words.
 * Only one level runs a DP table, so the budget is a hard bound (measured at -O2: about
 * 8 ms for the worst 256 KiB pair). The ratio is computed off the request and commit paths
 * (pipeline/edit_ratios.c). */
#ifndef FD_INGEST_EDIT_RATIO_H
#define FD_INGEST_EDIT_RATIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DP cells per pair: ~8 ms at -O2. The ratio is a descriptive figure; beyond this the
 * coarser levels answer (docs/edit-ratio.md). */
#define FD_EDIT_RATIO_BUDGET 5000000ull

/* *out = normalised edit distance of a[0..alen) -> b[0..blen) (UTF-8). False only when
 * memory runs out (*out untouched). */
bool fd_edit_ratio(const char *a, size_t alen, const char *b, size_t blen, double *out)
    __attribute__((warn_unused_result));

/* The same with an explicit cell budget (tests use a small one to reach levels 2 and 3).
 * *ops (NULL ok) receives the work done: DP cells plus units scanned by linear passes. */
bool fd_edit_ratio_budget(const char *a, size_t alen, const char *b, size_t blen, uint64_t budget, double *out,
                          uint64_t *ops) __attribute__((warn_unused_result));

/* Exact Levenshtein distance of two code point sequences (no budget; O(min(n,m)) memory).
 * SIZE_MAX when memory runs out. */
size_t fd_levenshtein(const uint32_t *a, size_t n, const uint32_t *b, size_t m);

#endif
