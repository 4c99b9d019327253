/* fuzz_rfc3339.c — libFuzzer target for util/rfc3339.c, the time parser behind every
 * created_at, since and until the network sends.
 *
 * Invariants (abort = finding):
 * - a parse that succeeds took 20..64 bytes without NUL, and its instant equals the one
 *   computed independently with timegm() from the same fields (fraction truncated to µs);
 * - it formats, and the formatted text parses back to the same instant;
 * - formatting the first 8 input bytes as an instant succeeds exactly inside years
 *   0001..9999, and round-trips. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/rfc3339.h"

#define MIN_US INT64_C(-62135596800000000) /* 0001-01-01T00:00:00Z */
#define MAX_US INT64_C(253402300799999999) /* 9999-12-31T23:59:59.999999Z */

/* The instant of an accepted text, computed another way: fields by sscanf, the calendar by
 * glibc's timegm (64-bit time_t), the zone and fraction by hand. */
static int64_t independent_us(const char *s, size_t len) {
  struct tm tm = {0};
  int y, mo, d, h, mi, se;
  if (sscanf(s, "%4d-%2d-%2d%*c%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6) abort();
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  int64_t sec = (int64_t)timegm(&tm);
  int64_t frac = 0;
  size_t i = 19;
  if (s[i] == '.') {
    int64_t scale = 100000;
    for (i++; s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
      if (scale > 0) frac += (s[i] - '0') * scale;
  }
  if (s[i] == '+' || s[i] == '-') {
    int64_t off = ((s[i + 1] - '0') * 10 + (s[i + 2] - '0')) * 3600 + ((s[i + 4] - '0') * 10 + (s[i + 5] - '0')) * 60;
    sec += s[i] == '+' ? -off : off;
    i += 6;
  } else {
    i++; /* Z */
  }
  if (i != len) abort();
  return sec * 1000000 + frac;
}

static void round_trip(int64_t us) {
  char out[FD_RFC3339_BUF];
  bool ok = fd_rfc3339_format(us, out);
  if (ok != (us >= MIN_US && us <= MAX_US)) abort();
  if (!ok) return;
  size_t n = strlen(out);
  if (n != 20 && n != 27) abort();
  int64_t back;
  if (!fd_rfc3339_parse(out, n, &back) || back != us) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* a copy of exactly `size` bytes, so ASan sees any read past the length */
  char *s = malloc(size ? size : 1);
  if (!s) return 0;
  memcpy(s, data, size);
  int64_t us = INT64_MIN;
  if (fd_rfc3339_parse(s, size, &us)) {
    if (size < 20 || size > 64 || memchr(s, '\0', size)) abort();
    char *z = strndup(s, size);
    if (!z || independent_us(z, size) != us) abort();
    free(z);
    round_trip(us);
  } else if (us != INT64_MIN) {
    abort(); /* *out_us must stay untouched on failure */
  }
  free(s);
  if (size >= 8) {
    int64_t raw;
    memcpy(&raw, data, sizeof raw);
    round_trip(raw);
    round_trip(raw % (MAX_US + 1)); /* most raw values lie outside the years; fold some in */
  }
  return 0;
}
