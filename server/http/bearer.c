/* bearer.c — parsing `Authorization: Bearer <key>` (see bearer.h). */
#include "http/bearer.h"

#include <string.h>
#include <strings.h>

/* Longer than any key we issue; bounds the hashing an unknown key costs. */
#define KEY_MAX_BYTES 256

const char *fd_bearer_key(const char *header, size_t *len) {
  if (!header || strncasecmp(header, "Bearer ", 7) != 0) return NULL;
  const char *key = header + 7;
  while (*key == ' ') key++;
  size_t n = strlen(key);
  while (n && key[n - 1] == ' ') n--;
  if (n == 0 || n > KEY_MAX_BYTES) return NULL;
  *len = n;
  return key;
}
