/* fit_bench.c — the leaderboard's statistics alone: 50 models with known strengths,
 * 1,000,000 battles (10 % ties) aggregated into the win matrix, then the Bradley–Terry fit
 * and 200 bootstrap resamples, timed with CLOCK_MONOTONIC (best of 5 and median).
 * Built and run by bench/leaderboard/run.sh; by hand:
 *   cc -O2 -Iserver bench/leaderboard/fit_bench.c server/rank/[a-z]*.c -lm -o /tmp/fit_bench */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rank/bradley_terry.h"
#include "rank/rng.h"

#define MODELS 50
#define BATTLES 1000000
#define RESAMPLES 200
#define REPEATS 5

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  static struct fd_bt_pair pairs[MODELS * (MODELS - 1) / 2];
  double truth[MODELS], th[MODELS], lo[MODELS], hi[MODELS];
  size_t np = 0;
  for (uint32_t a = 0; a < MODELS; a++) {
    truth[a] = -1.5 + 3.0 * a / (MODELS - 1);
    for (uint32_t b = a + 1; b < MODELS; b++) pairs[np++] = (struct fd_bt_pair){a, b, 0, 0, 0};
  }
  struct fd_rng r;
  fd_rng_seed(&r, 1);
  for (long k = 0; k < BATTLES; k++) {
    struct fd_bt_pair *p = &pairs[fd_rng_next(&r) % np];
    double u = fd_rng_uniform(&r), pa = 1 / (1 + exp(truth[p->b] - truth[p->a]));
    if (u < 0.1)
      p->ties++;
    else if (fd_rng_uniform(&r) < pa)
      p->a_wins++;
    else
      p->b_wins++;
  }
  double fit_t[REPEATS], boot_t[REPEATS];
  for (int rep = 0; rep < REPEATS; rep++) {
    double t0 = now_s();
    if (!fd_bt_fit(MODELS, pairs, np, th, false, NULL)) return 1;
    double t1 = now_s();
    if (!fd_bt_bootstrap(MODELS, pairs, np, th, RESAMPLES, FD_BT_SEED, lo, hi)) return 1;
    double t2 = now_s();
    fit_t[rep] = t1 - t0;
    boot_t[rep] = t2 - t1;
  }
  qsort(fit_t, REPEATS, sizeof(double), cmp);
  qsort(boot_t, REPEATS, sizeof(double), cmp);
  printf("fit alone: %d models, %d battles in %zu pair cells, %d resamples\n", MODELS, BATTLES, np, RESAMPLES);
  printf("  fit       best %8.2f ms  median %8.2f ms\n", fit_t[0] * 1e3, fit_t[REPEATS / 2] * 1e3);
  printf("  bootstrap best %8.2f ms  median %8.2f ms  (%.2f ms per resample)\n", boot_t[0] * 1e3,
         boot_t[REPEATS / 2] * 1e3, boot_t[REPEATS / 2] * 1e3 / RESAMPLES);
  printf("  ratings from %.1f to %.1f\n", fd_bt_rating(th[0]), fd_bt_rating(th[MODELS - 1]));
  return 0;
}
