/* fuzz_auth_cors.c — libFuzzer target for the pure header handling of auth and CORS: the
 * Authorization header (http/bearer.c) and an Origin against a project's allowed_origins
 * (http/cors_origin.c). Input: "<Authorization>\n<Origin>\n<allowed_origins JSON>".
 *
 * Invariants (abort = finding):
 * - a bearer key lies inside the header after "Bearer " (any case), is 1..256 bytes, has
 *   no space at either end; the header is refused exactly when no such key exists;
 * - fd_cors_origin_allowed agrees with a plain reading of the rule ("*", or the exact
 *   origin listed), and a setting fd_cors_origins_valid accepts is "*" or a short list. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/bearer.h"
#include "http/cors.h"

static void bearer(const char *h) {
  size_t len = 0;
  const char *key = fd_bearer_key(h, &len);
  /* independently: strip the scheme and the spaces around the rest */
  bool shaped = strncasecmp(h, "Bearer ", 7) == 0;
  const char *s = h + (shaped ? 7 : 0);
  while (shaped && *s == ' ') s++;
  size_t n = shaped ? strlen(s) : 0;
  while (n && s[n - 1] == ' ') n--;
  bool want = shaped && n >= 1 && n <= 256;
  if ((key != NULL) != want) abort();
  if (!key) return;
  if (key != s || len != n || key[0] == ' ' || key[len - 1] == ' ') abort();
}

static void origin(const char *origin, const json_t *allowed) {
  bool got = fd_cors_origin_allowed(allowed, origin);
  bool want = false;
  if (json_is_string(allowed)) want = strcmp(json_string_value(allowed), "*") == 0;
  for (size_t i = 0; i < json_array_size(allowed); i++) {
    const char *s = json_string_value(json_array_get(allowed, i));
    want = want || (s && (strcmp(s, "*") == 0 || strcmp(s, origin) == 0));
  }
  if (got != want) abort();
  if (fd_cors_origins_valid(allowed) && !json_is_string(allowed) && json_array_size(allowed) > 100) abort();
  if (fd_cors_origin_allowed(NULL, origin)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = strndup((const char *)data, size);
  if (!buf) return 0;
  char *nl = strchr(buf, '\n');
  const char *org = "", *rest = "";
  if (nl) {
    *nl = '\0';
    org = nl + 1;
    char *nl2 = strchr(nl + 1, '\n');
    if (nl2) {
      *nl2 = '\0';
      rest = nl2 + 1;
    }
  }
  bearer(buf);
  json_t *allowed = json_loads(rest, JSON_DECODE_ANY, NULL);
  if (allowed) {
    origin(org, allowed);
    json_decref(allowed);
  }
  free(buf);
  return 0;
}
