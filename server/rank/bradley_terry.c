/* bradley_terry.c — see bradley_terry.h.
 *
 * Why Newton and not the MM (Zermelo) iteration: MM converges linearly and slows to a crawl
 * when strengths are far apart; Newton on the concave log-likelihood converges quadratically,
 * and with 50 models a 50×50 Cholesky solve per step costs microseconds, which is what lets
 * 200 bootstrap refits answer well inside the leaderboard's time budget. */
#include "rank/bradley_terry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rank/rng.h"

#define MAX_ITER 200
#define STEP_TOL 1e-10

static double sigmoid(double x) { return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)); }
static double log_sigmoid(double x) { return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)); }

/* half a win to each side for every tie */
static double wins_a(const struct fd_bt_pair *p) { return (double)p->a_wins + 0.5 * (double)p->ties; }
static double wins_b(const struct fd_bt_pair *p) { return (double)p->b_wins + 0.5 * (double)p->ties; }

static double objective(size_t n, const struct fd_bt_pair *pairs, size_t np, const double *th, bool reg) {
  double l = 0;
  for (size_t k = 0; k < np; k++) { /* log σ(−d) = log σ(d) − d: one exp and log1p per pair */
    double d = th[pairs[k].a] - th[pairs[k].b], ls = log_sigmoid(d);
    l += wins_a(&pairs[k]) * ls + wins_b(&pairs[k]) * (ls - d);
  }
  if (reg)
    for (size_t i = 0; i < n; i++) l += 0.5 * log_sigmoid(th[i]) + 0.5 * log_sigmoid(-th[i]);
  return l;
}

/* Zermelo's condition: every model reaches every other along "won or tied against" links. */
static bool strongly_connected(size_t n, const struct fd_bt_pair *pairs, size_t np, unsigned char *adj, size_t *stack,
                               unsigned char *seen) {
  if (n <= 1) return true;
  memset(adj, 0, n * n);
  for (size_t k = 0; k < np; k++) {
    if (pairs[k].a_wins + pairs[k].ties) adj[pairs[k].a * n + pairs[k].b] = 1;
    if (pairs[k].b_wins + pairs[k].ties) adj[pairs[k].b * n + pairs[k].a] = 1;
  }
  for (int dir = 0; dir < 2; dir++) { /* reach all from 0, and 0 from all */
    memset(seen, 0, n);
    size_t top = 0, count = 1;
    seen[0] = 1;
    stack[top++] = 0;
    while (top) {
      size_t i = stack[--top];
      for (size_t j = 0; j < n; j++)
        if (!seen[j] && (dir ? adj[j * n + i] : adj[i * n + j])) {
          seen[j] = 1;
          stack[top++] = j;
          count++;
        }
    }
    if (count != n) return false;
  }
  return true;
}

/* Solve A x = b in place (A symmetric positive definite, n×n, overwritten by its Cholesky
 * factor; b overwritten by x). False if A is not positive definite. */
static bool cholesky_solve(size_t n, double *A, double *b) {
  for (size_t j = 0; j < n; j++) {
    double d = A[j * n + j];
    for (size_t k = 0; k < j; k++) d -= A[j * n + k] * A[j * n + k];
    if (!(d > 0)) return false;
    d = sqrt(d);
    A[j * n + j] = d;
    for (size_t i = j + 1; i < n; i++) {
      double s = A[i * n + j];
      for (size_t k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / d;
    }
  }
  for (size_t i = 0; i < n; i++) { /* L y = b */
    double s = b[i];
    for (size_t k = 0; k < i; k++) s -= A[i * n + k] * b[k];
    b[i] = s / A[i * n + i];
  }
  for (size_t i = n; i-- > 0;) { /* Lᵀ x = y */
    double s = b[i];
    for (size_t k = i + 1; k < n; k++) s -= A[k * n + i] * b[k];
    b[i] = s / A[i * n + i];
  }
  return true;
}

struct work {
  double *H, *g, *trial;
  unsigned char *adj, *seen;
  size_t *stack;
};

static bool work_init(struct work *w, size_t n) {
  w->H = malloc(sizeof(double) * n * n);
  w->g = malloc(sizeof(double) * n);
  w->trial = malloc(sizeof(double) * n);
  w->adj = malloc(n * n);
  w->seen = malloc(n);
  w->stack = malloc(sizeof(size_t) * n);
  return w->H && w->g && w->trial && w->adj && w->seen && w->stack;
}

static void work_free(struct work *w) {
  free(w->H);
  free(w->g);
  free(w->trial);
  free(w->adj);
  free(w->seen);
  free(w->stack);
}

static void centre(size_t n, double *th) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m += th[i];
  m /= (double)n;
  for (size_t i = 0; i < n; i++) th[i] -= m;
}

static bool fit(struct work *w, size_t n, const struct fd_bt_pair *pairs, size_t np, double *th, bool warm,
                bool *regularised) {
  if (n == 0) return true;
  bool reg = !strongly_connected(n, pairs, np, w->adj, w->stack, w->seen);
  if (regularised) *regularised = reg;
  if (!warm) memset(th, 0, sizeof(double) * n);
  double *H = w->H, *g = w->g;
  double f = objective(n, pairs, np, th, reg);
  for (int it = 0; it < MAX_ITER; it++) {
    /* H = the negative Hessian; without the prior it is a graph Laplacian, singular along
     * (1,…,1) (θ is defined up to a shift): adding 1·1ᵀ makes it definite and, as the
     * gradient sums to zero, gives the step with zero sum. */
    for (size_t i = 0; i < n * n; i++) H[i] = reg ? 0 : 1;
    memset(g, 0, sizeof(double) * n);
    for (size_t k = 0; k < np; k++) {
      size_t a = pairs[k].a, b = pairs[k].b;
      double wa = wins_a(&pairs[k]), nn = wa + wins_b(&pairs[k]);
      double s = sigmoid(th[a] - th[b]), h = nn * s * (1 - s);
      g[a] += wa - nn * s;
      g[b] -= wa - nn * s;
      H[a * n + a] += h;
      H[b * n + b] += h;
      H[a * n + b] -= h;
      H[b * n + a] -= h;
    }
    if (reg)
      for (size_t i = 0; i < n; i++) {
        double s = sigmoid(th[i]);
        g[i] += 0.5 - s;
        H[i * n + i] += s * (1 - s);
      }
    if (!cholesky_solve(n, H, g)) return false; /* g is now the Newton step */
    double t = 1, fnew = f;
    for (int half = 0; half < 60; half++, t *= 0.5) {
      for (size_t i = 0; i < n; i++) w->trial[i] = th[i] + t * g[i];
      fnew = objective(n, pairs, np, w->trial, reg);
      if (fnew >= f - 1e-12 * fabs(f)) break;
    }
    double moved = 0;
    for (size_t i = 0; i < n; i++) {
      moved = fmax(moved, fabs(w->trial[i] - th[i]));
      th[i] = w->trial[i];
    }
    f = fnew;
    if (moved < STEP_TOL && t == 1) {
      centre(n, th);
      return true;
    }
  }
  return false;
}

bool fd_bt_fit(size_t models, const struct fd_bt_pair *pairs, size_t npairs, double *theta, bool warm,
               bool *regularised) {
  struct work w;
  bool ok = work_init(&w, models ? models : 1) && fit(&w, models, pairs, npairs, theta, warm, regularised);
  work_free(&w);
  return ok;
}

double fd_bt_rating(double theta) { return 1000 + 400 * M_LOG10E * theta; }

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double fd_bt_quantile(double *v, size_t n, double p) {
  qsort(v, n, sizeof *v, cmp_double);
  double h = p * (double)(n - 1);
  size_t i = (size_t)floor(h);
  if (i + 1 >= n) return v[n - 1];
  return v[i] + (h - (double)i) * (v[i + 1] - v[i]);
}

bool fd_bt_bootstrap(size_t models, const struct fd_bt_pair *pairs, size_t npairs, const double *theta_hat,
                     unsigned resamples, uint64_t seed, double *lo, double *hi) {
  if (models == 0 || resamples == 0) return true;
  struct work w;
  uint64_t *cells = malloc(sizeof(uint64_t) * 3 * (npairs ? npairs : 1));
  uint64_t *drawn = malloc(sizeof(uint64_t) * 3 * (npairs ? npairs : 1));
  struct fd_bt_pair *re = malloc(sizeof *re * (npairs ? npairs : 1));
  double *th = malloc(sizeof(double) * models);
  double *samples = malloc(sizeof(double) * models * resamples);
  bool ok = work_init(&w, models) && cells && drawn && re && th && samples;
  uint64_t total = 0;
  for (size_t k = 0; ok && k < npairs; k++) {
    cells[3 * k] = pairs[k].a_wins;
    cells[3 * k + 1] = pairs[k].b_wins;
    cells[3 * k + 2] = pairs[k].ties;
    total += pairs[k].a_wins + pairs[k].b_wins + pairs[k].ties;
  }
  struct fd_rng rng;
  fd_rng_seed(&rng, seed);
  for (unsigned r = 0; ok && r < resamples; r++) {
    fd_rng_multinomial(&rng, total, cells, 3 * npairs, drawn);
    for (size_t k = 0; k < npairs; k++)
      re[k] = (struct fd_bt_pair){pairs[k].a, pairs[k].b, drawn[3 * k], drawn[3 * k + 1], drawn[3 * k + 2]};
    memcpy(th, theta_hat, sizeof(double) * models);
    ok = fit(&w, models, re, npairs, th, true, NULL);
    for (size_t i = 0; ok && i < models; i++) samples[i * resamples + r] = fd_bt_rating(th[i]);
  }
  for (size_t i = 0; ok && i < models; i++) {
    lo[i] = fd_bt_quantile(samples + i * resamples, resamples, 0.025);
    hi[i] = fd_bt_quantile(samples + i * resamples, resamples, 0.975);
  }
  work_free(&w);
  free(cells);
  free(drawn);
  free(re);
  free(th);
  free(samples);
  return ok;
}

void fd_bt_ranks(size_t models, const double *lo, const double *hi, int *rank) {
  for (size_t i = 0; i < models; i++) {
    rank[i] = 1;
    for (size_t j = 0; j < models; j++)
      if (lo[j] > hi[i]) rank[i]++;
  }
}
