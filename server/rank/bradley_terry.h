/* bradley_terry.h — the model leaderboard's statistics (docs/api.md "Model leaderboard"):
 * a maximum-likelihood Bradley–Terry fit of a win matrix, the Elo-scale ratings, seeded
 * bootstrap intervals and the rank rule. Pure: no I/O, no allocation the caller must free.
 *
 * The model: P(i beats j) = 1 / (1 + exp(θj − θi)). A battle between i and j ends in a win for
 * one side or in a tie (`tie` or `both_bad`), which counts as half a win for each side. */
#ifndef FD_RANK_BRADLEY_TERRY_H
#define FD_RANK_BRADLEY_TERRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The battles of one unordered pair of models a < b (indexes into the fitted models). */
struct fd_bt_pair {
  uint32_t a, b;
  uint64_t a_wins, b_wins, ties; /* ties: `tie` and `both_bad` outcomes together */
};

/* The seed of the bootstrap: fixed, so the same battles give the same intervals. */
#define FD_BT_SEED 0x6c656164626f6172ULL /* "leadboar" */

/* Fit θ (models entries, centred: Σθ = 0) to the battles. Newton's method on the
 * log-likelihood with a backtracking line search, from θ = 0 (or from the given θ when
 * warm is true), until no θ moves by more than 1e-10 — the fit is then within 1e-9.
 *
 * Models with all wins or all losses: the maximum-likelihood estimate exists only when every
 * model can be reached from every other through "beat or tied" links (the directed graph of
 * wins is strongly connected, Zermelo 1929 / Ford 1957); otherwise it lies at infinity
 * (an undefeated model's θ grows without bound). Then — and only then — every model plays
 * one virtual tie against a fixed reference of θ = 0, a prior worth one battle that keeps
 * every θ finite and moves a model with n real battles by O(1/n). *regularised (may be
 * NULL) tells which objective was maximised. Returns false when the solver failed to
 * converge (not seen in practice; the caller answers 500). */
bool fd_bt_fit(size_t models, const struct fd_bt_pair *pairs, size_t npairs, double *theta, bool warm,
               bool *regularised);

/* θ on the Elo scale: 1000 + 400·log10(e)·θ (θ centred, so the mean rating is 1000). */
double fd_bt_rating(double theta);

/* The 2.5 and 97.5 percentiles of each model's rating over `resamples` bootstrap resamples:
 * each resample draws as many battles as there are, with replacement, from the battles — a
 * multinomial draw over the (pair, outcome) cells of the win matrix, so its cost does not
 * grow with the number of battles — and fits them (warm-started at theta_hat). Percentiles
 * interpolate linearly between order statistics (numpy's default). lo/hi get `models`
 * entries. Returns false on allocation or solver failure. */
bool fd_bt_bootstrap(size_t models, const struct fd_bt_pair *pairs, size_t npairs, const double *theta_hat,
                     unsigned resamples, uint64_t seed, double *lo, double *hi);

/* rank[i] = 1 + the number of models whose lo is above hi[i]. */
void fd_bt_ranks(size_t models, const double *lo, const double *hi, int *rank);

/* The p-quantile (0..1) of v[0..n) (sorted in place), linear between order statistics. */
double fd_bt_quantile(double *v, size_t n, double p);

#endif
