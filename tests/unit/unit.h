/* unit.h — the few assertion helpers the C unit tests share.
 * A test file defines test functions, calls them from main via RUN(), and returns
 * unit_report(): 0 when every CHECK held. Failures print file:line and the expression. */
#ifndef FD_TESTS_UNIT_H
#define FD_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

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

static inline int unit_report(void) {
  fprintf(stderr, "%d checks, %d failed\n", unit_checks, unit_failures);
  return unit_failures ? 1 : 0;
}

#endif
