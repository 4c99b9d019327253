/* text_steps.c — code points and steps (see text_steps.h). */
#include "util/text_steps.h"

#include <string.h>

bool fd_utf8_cp_to_byte(const char *s, size_t len, long long cp, size_t *byte) {
  size_t b = 0;
  for (long long n = 0; n < cp; n++) {
    if (b >= len) return false;
    b++;
    while (b < len && ((unsigned char)s[b] & 0xC0) == 0x80) b++; /* continuation bytes */
  }
  *byte = b;
  return true;
}

static bool blank(const char *line, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strchr(" \t\r\v\f", line[i]) || line[i] == '\0') return false;
  return true;
}

size_t fd_steps_each(const char *s, size_t len, bool (*each)(size_t i, const char *line, size_t n, void *arg),
                     void *arg) {
  size_t steps = 0, at = 0;
  while (at <= len) {
    const char *nl = memchr(s + at, '\n', len - at);
    size_t n = nl ? (size_t)(nl - (s + at)) : len - at;
    if (!blank(s + at, n) && !each(steps++, s + at, n, arg)) return steps;
    at += n + 1;
  }
  return steps;
}

size_t fd_utf8_cp_count(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}
