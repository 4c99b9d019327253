/* test_rfc3339.c — strict RFC 3339 parsing and UTC formatting (util/rfc3339.h).
 * Expected instants were computed independently with Python's datetime. */
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "util/rfc3339.h"

static bool parse(const char *s, int64_t *us) { return fd_rfc3339_parse(s, strlen(s), us); }

/* Parses and equals `want`. */
static bool parses_to(const char *s, int64_t want) {
  int64_t us = INT64_MIN;
  return parse(s, &us) && us == want;
}

static bool rejects(const char *s) {
  int64_t us = 42;
  return !parse(s, &us) && us == 42; /* and leaves the output alone */
}

static void test_valid(void) {
  CHECK(parses_to("1970-01-01T00:00:00Z", 0));
  CHECK(parses_to("2026-11-25T10:00:00Z", INT64_C(1795600800000000)));
  CHECK(parses_to("2026-11-25T10:00:00.123456Z", INT64_C(1795600800123456)));
  CHECK(parses_to("2026-11-25T10:00:00+00:00", INT64_C(1795600800000000)));
  CHECK(parses_to("2026-11-25T10:00:00-00:00", INT64_C(1795600800000000)));
  CHECK(parses_to("2026-11-25T12:30:00+02:30", INT64_C(1795600800000000)));
  CHECK(parses_to("2026-11-25T00:00:00-05:00", INT64_C(1795582800000000)));
  CHECK(parses_to("2024-02-29T23:59:59Z", INT64_C(1709251199000000)));
  CHECK(parses_to("2000-03-01T00:00:00Z", INT64_C(951868800000000)));
  CHECK(parses_to("1969-12-31T23:59:59.5Z", INT64_C(-500000)));
  CHECK(parses_to("0001-01-01T00:00:00Z", INT64_C(-62135596800000000)));
  CHECK(parses_to("9999-12-31T23:59:59.999999Z", INT64_C(253402300799999999)));
  CHECK(parses_to("1900-02-28T12:00:00Z", INT64_C(-2203934400000000)));
  /* lower-case t and z (RFC 3339 5.6 NOTE) */
  CHECK(parses_to("2026-11-25t10:00:00z", INT64_C(1795600800000000)));
  /* fraction: 1 digit, 3 digits, 9 digits truncated (not rounded) to microseconds */
  CHECK(parses_to("2026-11-25T10:00:00.1Z", INT64_C(1795600800100000)));
  CHECK(parses_to("2026-11-25T10:00:00.120Z", INT64_C(1795600800120000)));
  CHECK(parses_to("2026-11-25T10:00:00.123456999Z", INT64_C(1795600800123456)));
  CHECK(parses_to("2026-11-25T10:00:00.999999999Z", INT64_C(1795600800999999)));
}

static void test_invalid(void) {
  CHECK(rejects(""));
  CHECK(rejects("2026-11-25"));
  CHECK(rejects("2026-11-25T10:00:00"));       /* no zone */
  CHECK(rejects("2026-11-25 10:00:00Z"));      /* space instead of T */
  CHECK(rejects("2026-11-25T10:00Z"));         /* no seconds */
  CHECK(rejects("2026-11-25T10:00:00.Z"));     /* empty fraction */
  CHECK(rejects("2026-11-25T10:00:00,5Z"));    /* comma fraction */
  CHECK(rejects("2026-11-25T10:00:00+0100"));  /* offset without colon */
  CHECK(rejects("2026-11-25T10:00:00+01"));    /* short offset */
  CHECK(rejects("2026-11-25T10:00:00+24:00")); /* offset hour */
  CHECK(rejects("2026-11-25T10:00:00+01:60")); /* offset minute */
  CHECK(rejects("2026-11-25T10:00:00ZZ"));     /* trailing */
  CHECK(rejects("2026-11-25T10:00:00Z "));
  CHECK(rejects(" 2026-11-25T10:00:00Z"));
  CHECK(rejects("2026-13-01T00:00:00Z"));
  CHECK(rejects("2026-00-01T00:00:00Z"));
  CHECK(rejects("2026-01-00T00:00:00Z"));
  CHECK(rejects("2026-01-32T00:00:00Z"));
  CHECK(rejects("2026-04-31T00:00:00Z"));
  CHECK(rejects("2025-02-29T00:00:00Z"));                             /* not a leap year */
  CHECK(rejects("1900-02-29T00:00:00Z"));                             /* century, not leap */
  CHECK(parses_to("2000-02-29T00:00:00Z", INT64_C(951782400000000))); /* 400-year leap */
  CHECK(rejects("2026-11-25T24:00:00Z"));
  CHECK(rejects("2026-11-25T23:60:00Z"));
  CHECK(rejects("2016-12-31T23:59:60Z")); /* leap seconds are not accepted */
  CHECK(rejects("0000-01-01T00:00:00Z")); /* no year 0 */
  /* the instant (after the offset) must be formattable: years 0001..9999 in UTC */
  CHECK(rejects("0001-01-01T00:00:00+01:00"));
  CHECK(rejects("0001-01-01T00:59:59.999999+01:00"));
  CHECK(parses_to("0001-01-01T01:00:00+01:00", INT64_C(-62135596800000000)));
  CHECK(parses_to("0001-01-01T00:00:00-01:00", INT64_C(-62135593200000000)));
  CHECK(rejects("9999-12-31T23:59:59-00:01"));
  CHECK(parses_to("9999-12-31T23:59:59.999999+00:00", INT64_C(253402300799999999)));
  CHECK(parses_to("9999-12-31T23:59:59+23:59", INT64_C(253402214459000000)));
  CHECK(rejects("+2026-11-25T10:00:00Z"));
  CHECK(rejects("20261-11-25T10:00:00Z"));
  CHECK(rejects("2026-1-25T10:00:00Z"));
  CHECK(rejects("2026-11-25T10:00:00.1234567890123456789012345678901234567890123456789Z")); /* > 64 chars */
  CHECK(rejects("２026-11-25T10:00:00Z"));                                                  /* non-ASCII digit */
  /* an embedded NUL within the given length */
  int64_t us = 7;
  CHECK(!fd_rfc3339_parse("2026-11-25T10:00:00\0Z", 21, &us) && us == 7);
  /* the length bounds the parse: a valid prefix alone is not enough */
  CHECK(!fd_rfc3339_parse("2026-11-25T10:00:00Z", 19, &us));
}

static void test_format(void) {
  char buf[FD_RFC3339_BUF];
  CHECK(fd_rfc3339_format(0, buf));
  CHECK_STR(buf, "1970-01-01T00:00:00Z");
  CHECK(fd_rfc3339_format(INT64_C(1795600800000000), buf));
  CHECK_STR(buf, "2026-11-25T10:00:00Z");
  CHECK(fd_rfc3339_format(INT64_C(1795600800123456), buf));
  CHECK_STR(buf, "2026-11-25T10:00:00.123456Z");
  CHECK(fd_rfc3339_format(INT64_C(1795600800100000), buf));
  CHECK_STR(buf, "2026-11-25T10:00:00.100000Z");
  CHECK(fd_rfc3339_format(INT64_C(-500000), buf));
  CHECK_STR(buf, "1969-12-31T23:59:59.500000Z");
  CHECK(fd_rfc3339_format(INT64_C(1709251199000000), buf));
  CHECK_STR(buf, "2024-02-29T23:59:59Z");
  CHECK(fd_rfc3339_format(INT64_C(-62135596800000000), buf));
  CHECK_STR(buf, "0001-01-01T00:00:00Z");
  CHECK(fd_rfc3339_format(INT64_C(253402300799999999), buf));
  CHECK_STR(buf, "9999-12-31T23:59:59.999999Z");
  CHECK(!fd_rfc3339_format(INT64_C(-62135596800000001), buf)); /* year 0 */
  CHECK_STR(buf, "");
  CHECK(!fd_rfc3339_format(INT64_C(253402300800000000), buf)); /* year 10000 */
  CHECK(!fd_rfc3339_format(INT64_MIN, buf));
  CHECK(!fd_rfc3339_format(INT64_MAX, buf));
}

/* format(parse(x)) is the canonical UTC form, and parse(format(us)) == us. */
static void test_round_trip(void) {
  char buf[FD_RFC3339_BUF];
  int64_t us = 0;
  CHECK(parse("2026-11-25T12:30:00.000001+02:30", &us));
  CHECK(fd_rfc3339_format(us, buf));
  CHECK_STR(buf, "2026-11-25T10:00:00.000001Z");
  for (int64_t t = INT64_C(-62135596800000000); t < INT64_C(253402300799999999); t += INT64_C(7777777777777)) {
    int64_t back = 0;
    if (!fd_rfc3339_format(t, buf) || !parse(buf, &back) || back != t) {
      CHECK(!"round trip");
      return;
    }
  }
  CHECK(1);
}

int main(void) {
  RUN(test_valid);
  RUN(test_invalid);
  RUN(test_format);
  RUN(test_round_trip);
  return unit_report();
}
