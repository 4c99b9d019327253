/* cpu_debt.c — see cpu_debt.h. */
#include "util/cpu_debt.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "util/metrics.h"

static int64_t clock_ns(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int64_t fd_mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

int64_t fd_thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

void fd_cpu_accounts_init(struct fd_cpu_accounts *a, double share, uint64_t *throttled) {
  *a = (struct fd_cpu_accounts){.share = share > 0 && share < 1 ? share : 0, .throttled = throttled};
}

void fd_cpu_accounts_free(struct fd_cpu_accounts *a) {
  for (size_t i = 0; i < a->n; i++) free(a->all[i]);
  free(a->all);
  a->all = NULL;
  a->n = a->cap = 0;
}

void *fd_cpu_account_of(struct fd_cpu_accounts *a, int64_t id, size_t size) {
  for (size_t i = 0; i < a->n; i++)
    if (a->all[i]->id == id) return a->all[i];
  if (a->n == a->cap) {
    size_t n = a->cap ? 2 * a->cap : 8;
    struct fd_cpu_account **grown = realloc(a->all, n * sizeof *grown);
    if (!grown) return NULL;
    a->all = grown;
    a->cap = n;
  }
  struct fd_cpu_account *acc = calloc(1, size);
  if (!acc) return NULL;
  acc->id = id;
  a->all[a->n++] = acc;
  return acc;
}

int64_t fd_cpu_account_owed(const struct fd_cpu_accounts *a, const struct fd_cpu_account *acc, int64_t now) {
  if (acc->debt_ns <= 0 || a->share <= 0) return 0;
  double paid = a->share * (double)(now - acc->since_ns);
  return paid >= (double)acc->debt_ns ? 0 : acc->debt_ns - (int64_t)paid;
}

void fd_cpu_account_pass(struct fd_cpu_accounts *a, struct fd_cpu_account *acc, int64_t now, int64_t *wake) {
  int64_t owed = fd_cpu_account_owed(a, acc, now);
  if (owed <= 0) return;
  int64_t at = now + (int64_t)ceil((double)owed / a->share);
  if (at < *wake) *wake = at;
  if (!acc->held) {
    acc->held = true;
    FD_METRIC_ADD(*a->throttled, 1);
  }
}

void fd_cpu_account_charge(struct fd_cpu_accounts *a, struct fd_cpu_account *acc, int64_t cpu, int64_t t0, int64_t t1) {
  acc->held = false;
  if (a->share <= 0) return;
  double owed = (double)fd_cpu_account_owed(a, acc, t0) + (double)cpu - a->share * (double)(t1 - t0);
  acc->debt_ns = owed > 0 ? (int64_t)owed : 0;
  acc->since_ns = t1;
}

void fd_cpu_account_clear(struct fd_cpu_account *acc) {
  acc->debt_ns = 0;
  acc->held = false;
}
