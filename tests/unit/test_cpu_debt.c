/* test_cpu_debt.c — per-project CPU debts (util/cpu_debt.h): a charge is owed and drains at
 * the share of one core with wall time, the work's own duration included; a project passed
 * over is counted once per debt and says when it will have paid; no budget never owes. */
#include <stdint.h>

#include "unit.h"
#include "util/cpu_debt.h"

#define MS 1000000LL

struct entry {
  struct fd_cpu_account acct;
  int extra;
};

static void test_debt_drains_with_wall_time(void) {
  uint64_t throttled = 0;
  struct fd_cpu_accounts a;
  fd_cpu_accounts_init(&a, 0.1, &throttled);
  struct entry *e = fd_cpu_account_of(&a, 7, sizeof *e);
  CHECK(e && e->acct.id == 7 && e->extra == 0);
  CHECK(fd_cpu_account_of(&a, 7, sizeof *e) == e);
  CHECK(fd_cpu_account_of(&a, 8, sizeof *e) != e);
  CHECK(fd_cpu_account_owed(&a, &e->acct, 0) == 0);
  /* 50 ms of CPU in 60 ms of wall time at 0.1 of a core: 50 - 6 = 44 ms owed at t = 60 ms */
  fd_cpu_account_charge(&a, &e->acct, 50 * MS, 0, 60 * MS);
  CHECK(fd_cpu_account_owed(&a, &e->acct, 60 * MS) == 44 * MS);
  /* paid 440 ms later */
  int64_t wake = INT64_MAX;
  fd_cpu_account_pass(&a, &e->acct, 60 * MS, &wake);
  CHECK(wake == 500 * MS);
  CHECK(throttled == 1);
  wake = 100 * MS; /* a sooner wake-up stays; counted once per debt */
  fd_cpu_account_pass(&a, &e->acct, 100 * MS, &wake);
  CHECK(wake == 100 * MS && throttled == 1);
  CHECK(fd_cpu_account_owed(&a, &e->acct, 280 * MS) == 22 * MS);
  CHECK(fd_cpu_account_owed(&a, &e->acct, 500 * MS) == 0);
  /* a new charge after paying counts again once passed over */
  fd_cpu_account_charge(&a, &e->acct, 10 * MS, 500 * MS, 510 * MS);
  CHECK(fd_cpu_account_owed(&a, &e->acct, 510 * MS) == 9 * MS);
  fd_cpu_account_pass(&a, &e->acct, 510 * MS, &wake);
  CHECK(throttled == 2);
  fd_cpu_account_clear(&e->acct);
  CHECK(fd_cpu_account_owed(&a, &e->acct, 510 * MS) == 0);
  /* work that used less than the share of its own wall time owes nothing */
  fd_cpu_account_charge(&a, &e->acct, 5 * MS, 600 * MS, 700 * MS);
  CHECK(fd_cpu_account_owed(&a, &e->acct, 700 * MS) == 0);
  fd_cpu_accounts_free(&a);
}

static void test_no_budget(void) {
  uint64_t throttled = 0;
  for (int i = 0; i < 2; i++) {
    struct fd_cpu_accounts a;
    fd_cpu_accounts_init(&a, i == 0 ? 0 : 1, &throttled); /* 0 and 1: no budget */
    struct entry *e = fd_cpu_account_of(&a, 1, sizeof *e);
    CHECK(e != NULL);
    fd_cpu_account_charge(&a, &e->acct, 1000 * MS, 0, 1 * MS);
    CHECK(fd_cpu_account_owed(&a, &e->acct, 1 * MS) == 0);
    fd_cpu_accounts_free(&a);
  }
  CHECK(throttled == 0);
}

int main(void) {
  RUN(test_debt_drains_with_wall_time);
  RUN(test_no_budget);
  return unit_report();
}
