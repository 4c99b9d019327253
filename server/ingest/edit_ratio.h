/* edit_ratio.h — how much of an assistant message a user's in-place edit changed.
 *
 * edit_ratio(original, edited) = Levenshtein distance / max(length) in [0, 1]: 0 for an
 * unchanged text, 1 when nothing was kept (or exactly one side is empty).
 *
 * Exact where it is affordable, bounded everywhere (content may be 256 KiB, i.e. up to
 * 262144 code points a side, and a full n*m table would be 6.9e10 cells):
 *  1. Texts are decoded to Unicode code points (a byte that is not valid UTF-8 counts as
 *     one unit). The common prefix and suffix are stripped — this does not change the
 *     Levenshtein distance — and if the differing middles have n*m <= FD_EDIT_RATIO_BUDGET
 *     (5e7 cells, roughly 0.1 s) the distance is computed exactly on code points, with
 *     one DP row of min(n, m)+1 entries (O(min(n,m)) memory; the decoded texts
 *     themselves take 8 bytes per code point). This covers every pair of
 *     texts up to ~7000 code points and long texts with one localised edit.
 *  2. Otherwise the same is done on words (a word = a run of non-white-space with the
 *     white space that follows it, compared by a 64-bit hash): distance in words / max
 *     word count — exactly when the differing middles fit the budget, else restricted to
 *     a diagonal band as wide as the budget allows (w >= 64 words each side; about 675
 *     for two 256 KiB texts). The banded figure is an upper bound that is exact whenever
 *     the best alignment never drifts more than w words off the diagonal, i.e. unless
 *     more than w words were net inserted or deleted at some point of the changed part:
 *     scattered edits, rewrites of paragraphs and moved sentences all stay exact or close.
 *  3. When even the band does not fit (very different lengths), on content-defined chunks
 *     of words (a chunk ends after a word whose hash has its low k bits zero, so an
 *     insertion only disturbs the chunks around it; k grows until the table fits), and,
 *     for degenerate repetitive texts where that cannot shrink the sequences, on fixed
 *     groups of words.
 * Levels 2 and 3 are approximations in coarser units; they are only reached when a large
 * part of a long text changed, where the exact figure matters less than the order of
 * magnitude. Total work is O(n + m) plus at most three DP runs of <= budget cells
 * (measured: ~0.2 s worst case for 256 KiB a side at -O2; a localised edit ~10 ms). */
#ifndef FD_INGEST_EDIT_RATIO_H
#define FD_INGEST_EDIT_RATIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FD_EDIT_RATIO_BUDGET 50000000ull

/* *out = normalised edit distance of a[0..alen) -> b[0..blen) (UTF-8). False only when
 * memory runs out (*out untouched). */
bool fd_edit_ratio(const char *a, size_t alen, const char *b, size_t blen, double *out)
    __attribute__((warn_unused_result));

/* The same with an explicit cell budget (tests use a small one to reach levels 2 and 3). */
bool fd_edit_ratio_budget(const char *a, size_t alen, const char *b, size_t blen, uint64_t budget, double *out)
    __attribute__((warn_unused_result));

/* Exact Levenshtein distance of two code point sequences (no budget; O(min(n,m)) memory).
 * SIZE_MAX when memory runs out. */
size_t fd_levenshtein(const uint32_t *a, size_t n, const uint32_t *b, size_t m);

#endif
