/* rfc3339.h — strict RFC 3339 date-time parsing and formatting, as int64 microseconds
 * since 1970-01-01T00:00:00Z (the resolution of PostgreSQL's timestamptz).
 *
 * Accepted (RFC 3339 section 5.6 "date-time", nothing looser):
 *   YYYY-MM-DD "T" hh:mm:ss [ "." 1*DIGIT ] ( "Z" / ("+"/"-") hh:mm )
 * - "T" and "Z" may be lower case (RFC 3339 5.6 NOTE); a space instead of "T" is rejected;
 * - years 0001..9999 (PostgreSQL has no year 0), real calendar dates (Feb 29 only in leap
 *   years), hours 00..23, minutes 00..59, seconds 00..59 — leap seconds ("60") are rejected
 *   because we cannot know which ones happened;
 * - offsets -23:59..+23:59 ("-00:00" is accepted and means UTC);
 * - a fraction of any number of digits (at most 64 characters in all); digits beyond
 *   microseconds are truncated, not rounded, so parsing never carries into the next second.
 * The instant itself, once the offset is applied, must also lie in 0001-01-01T00:00:00Z ..
 * 9999-12-31T23:59:59.999999Z (so 0001-01-01T00:00:00+01:00 is rejected): every parsed
 * value can then be formatted back, which the database writer relies on.
 *
 * Formatting always emits UTC with "Z": "2026-11-25T10:00:00Z" when the microseconds are
 * zero, otherwise exactly six fraction digits "2026-11-25T10:00:00.123450Z". (Whole seconds
 * stay short, like the stats buckets of docs/api.md; sub-second values keep a fixed width.) */
#ifndef FD_UTIL_RFC3339_H
#define FD_UTIL_RFC3339_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DDThh:mm:ss.ffffffZ" plus NUL = 28; rounded up. */
#define FD_RFC3339_BUF 32

/* Parse s[0..len) (no NUL needed, none allowed inside). True and *out_us set on success;
 * false (and *out_us untouched) for anything else. */
bool fd_rfc3339_parse(const char *s, size_t len, int64_t *out_us) __attribute__((warn_unused_result));

/* Format us as UTC into out[FD_RFC3339_BUF]. False (out = "") when the instant is outside
 * years 0001..9999. */
bool fd_rfc3339_format(int64_t us, char out[FD_RFC3339_BUF]) __attribute__((warn_unused_result));

#endif
