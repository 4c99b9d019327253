/* cors_origin.c — a project's allowed_origins setting: its shape, and whether an Origin
 * matches it (declared in cors.h). Pure: no database, no libmicrohttpd, so the fuzz target
 * tests/fuzz/fuzz_cors.c exercises exactly what the daemon runs. */
#include <string.h>

#include "http/cors.h"

/* At most this many origins of at most this many bytes: the list is scanned on every
 * request from a browser. */
#define ORIGINS_MAX 100
#define ORIGIN_MAX_BYTES 256

bool fd_cors_origins_valid(const json_t *v) {
  if (json_is_string(v)) return strcmp(json_string_value(v), "*") == 0;
  if (!json_is_array(v) || json_array_size(v) > ORIGINS_MAX) return false;
  size_t i;
  json_t *o;
  json_array_foreach(v, i, o) {
    const char *s = json_string_value(o);
    if (!s || json_string_length(o) > ORIGIN_MAX_BYTES) return false;
    if (strcmp(s, "*") != 0 && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) return false;
  }
  return true;
}

bool fd_cors_origin_allowed(const json_t *allowed, const char *origin) {
  if (!allowed || !origin) return false;
  if (json_is_string(allowed)) return strcmp(json_string_value(allowed), "*") == 0;
  size_t i;
  json_t *v;
  json_array_foreach(allowed, i, v) {
    const char *s = json_string_value(v);
    if (s && (strcmp(s, "*") == 0 || strcmp(s, origin) == 0)) return true;
  }
  return false;
}
