/* rng.c — see rng.h. The binomial draw is exact in distribution: small means by summing
 * geometric waiting times, large n by Knuth's order-statistic split (TAOCP 3.4.1 F: the
 * i-th smallest of n uniforms is Beta(i, n+1-i); count how many uniforms fall on each side
 * of p), which halves n per step. */
#include "rank/rng.h"

#include <math.h>

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void fd_rng_seed(struct fd_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) { /* splitmix64 */
    uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    r->s[i] = z ^ (z >> 31);
  }
}

uint64_t fd_rng_next(struct fd_rng *r) {
  uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

double fd_rng_uniform(struct fd_rng *r) { return ((double)(fd_rng_next(r) >> 11) + 0.5) * 0x1.0p-53; }

static double normal(struct fd_rng *r) { /* Box–Muller, one of the pair */
  return sqrt(-2.0 * log(fd_rng_uniform(r))) * cos(2.0 * M_PI * fd_rng_uniform(r));
}

/* Gamma(a, 1) for a >= 1: Marsaglia & Tsang (2000) */
static double gamma_ge1(struct fd_rng *r, double a) {
  double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x = normal(r), v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = fd_rng_uniform(r);
    if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return d * v;
  }
}

/* Binomial by waiting times: the gaps between successes are geometric; O(n p) steps. */
static uint64_t binomial_small(struct fd_rng *r, uint64_t n, double p) {
  double lq = log1p(-p);
  uint64_t x = 0;
  double pos = 0;
  for (;;) {
    pos += ceil(log(fd_rng_uniform(r)) / lq);
    if (pos > (double)n) return x;
    x++;
  }
}

uint64_t fd_rng_binomial(struct fd_rng *r, uint64_t n, double p) {
  /* the answer is add + sign * Bin(n, p) for the current n, p (the recursion as a loop) */
  int64_t add = 0, sign = 1;
  for (;;) {
    if (n == 0 || p <= 0) return (uint64_t)add;
    if (p >= 1) return (uint64_t)(add + sign * (int64_t)n);
    if (p > 0.5) { /* Bin(n, p) = n - Bin(n, 1 - p): keeps the small-mean branch cheap */
      add += sign * (int64_t)n;
      sign = -sign;
      p = 1 - p;
    }
    if ((double)n * p < 16) return (uint64_t)(add + sign * (int64_t)binomial_small(r, n, p));
    uint64_t i = n / 2 + 1;
    double ga = gamma_ge1(r, (double)i), gb = gamma_ge1(r, (double)(n + 1 - i));
    double x = ga / (ga + gb); /* the i-th smallest of n uniforms */
    if (x >= p) {              /* the successes are among the i-1 uniforms below x */
      n = i - 1;
      p = p / x;
    } else { /* the i uniforms up to x succeed; those above x succeed with (p-x)/(1-x) */
      add += sign * (int64_t)i;
      n = n - i;
      p = (p - x) / (1 - x);
    }
  }
}

void fd_rng_multinomial(struct fd_rng *r, uint64_t n, const uint64_t *weights, size_t cells, uint64_t *out) {
  uint64_t rest = 0;
  for (size_t k = 0; k < cells; k++) rest += weights[k];
  for (size_t k = 0; k < cells; k++) {
    if (n == 0 || rest == 0 || weights[k] == 0) {
      out[k] = 0;
      continue;
    }
    uint64_t x = weights[k] >= rest ? n : fd_rng_binomial(r, n, (double)weights[k] / (double)rest);
    out[k] = x;
    n -= x;
    rest -= weights[k];
  }
}
