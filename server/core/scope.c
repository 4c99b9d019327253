/* scope.c — scope names and bits, defined once. */
#include "core/scope.h"

#include <string.h>

static const struct {
  const char *name;
  enum fd_scope bit;
} scopes[] = {
    {"ingest", FD_SCOPE_INGEST},
    {"read", FD_SCOPE_READ},
    {"export", FD_SCOPE_EXPORT},
    {"admin", FD_SCOPE_ADMIN},
};
#define N_SCOPES (sizeof scopes / sizeof scopes[0])

static bool scope_bit(const char *name, size_t len, unsigned *bits) {
  for (size_t i = 0; i < N_SCOPES; i++) {
    if (strlen(scopes[i].name) == len && strncmp(scopes[i].name, name, len) == 0) {
      *bits |= scopes[i].bit;
      return true;
    }
  }
  return false;
}

bool fd_scopes_parse_list(const char *csv, unsigned *out) {
  *out = 0;
  const char *p = csv;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (!scope_bit(p, len, out)) return false;
    p += len + (comma ? 1 : 0);
  }
  return *out != 0;
}

bool fd_scopes_parse_json(const json_t *arr, unsigned *out) {
  *out = 0;
  if (!json_is_array(arr) || json_array_size(arr) == 0) return false;
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    if (!json_is_string(v) || !scope_bit(json_string_value(v), json_string_length(v), out)) return false;
  }
  return true;
}

json_t *fd_scopes_json(unsigned bits) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < N_SCOPES; i++)
    if (bits & scopes[i].bit) json_array_append_new(a, json_string(scopes[i].name));
  return a;
}

void fd_scopes_csv(unsigned bits, char *buf, size_t len) {
  buf[0] = '\0';
  for (size_t i = 0; i < N_SCOPES; i++) {
    if (!(bits & scopes[i].bit)) continue;
    if (buf[0]) strncat(buf, ",", len - strlen(buf) - 1);
    strncat(buf, scopes[i].name, len - strlen(buf) - 1);
  }
}

bool fd_scopes_allow(unsigned granted, unsigned required) {
  if (granted & FD_SCOPE_ADMIN) return true;
  return (granted & required) == required;
}
