/* rng.h — a small deterministic PRNG (xoshiro256**, seeded through splitmix64) with the
 * binomial and multinomial draws the leaderboard's bootstrap needs. The same seed gives the
 * same sequence on every platform: the leaderboard must give the same answer for the same
 * data (docs/api.md "Model leaderboard"). */
#ifndef FD_RANK_RNG_H
#define FD_RANK_RNG_H

#include <stddef.h>
#include <stdint.h>

struct fd_rng {
  uint64_t s[4];
};

void fd_rng_seed(struct fd_rng *r, uint64_t seed);
uint64_t fd_rng_next(struct fd_rng *r);
/* uniform in (0, 1): never exactly 0 or 1, so logs of it are finite */
double fd_rng_uniform(struct fd_rng *r);
/* a Binomial(n, p) draw, p in [0, 1], exact up to floating-point rounding; expected work
 * O(1 + sqrt(n p (1 - p))) */
uint64_t fd_rng_binomial(struct fd_rng *r, uint64_t n, double p);
/* counts[k] ~ Multinomial(n, weights[k] / sum(weights)) over k < cells, weights >= 0 with a
 * positive sum; out[] sums to n */
void fd_rng_multinomial(struct fd_rng *r, uint64_t n, const uint64_t *weights, size_t cells, uint64_t *out);

#endif
