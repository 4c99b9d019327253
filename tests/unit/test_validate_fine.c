/* test_validate_fine.c — the text arithmetic of span and step events (ingest/validate_fine.h):
 * code-point offsets over multi-byte characters, emoji and combining marks (expected byte
 * offsets counted by hand from the UTF-8 encodings), and the steps of a message. */
#include <string.h>

#include "ingest/validate_fine.h"
#include "unit.h"
#include "util/text_steps.h"

static void test_cp_to_byte(void) {
  /* "a" (1 byte) "é" (2) "e"+U+0301 (1+2) "😀" (4) "中" (3): 6 code points, 13 bytes */
  const char *s =
      "a\xc3\xa9"
      "e\xcc\x81"
      "\xf0\x9f\x98\x80"
      "\xe4\xb8\xad";
  size_t len = strlen(s), b = 99;
  const size_t want[] = {0, 1, 3, 4, 6, 10, 13};
  CHECK(len == 13);
  for (long long cp = 0; cp <= 6; cp++) {
    CHECK(fd_utf8_cp_to_byte(s, len, cp, &b));
    CHECK(b == want[cp]);
  }
  CHECK(!fd_utf8_cp_to_byte(s, len, 7, &b));
  CHECK(fd_utf8_cp_to_byte("", 0, 0, &b) && b == 0);
  CHECK(!fd_utf8_cp_to_byte("", 0, 1, &b));
}

struct seen {
  size_t n;
  char lines[8][32];
};

static bool collect(size_t i, const char *line, size_t n, void *arg) {
  struct seen *s = arg;
  CHECK(i == s->n);
  if (s->n < 8 && n < 32) {
    memcpy(s->lines[s->n], line, n);
    s->lines[s->n][n] = '\0';
  }
  s->n++;
  return true;
}

static void test_steps(void) {
  struct seen s = {0};
  CHECK(fd_steps_each("one\n\n \t\r\n  two\nthree\n", strlen("one\n\n \t\r\n  two\nthree\n"), collect, &s) == 3);
  CHECK(s.n == 3);
  CHECK_STR(s.lines[0], "one");
  CHECK_STR(s.lines[1], "  two");
  CHECK_STR(s.lines[2], "three");
  struct seen e = {0};
  CHECK(fd_steps_each("", 0, collect, &e) == 0);
  CHECK(fd_steps_each("\n\n", 2, collect, &e) == 0);
  struct seen one = {0};
  CHECK(fd_steps_each("x\r", 2, collect, &one) == 1);
  CHECK_STR(one.lines[0], "x\r");
}

int main(void) {
  RUN(test_cp_to_byte);
  RUN(test_steps);
  return unit_report();
}
