/* test_rank_agreement.c — Krippendorff's alpha against the worked example of Krippendorff,
 * "Computing Krippendorff's Alpha-Reliability" (2011): 4 observers × 12 units with missing
 * values, nominal α = 0.743 and interval α = 0.849. The exact values are computed here from
 * the coincidence matrix, built the way the paper builds it; then the majority rule. */
#include <math.h>

#include "rank/agreement.h"
#include "unit.h"

#define NA 0 /* no value (the paper's "."); real values are 1..5 */
static const int data[4][12] = {
    {1, 2, 3, 3, 2, 1, 4, 1, 2, NA, NA, NA},
    {1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NA, 3},
    {NA, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NA},
    {1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NA},
};

/* α from the coincidence matrix o[c][k] (values 1..5): each ordered pair of values of a unit
 * with m values adds 1/(m-1); n_c are the margins; δ² from the metric. */
static double alpha_by_matrix(int interval) {
  double o[6][6] = {{0}}, nc[6] = {0}, n = 0;
  for (int u = 0; u < 12; u++) {
    int m = 0;
    for (int r = 0; r < 4; r++) m += data[r][u] != NA;
    if (m < 2) continue;
    for (int r = 0; r < 4; r++)
      for (int s = 0; s < 4; s++)
        if (r != s && data[r][u] != NA && data[s][u] != NA) o[data[r][u]][data[s][u]] += 1.0 / (m - 1);
  }
  for (int c = 1; c <= 5; c++)
    for (int k = 1; k <= 5; k++) nc[c] += o[c][k];
  for (int c = 1; c <= 5; c++) n += nc[c];
  double dobs = 0, dexp = 0;
  for (int c = 1; c <= 5; c++)
    for (int k = 1; k <= 5; k++) {
      double d2 = interval ? (double)(c - k) * (c - k) : (c != k);
      dobs += o[c][k] * d2;
      dexp += nc[c] * nc[k] * d2;
    }
  return 1 - (n - 1) * dobs / dexp;
}

static void load(double *v, size_t *off) {
  size_t k = 0;
  for (int u = 0; u < 12; u++) {
    off[u] = k;
    for (int r = 0; r < 4; r++)
      if (data[r][u] != NA) v[k++] = data[r][u];
  }
  off[12] = k;
}

static void test_krippendorff_2011(void) {
  double v[48], a = 0;
  size_t off[13];
  load(v, off);
  double want_nominal = alpha_by_matrix(0), want_interval = alpha_by_matrix(1);
  CHECK(fabs(want_nominal - 0.743) < 5e-4); /* the published, rounded values */
  CHECK(fabs(want_interval - 0.849) < 5e-4);
  CHECK(fd_alpha_nominal(v, off, 12, &a) && fabs(a - want_nominal) < 1e-9);
  CHECK(fd_alpha_interval(v, off, 12, &a) && fabs(a - want_interval) < 1e-9);
}

static void test_alpha_edges(void) {
  double v[] = {1, 1, 0, 0, 5}, a = 0;
  size_t one_unit[] = {0, 2}, two[] = {0, 2, 4}, with_single[] = {0, 2, 4, 5};
  CHECK(!fd_alpha_interval(v, one_unit, 1, &a)); /* fewer than two pairable units: null */
  CHECK(!fd_alpha_nominal(v, one_unit, 1, &a));
  CHECK(fd_alpha_nominal(v, two, 2, &a) && fabs(a - 1) < 1e-12);          /* perfect agreement */
  CHECK(fd_alpha_interval(v, with_single, 3, &a) && fabs(a - 1) < 1e-12); /* the single value plays no part */
  double same[] = {1, 1, 1, 1};
  CHECK(fd_alpha_nominal(same, two, 2, &a) && a == 1); /* no variation at all: 1 by definition here */
  /* systematic disagreement: below 0. Units {1,-1}, {1,-1}: D_o = 4/... computed by hand:
   * n = 4, observed = 2 units × 2(2·2 − 0)/1 = 16, expected = 2(4·4 − 0) = 32 → 1 − 3·16/32 */
  double opp[] = {1, -1, 1, -1};
  CHECK(fd_alpha_interval(opp, two, 2, &a) && fabs(a - (1 - 3.0 * 16 / 32)) < 1e-12);
}

static void test_majority(void) {
  /* unit 0: 1 1 0 → the two 1s each agree with the other (1 vs 0: a tie among the others is
   * no majority → 0); the 0 faces {1, 1}: majority 1 → 0. unit 1: a single value → -1.
   * unit 2: 2 2 2 0 → each 2 agrees (others {2, 2, 0}); the 0 disagrees. */
  double v[] = {1, 1, 0, 7, 2, 2, 2, 0};
  size_t off[] = {0, 3, 4, 8};
  signed char ag[8];
  fd_agree_with_majority(v, off, 3, ag);
  CHECK(ag[0] == 0 && ag[1] == 0 && ag[2] == 0);
  CHECK(ag[3] == -1);
  CHECK(ag[4] == 1 && ag[5] == 1 && ag[6] == 1 && ag[7] == 0);
  double w[] = {0.5, 0.5 + 1e-12};
  size_t off2[] = {0, 2};
  fd_agree_with_majority(w, off2, 1, ag);
  CHECK(ag[0] == 1 && ag[1] == 1); /* equal within the tolerance */
}

int main(void) {
  RUN(test_krippendorff_2011);
  RUN(test_alpha_edges);
  RUN(test_majority);
  return unit_report();
}
