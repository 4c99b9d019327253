/* unit.h — the few assertion helpers the C unit tests share.
 * A test file defines test functions, calls them from main via RUN(), and returns
 * unit_report(): 0 when every CHECK held and at least one ran. Failures print file:line and
 * the expression. A test process that ran no CHECK at all fails, even if main returns 0. */
#ifndef FD_TESTS_UNIT_H
#define FD_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int unit_failures;
static int unit_checks;

#define CHECK(expr)                                                            \
  do {                                                                         \
    unit_checks++;                                                             \
    if (!(expr)) {                                                             \
      unit_failures++;                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr); \
    }                                                                          \
  } while (0)

#define CHECK_STR(a, b)                                                                                \
  do {                                                                                                 \
    const char *unit_a_ = (a), *unit_b_ = (b);                                                         \
    unit_checks++;                                                                                     \
    if (!unit_a_ || !unit_b_ || strcmp(unit_a_, unit_b_) != 0) {                                       \
      unit_failures++;                                                                                 \
      fprintf(stderr, "%s:%d: CHECK_STR failed: %s\n   got: %s\n  want: %s\n", __FILE__, __LINE__, #a, \
              unit_a_ ? unit_a_ : "(null)", unit_b_ ? unit_b_ : "(null)");                             \
    }                                                                                                  \
  } while (0)

#define RUN(fn)                                                                       \
  do {                                                                                \
    int unit_before_ = unit_failures;                                                 \
    fn();                                                                             \
    fprintf(stderr, "%s %s\n", unit_failures == unit_before_ ? "ok  " : "FAIL", #fn); \
  } while (0)

static int unit_reported;

static inline int unit_report(void) {
  unit_reported = 1;
  fprintf(stderr, "%d checks, %d failed\n", unit_checks, unit_failures);
  if (unit_checks == 0) fprintf(stderr, "FAIL: no CHECK ran (a test file that checks nothing fails)\n");
  return unit_failures || unit_checks == 0 ? 1 : 0;
}

/* The safety net for a main that exits 0 without a passing unit_report(): after main
 * returns (or exit()), a process that ran no CHECK, or whose failed CHECKs were never
 * reported, exits 1. It never turns a failure into a pass. */
__attribute__((destructor)) static void unit_at_exit(void) {
  if (unit_checks > 0 && (!unit_failures || unit_reported)) return;
  fflush(stdout);
  fprintf(stderr, "FAIL: %s\n", unit_checks == 0 ? "no CHECK ran" : "failed CHECKs were not reported");
  _exit(1);
}

#endif
