/* agreement.c — see agreement.h.
 *
 * Alpha in closed form instead of building the coincidence matrix: for a unit with m values,
 * the coincidences it adds are each ordered pair of its values with weight 1/(m−1), so
 *   interval: Σ_pairs (a−b)² = 2(m·Σv² − (Σv)²) per unit, and over all n pairable values
 *             n_c·n_k(c−k)² sums to 2(n·Σv² − (Σv)²);
 *   nominal:  the disagreeing ordered pairs of a unit are m² − Σ_c m_c², overall n² − Σ_c n_c²;
 *   α = 1 − (n − 1) · Σ_u disagreement_u/(m_u − 1) / expected disagreement.
 * O(values) for interval; nominal groups equal values by sorting a copy per unit. */
#include "rank/agreement.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

bool fd_alpha_interval(const double *v, const size_t *off, size_t units, double *alpha) {
  size_t pairable = 0;
  double n = 0, s1 = 0, s2 = 0, observed = 0;
  for (size_t u = 0; u < units; u++) {
    size_t m = off[u + 1] - off[u];
    if (m < 2) continue;
    pairable++;
    double a = 0, b = 0;
    for (size_t i = off[u]; i < off[u + 1]; i++) {
      a += v[i];
      b += v[i] * v[i];
    }
    observed += 2 * ((double)m * b - a * a) / (double)(m - 1);
    n += (double)m;
    s1 += a;
    s2 += b;
  }
  if (pairable < 2) return false;
  double expected = 2 * (n * s2 - s1 * s1);
  *alpha = expected <= 0 ? 1.0 : 1 - (n - 1) * observed / expected;
  return true;
}

/* Σ_c count_c² over the groups of equal values of v[0..m) (sorted in place). */
static double sum_sq_groups(double *v, size_t m) {
  qsort(v, m, sizeof *v, cmp_double);
  double sum = 0, run = 0;
  for (size_t i = 0; i < m; i++) {
    run = (i > 0 && v[i] - v[i - 1] < FD_AGREE_EPS) ? run + 1 : 1;
    if (i + 1 == m || v[i + 1] - v[i] >= FD_AGREE_EPS) sum += run * run;
  }
  return sum;
}

bool fd_alpha_nominal(const double *v, const size_t *off, size_t units, double *alpha) {
  size_t pairable = 0, n = 0;
  double observed = 0;
  double *all = malloc(sizeof(double) * (off[units] ? off[units] : 1));
  if (!all) return false;
  for (size_t u = 0; u < units; u++) {
    size_t m = off[u + 1] - off[u];
    if (m < 2) continue;
    pairable++;
    memcpy(all + n, v + off[u], sizeof(double) * m);
    double same = sum_sq_groups(all + n, m);
    observed += ((double)m * (double)m - same) / (double)(m - 1);
    n += m;
  }
  bool ok = pairable >= 2;
  if (ok) {
    double expected = (double)n * (double)n - sum_sq_groups(all, n);
    *alpha = expected <= 0 ? 1.0 : 1 - ((double)n - 1) * observed / expected;
  }
  free(all);
  return ok;
}

void fd_agree_with_majority(const double *v, const size_t *off, size_t units, signed char *agrees) {
  for (size_t u = 0; u < units; u++) {
    size_t lo = off[u], hi = off[u + 1];
    for (size_t i = lo; i < hi; i++) {
      if (hi - lo < 2) {
        agrees[i] = -1;
        continue;
      }
      /* the most frequent value among the others, and whether another value ties it */
      size_t best = 0, second = 0;
      double best_v = 0;
      for (size_t j = lo; j < hi; j++) {
        if (j == i) continue;
        size_t c = 0;
        bool seen_before = false;
        for (size_t k = lo; k < hi; k++) {
          if (k == i || fabs(v[k] - v[j]) >= FD_AGREE_EPS) continue;
          if (k < j) seen_before = true; /* this value was counted at its first occurrence */
          c++;
        }
        if (seen_before) continue;
        if (c > best) {
          second = best;
          best = c;
          best_v = v[j];
        } else if (c > second) {
          second = c;
        }
      }
      agrees[i] = best > second && fabs(v[i] - best_v) < FD_AGREE_EPS;
    }
  }
}
