/* rfc3339.c — strict RFC 3339 date-time <-> int64 microseconds since the Unix epoch.
 * The calendar arithmetic is Howard Hinnant's days_from_civil/civil_from_days (proleptic
 * Gregorian), exact for every year we accept and free of time zone or locale state, so it
 * is thread-safe unlike mktime/timegm with TZ. */
#include "util/rfc3339.h"

#include <stdio.h>

#define US_PER_SEC INT64_C(1000000)
#define SEC_PER_DAY INT64_C(86400)
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z */
#define MIN_US INT64_C(-62135596800000000)
#define MAX_US INT64_C(253402300799999999)

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* n decimal digits at s into *out; false if any is not a digit. */
static bool digits(const char *s, int n, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  *out = v;
  return true;
}

bool fd_rfc3339_parse(const char *s, size_t len, int64_t *out_us) {
  /* "YYYY-MM-DDThh:mm:ssZ" is the shortest form (20). */
  if (!s || len < 20 || len > 64) return false;
  unsigned year, mon, day, hh, mm, ss;
  if (!digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &mon) || s[7] != '-' || !digits(s + 8, 2, &day) ||
      (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mm) ||
      s[16] != ':' || !digits(s + 17, 2, &ss))
    return false;
  if (year < 1 || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hh > 23 || mm > 59 || ss > 59)
    return false;

  size_t i = 19;
  int64_t frac_us = 0;
  if (s[i] == '.') {
    i++;
    size_t start = i;
    int64_t scale = 100000;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
      if (scale > 0) {
        frac_us += (s[i] - '0') * scale;
        scale /= 10;
      }
      i++;
    }
    if (i == start) return false; /* "." needs at least one digit */
  }
  if (i >= len) return false; /* the zone is mandatory */

  int64_t offset_sec = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    i++;
  } else if (s[i] == '+' || s[i] == '-') {
    unsigned oh, om;
    if (len - i != 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || !digits(s + i + 4, 2, &om)) return false;
    if (oh > 23 || om > 59) return false;
    offset_sec = (int64_t)oh * 3600 + (int64_t)om * 60;
    if (s[i] == '-') offset_sec = -offset_sec;
    i += 6;
  } else {
    return false;
  }
  if (i != len) return false;

  int64_t days = days_from_civil(year, mon, day);
  int64_t sec = days * SEC_PER_DAY + (int64_t)hh * 3600 + (int64_t)mm * 60 + ss - offset_sec;
  int64_t us = sec * US_PER_SEC + frac_us;
  if (us < MIN_US || us > MAX_US) return false; /* representable by fd_rfc3339_format */
  *out_us = us;
  return true;
}

bool fd_rfc3339_format(int64_t us, char out[FD_RFC3339_BUF]) {
  out[0] = '\0';
  /* floor division: instants before 1970 have negative us */
  int64_t sec = us / US_PER_SEC, frac = us % US_PER_SEC;
  if (frac < 0) {
    frac += US_PER_SEC;
    sec -= 1;
  }
  int64_t days = sec / SEC_PER_DAY, sod = sec % SEC_PER_DAY;
  if (sod < 0) {
    sod += SEC_PER_DAY;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  if (y < 1 || y > 9999) return false;
  int n;
  if (frac == 0)
    n = snprintf(out, FD_RFC3339_BUF, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d, (int)(sod / 3600),
                 (int)(sod / 60 % 60), (int)(sod % 60));
  else
    n = snprintf(out, FD_RFC3339_BUF, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", (int)y, m, d, (int)(sod / 3600),
                 (int)(sod / 60 % 60), (int)(sod % 60), (int)frac);
  if (n < 0 || n >= FD_RFC3339_BUF) {
    out[0] = '\0';
    return false;
  }
  return true;
}
