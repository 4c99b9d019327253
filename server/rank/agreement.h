/* agreement.h — rater agreement (docs/api.md "Rater agreement"): Krippendorff's alpha and
 * each rater's agreement with the majority of the others. Pure: no I/O.
 *
 * Reliability data come as units (items) with the values their raters gave: the values of
 * unit u are v[off[u]] .. v[off[u+1] - 1] (off has units + 1 entries). A unit with fewer than
 * two values is not pairable and takes no part. */
#ifndef FD_RANK_AGREEMENT_H
#define FD_RANK_AGREEMENT_H

#include <stdbool.h>
#include <stddef.h>

/* Values closer than this are equal (the same tolerance as export scores). */
#define FD_AGREE_EPS 1e-9

/* Krippendorff's alpha, 1 − D_o / D_e over the coincidence matrix of the pairable units,
 * with the interval metric δ² = (c − k)² (interval) or the nominal metric δ = [c ≠ k]
 * (nominal: values are category codes). False (alpha undefined, the API's null) with fewer
 * than two pairable units. When every pairable value is the same, D_o = D_e = 0: alpha is
 * then 1 (the raters never disagreed). */
bool fd_alpha_interval(const double *v, const size_t *off, size_t units, double *alpha);
bool fd_alpha_nominal(const double *v, const size_t *off, size_t units, double *alpha);

/* agrees[i] for every value i: 1 if it equals the majority of the other values of its unit
 * — the one value given more often than any other (a tie for the most frequent value is no
 * majority, so the answer is 0) —, 0 if not, −1 if its unit is not pairable. */
void fd_agree_with_majority(const double *v, const size_t *off, size_t units, signed char *agrees);

#endif
