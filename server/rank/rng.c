/* rng.c — see rng.h. The binomial draw is exact up to floating-point rounding: small means
 * by summing geometric waiting times, larger ones by inversion from the mode. */
#include "rank/rng.h"

#include <math.h>
#include <stdbool.h>

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

/* Binomial by inversion, searching outward from the mode (Kemp's chop-down): the pmf at the
 * mode from lgamma, its neighbours by the ratio of successive terms; expected steps about
 * sqrt(n p q), no transcendental function per step. */
static uint64_t binomial_mode(struct fd_rng *r, uint64_t n, double p) {
  double q = 1 - p, dn = (double)n;
  uint64_t m = (uint64_t)((dn + 1) * p);
  if (m > n) m = n;
  double dm = (double)m;
  double fm = exp(lgamma(dn + 1) - lgamma(dm + 1) - lgamma(dn - dm + 1) + dm * log(p) + (dn - dm) * log(q));
  double u = fd_rng_uniform(r) - fm;
  if (u <= 0) return m;
  double up = fm, down = fm, ratio = p / q;
  uint64_t hi = m, lo = m;
  for (;;) {
    bool can_up = hi<n, can_down = lo> 0;
    if (!can_up && !can_down) return m; /* the pmf summed to 1 - rounding: u is in that sliver */
    if (can_up) {
      up *= (dn - (double)hi) / ((double)hi + 1) * ratio;
      hi++;
      if ((u -= up) <= 0) return hi;
    }
    if (can_down) {
      down *= (double)lo / (dn - (double)lo + 1) / ratio;
      lo--;
      if ((u -= down) <= 0) return lo;
    }
    if (up < 1e-300 && down < 1e-300) return m; /* both tails exhausted in floating point */
  }
}

uint64_t fd_rng_binomial(struct fd_rng *r, uint64_t n, double p) {
  if (n == 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - fd_rng_binomial(r, n, 1 - p); /* keeps the small-mean branch cheap */
  return (double)n * p < 10 ? binomial_small(r, n, p) : binomial_mode(r, n, p);
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
