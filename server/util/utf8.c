/* utf8.c — UTF-8 well-formedness (see utf8.h). */
#include "util/utf8.h"

#include <stdint.h>
#include <string.h>

bool fd_utf8_valid(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    if (c < 0x80) {
      /* ASCII runs (most text) eight bytes at a time. */
      uint64_t v;
      while (len - i >= 8 && (memcpy(&v, s + i, 8), !(v & 0x8080808080808080ULL))) i += 8;
      if (i < len && s[i] < 0x80) i++;
      continue;
    }
    size_t n;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      cp = c & 0x07;
    } else {
      return false; /* continuation byte as lead, overlong 2-byte lead, or > U+10FFFF */
    }
    if (len - i < n) return false;
    for (size_t k = 1; k < n; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n;
  }
  return true;
}
