/* cpu_debt.h — per-project CPU budgets kept as debts (docs/edit-ratio.md "CPU budget"): the
 * CPU a project's work took on a thread is owed, and the debt drains at `share` CPU-seconds
 * per second of wall time; a project that owes anything is passed over until it has paid.
 * Used by the edit-ratio worker (pipeline/edit_ratios.c) and the parse workers
 * (api/parse_offload.c). No lock of its own: callers hold theirs. */
#ifndef FD_UTIL_CPU_DEBT_H
#define FD_UTIL_CPU_DEBT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One project's debt: the first member of the caller's per-project entry. */
struct fd_cpu_account {
  int64_t id;
  int64_t debt_ns;  /* CPU nanoseconds owed as of since_ns */
  int64_t since_ns; /* CLOCK_MONOTONIC */
  bool held;        /* passed over since its last charge (counted once) */
};

/* The accounts of one worker (pool), kept for its life: projects are created by operators,
 * so their number is bounded. */
struct fd_cpu_accounts {
  double share;        /* of one core per project; 0 = no budget */
  uint64_t *throttled; /* counter (util/metrics.h) of projects passed over, once per debt */
  struct fd_cpu_account **all;
  size_t n, cap;
};

/* CLOCK_MONOTONIC and the calling thread's CPU clock, in nanoseconds. */
int64_t fd_mono_ns(void);
int64_t fd_thread_cpu_ns(void);

/* share: of one core (0, or 1 and more: no budget). */
void fd_cpu_accounts_init(struct fd_cpu_accounts *a, double share, uint64_t *throttled);
void fd_cpu_accounts_free(struct fd_cpu_accounts *a);

/* The entry of project id, `size` bytes (at least sizeof(struct fd_cpu_account), which it
 * begins with), created zeroed on first use; NULL when memory runs out. Entries never move. */
void *fd_cpu_account_of(struct fd_cpu_accounts *a, int64_t id, size_t size);

/* What acc still owes at `now` (0: it may be served; always 0 without a budget). */
int64_t fd_cpu_account_owed(const struct fd_cpu_accounts *a, const struct fd_cpu_account *acc, int64_t now);

/* acc owes at now and is passed over: *wake = when it will have paid, if sooner; counted in
 * the throttled counter once per debt. */
void fd_cpu_account_pass(struct fd_cpu_accounts *a, struct fd_cpu_account *acc, int64_t now, int64_t *wake);

/* Work of acc ran from t0 to t1 and used `cpu` nanoseconds of the thread's CPU: the debt
 * grows by it and drains by the share of the work's own wall time (at share 1 on an idle
 * core a project never owes). */
void fd_cpu_account_charge(struct fd_cpu_accounts *a, struct fd_cpu_account *acc, int64_t cpu, int64_t t0, int64_t t1);

/* acc owes nothing any more (a project alone, where the budget does not apply). */
void fd_cpu_account_clear(struct fd_cpu_account *acc);

#endif
