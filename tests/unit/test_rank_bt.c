/* test_rank_bt.c — the leaderboard's Bradley–Terry fit, bootstrap and rank rule, against
 * computations written here: a brute-force maximisation of the likelihood (nested ternary
 * searches, which assume nothing but concavity), and simulated worlds of known strengths. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "rank/bradley_terry.h"
#include "rank/rng.h"
#include "unit.h"

static double lsig(double x) { return -log1p(exp(-x)); }

/* The log-likelihood with halves for ties, optionally with one virtual tie per model against
 * a reference at 0 (the documented prior), written from the definition. */
static double loglik(const struct fd_bt_pair *p, size_t np, const double *th, size_t n, int prior) {
  double l = 0;
  for (size_t k = 0; k < np; k++) {
    double d = th[p[k].a] - th[p[k].b];
    l += ((double)p[k].a_wins + p[k].ties / 2.0) * lsig(d) + ((double)p[k].b_wins + p[k].ties / 2.0) * lsig(-d);
  }
  for (size_t i = 0; prior && i < n; i++) l += 0.5 * lsig(th[i]) + 0.5 * lsig(-th[i]);
  return l;
}

/* Three models: the likelihood of (θ0, θ1, θ2); without the prior θ0 is pinned to 0. */
static const struct fd_bt_pair *g_p;
static size_t g_np;
static int g_prior;

static double inner(double t0, double t1, double *best2) {
  double lo = -12, hi = 12;
  for (int it = 0; it < 80; it++) {
    double m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;
    double a[3] = {t0, t1, m1}, b[3] = {t0, t1, m2};
    if (loglik(g_p, g_np, a, 3, g_prior) < loglik(g_p, g_np, b, 3, g_prior))
      lo = m1;
    else
      hi = m2;
  }
  *best2 = (lo + hi) / 2;
  double t[3] = {t0, t1, *best2};
  return loglik(g_p, g_np, t, 3, g_prior);
}

static double middle(double t0, double *best1, double *best2) {
  double lo = -12, hi = 12, x;
  for (int it = 0; it < 80; it++) {
    double m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;
    if (inner(t0, m1, &x) < inner(t0, m2, &x))
      lo = m1;
    else
      hi = m2;
  }
  *best1 = (lo + hi) / 2;
  return inner(t0, *best1, best2);
}

/* brute-force argmax, centred */
static void brute(const struct fd_bt_pair *p, size_t np, int prior, double th[3]) {
  g_p = p, g_np = np, g_prior = prior;
  if (!prior) {
    th[0] = 0;
    middle(0, &th[1], &th[2]);
  } else {
    double lo = -12, hi = 12, a, b;
    for (int it = 0; it < 80; it++) {
      double m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;
      if (middle(m1, &a, &b) < middle(m2, &a, &b))
        lo = m1;
      else
        hi = m2;
    }
    th[0] = (lo + hi) / 2;
    middle(th[0], &th[1], &th[2]);
  }
  double m = (th[0] + th[1] + th[2]) / 3;
  for (int i = 0; i < 3; i++) th[i] -= m;
}

static void test_three_models_exact_mle(void) {
  /* A–B 3:1 with 1 tie, B–C 2:1, A–C 1:2 with 2 ties (a tie or a both_bad) */
  struct fd_bt_pair p[] = {{0, 1, 3, 1, 1}, {1, 2, 2, 1, 0}, {0, 2, 1, 2, 2}};
  double th[3], want[3];
  bool reg = true;
  CHECK(fd_bt_fit(3, p, 3, th, false, &reg));
  CHECK(!reg);
  brute(p, 3, 0, want);
  for (int i = 0; i < 3; i++) CHECK(fabs(th[i] - want[i]) < 1e-6);
  CHECK(fabs(th[0] + th[1] + th[2]) < 1e-12);
  /* the score equations hold: each model's (half-)wins equal its expected wins */
  double wins[3] = {3 + 0.5 + 1 + 1, 1 + 0.5 + 2, 1 + 2 + 1}, expw[3] = {0};
  for (int k = 0; k < 3; k++) {
    double s = 1 / (1 + exp(th[p[k].b] - th[p[k].a]));
    double nn = (double)(p[k].a_wins + p[k].b_wins + p[k].ties);
    expw[p[k].a] += nn * s;
    expw[p[k].b] += nn * (1 - s);
  }
  for (int i = 0; i < 3; i++) CHECK(fabs(wins[i] - expw[i]) < 1e-9);
  CHECK(fabs(fd_bt_rating(0) - 1000) < 1e-12);
  CHECK(fabs(fd_bt_rating(1) - (1000 + 400 / log(10))) < 1e-9);
}

static void test_undefeated_model_is_finite(void) {
  /* A never loses (3:0 against B, 2:0 against C): no MLE; the prior keeps it finite */
  struct fd_bt_pair p[] = {{0, 1, 3, 0, 0}, {1, 2, 2, 1, 1}, {0, 2, 2, 0, 0}};
  double th[3], want[3];
  bool reg = false;
  CHECK(fd_bt_fit(3, p, 3, th, false, &reg));
  CHECK(reg);
  brute(p, 3, 1, want);
  for (int i = 0; i < 3; i++) CHECK(isfinite(th[i]) && fabs(th[i] - want[i]) < 1e-6);
  CHECK(th[0] > th[1] && th[1] > th[2]);
  /* and a model that only loses, and one that never played */
  struct fd_bt_pair q[] = {{0, 1, 0, 4, 0}, {1, 2, 1, 1, 0}};
  CHECK(fd_bt_fit(4, q, 2, (double[4]){0}, false, &reg) && reg);
}

static void test_quantile_and_ranks(void) {
  double v[] = {4, 1, 3, 2};
  CHECK(fabs(fd_bt_quantile(v, 4, 0.025) - 1.075) < 1e-12); /* numpy.percentile([1,2,3,4], 2.5) */
  CHECK(fabs(fd_bt_quantile(v, 4, 0.975) - 3.925) < 1e-12);
  double lo[] = {1040, 1000, 1001, 900}, hi[] = {1060, 1030, 1020, 960};
  int rank[4];
  fd_bt_ranks(4, lo, hi, rank);
  CHECK(rank[0] == 1 && rank[1] == 2 && rank[2] == 2 && rank[3] == 4);
}

static void test_binomial_moments(void) {
  struct fd_rng r;
  fd_rng_seed(&r, 7);
  const uint64_t n = 1000000;
  const double p = 0.3;
  double s = 0, s2 = 0;
  const int draws = 4000;
  for (int i = 0; i < draws; i++) {
    double x = (double)fd_rng_binomial(&r, n, p);
    s += x;
    s2 += x * x;
  }
  double mean = s / draws, var = s2 / draws - mean * mean, sd = sqrt(n * p * (1 - p));
  CHECK(fabs(mean - n * p) < 5 * sd / sqrt(draws));
  CHECK(fabs(var / (sd * sd) - 1) < 0.15);
  uint64_t w[] = {5, 0, 7, 100, 1}, out[5];
  fd_rng_multinomial(&r, 113, w, 5, out);
  CHECK(out[0] + out[1] + out[2] + out[3] + out[4] == 113 && out[1] == 0);
  CHECK(fd_rng_binomial(&r, 10, 0) == 0 && fd_rng_binomial(&r, 10, 1) == 10);
}

/* The test's own generator (not the code under test's). */
static uint64_t lcg_state;
static double urand(void) {
  lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return ((double)(lcg_state >> 11) + 0.5) / 9007199254740992.0;
}

static void test_simulated_worlds(void) {
  enum { M = 6, BATTLES = 3000, WORLDS = 100 };
  double truth[M];
  for (int i = 0; i < M; i++) truth[i] = 0.5 * i - 1.25; /* centred */
  int covered = 0, total = 0, right_order = 0;
  for (int w = 0; w < WORLDS; w++) {
    lcg_state = 1000 + (uint64_t)w;
    struct fd_bt_pair p[M * (M - 1) / 2];
    size_t np = 0;
    for (uint32_t a = 0; a < M; a++)
      for (uint32_t b = a + 1; b < M; b++) p[np++] = (struct fd_bt_pair){a, b, 0, 0, 0};
    for (int k = 0; k < BATTLES; k++) {
      size_t c = (size_t)(urand() * (double)np);
      double pa = 1 / (1 + exp(truth[p[c].b] - truth[p[c].a]));
      if (urand() < pa)
        p[c].a_wins++;
      else
        p[c].b_wins++;
    }
    double th[M], lo[M], hi[M];
    CHECK(fd_bt_fit(M, p, np, th, false, NULL));
    int ordered = 1;
    for (int i = 0; i + 1 < M; i++) ordered &= th[i] < th[i + 1];
    right_order += ordered;
    CHECK(fd_bt_bootstrap(M, p, np, th, 200, FD_BT_SEED, lo, hi));
    for (int i = 0; i < M; i++) {
      double t = fd_bt_rating(truth[i]);
      covered += lo[i] <= t && t <= hi[i];
      total++;
    }
  }
  fprintf(stderr, "simulated worlds: order right in %d/%d, ci95 covered %d/%d\n", right_order, WORLDS, covered, total);
  CHECK(right_order == WORLDS);
  CHECK(covered >= 0.9 * total);
}

static void test_bootstrap_deterministic(void) {
  struct fd_bt_pair p[] = {{0, 1, 30, 10, 5}, {1, 2, 20, 12, 0}, {0, 2, 11, 22, 8}};
  double th[3], lo1[3], hi1[3], lo2[3], hi2[3];
  CHECK(fd_bt_fit(3, p, 3, th, false, NULL));
  CHECK(fd_bt_bootstrap(3, p, 3, th, 200, FD_BT_SEED, lo1, hi1));
  CHECK(fd_bt_bootstrap(3, p, 3, th, 200, FD_BT_SEED, lo2, hi2));
  for (int i = 0; i < 3; i++) {
    CHECK(lo1[i] == lo2[i] && hi1[i] == hi2[i]);
    CHECK(lo1[i] < fd_bt_rating(th[i]) && fd_bt_rating(th[i]) < hi1[i]);
  }
}

int main(void) {
  RUN(test_three_models_exact_mle);
  RUN(test_undefeated_model_is_finite);
  RUN(test_quantile_and_ranks);
  RUN(test_binomial_moments);
  RUN(test_simulated_worlds);
  RUN(test_bootstrap_deterministic);
  return unit_report();
}
