/* validate_common.c — body parsing, batch envelope, JSON paths and the field checks
 * shared by validate_feedback.c and validate_messages.c (contracts in validate_common.h). */
#include "ingest/validate_common.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/rfc3339.h"

json_t *fd_json_parse_object_new(const void *body, size_t len, const struct fd_limits *lim, struct fd_error *err) {
  if (len > lim->body_max_bytes) {
    fd_error_set(err, FD_ERR_PAYLOAD_TOO_LARGE, NULL, "The request body is larger than %zu bytes.",
                 lim->body_max_bytes);
    return NULL;
  }
  json_error_t jerr;
  /* Never pass jerr.text on: it quotes the body, which may be binary or huge. */
  json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    fd_error_set(err, FD_ERR_INVALID_JSON, NULL,
                 "The body is not valid JSON (line %d, column %d): it must be one UTF-8 JSON object "
                 "without \\u0000 and without repeated keys.",
                 jerr.line, jerr.column);
    return NULL;
  }
  if (!json_is_object(root)) {
    json_decref(root);
    fd_error_set(err, FD_ERR_INVALID_JSON, NULL, "The body must be a JSON object.");
    return NULL;
  }
  return root;
}

bool fd_batch_items(const json_t *body, const char *key, const struct fd_limits *lim, json_t **items,
                    struct fd_error *err) {
  if (!json_is_object(body)) return fd_error_set(err, FD_ERR_INVALID_JSON, NULL, "The body must be a JSON object.");
  const char *known[] = {key, NULL};
  const char *unknown = fd_first_unknown_key(body, known);
  if (unknown) {
    char path[FD_PATH_MAX];
    fd_path_key(path, NULL, unknown);
    return fd_error_set(err, FD_ERR_UNKNOWN_FIELD, path, "The body may only contain \"%s\".", key);
  }
  json_t *arr = json_object_get(body, key);
  if (!arr) return fd_error_set(err, FD_ERR_MISSING_FIELD, key, "The body needs a \"%s\" array.", key);
  if (!json_is_array(arr)) return fd_error_set(err, FD_ERR_INVALID_FIELD, key, "\"%s\" must be an array.", key);
  if (json_array_size(arr) > lim->batch_max_items)
    return fd_error_set(err, FD_ERR_PAYLOAD_TOO_LARGE, key, "\"%s\" has more than %zu items.", key,
                        lim->batch_max_items);
  *items = arr;
  return true;
}

/* Length of the longest prefix of s[0..len) that does not end inside a UTF-8 sequence. */
static size_t utf8_boundary(const char *s, size_t len) {
  size_t i = len;
  /* step back over continuation bytes, then check whether the lead byte's sequence fits */
  while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--;
  if (i == 0) return len; /* no lead byte: leave as is */
  unsigned char lead = (unsigned char)s[i - 1];
  size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  return len - (i - 1) >= need ? len : i - 1;
}

static void path_finish(char out[FD_PATH_MAX], int n) {
  if (n < 0) {
    out[0] = '\0';
    return;
  }
  if ((size_t)n >= FD_PATH_MAX) out[utf8_boundary(out, FD_PATH_MAX - 1)] = '\0';
}

/* Appends s at out[n] within FD_PATH_MAX - 1 bytes, as snprintf would; returns the length
 * the untruncated text would have. */
static size_t path_append(char out[FD_PATH_MAX], size_t n, const char *s) {
  size_t len = strlen(s);
  if (n < FD_PATH_MAX - 1) memcpy(out + n, s, len < FD_PATH_MAX - 1 - n ? len : FD_PATH_MAX - 1 - n);
  return n + len;
}

/* Every field of every item gets its path, so this runs a dozen times per event: plain
 * copies rather than snprintf, with the same result. */
void fd_path_key(char out[FD_PATH_MAX], const char *base, const char *key) {
  size_t n = 0;
  if (base && *base) {
    n = path_append(out, n, base);
    n = path_append(out, n, ".");
  }
  n = path_append(out, n, key);
  out[n < FD_PATH_MAX - 1 ? n : FD_PATH_MAX - 1] = '\0';
  path_finish(out, n > INT_MAX ? INT_MAX : (int)n);
}

void fd_path_index(char out[FD_PATH_MAX], const char *base, size_t index) {
  char num[24];
  char *d = num + sizeof num;
  *--d = '\0';
  *--d = ']';
  do {
    *--d = (char)('0' + index % 10);
    index /= 10;
  } while (index);
  *--d = '[';
  size_t n = path_append(out, 0, base ? base : "");
  n = path_append(out, n, d);
  out[n < FD_PATH_MAX - 1 ? n : FD_PATH_MAX - 1] = '\0';
  path_finish(out, n > INT_MAX ? INT_MAX : (int)n);
}

const char *fd_first_unknown_key(const json_t *obj, const char *const *known) {
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)obj, key, val) {
    bool ok = false;
    for (const char *const *k = known; *k; k++)
      if (strcmp(*k, key) == 0) {
        ok = true;
        break;
      }
    if (!ok) return key;
  }
  return NULL;
}

bool fd_check_string(const json_t *v, size_t min_bytes, size_t max_bytes, const char *path, struct fd_error *err) {
  if (!json_is_string(v)) return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "This field must be a string.");
  const char *s = json_string_value(v);
  size_t len = json_string_length(v);
  if (memchr(s, '\0', len) || !fd_utf8_valid(s, len))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "This field must be UTF-8 text without NUL characters.");
  if (len < min_bytes)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "This field must be at least %zu bytes long.", min_bytes);
  if (len > max_bytes)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "This field must be at most %zu bytes of UTF-8.", max_bytes);
  return true;
}

bool fd_id_chars_ok(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == ':' || c == '-'))
      return false;
  }
  return true;
}

bool fd_check_id(const json_t *v, const struct fd_limits *lim, const char *path, struct fd_error *err) {
  size_t max = lim->id_max_bytes < FD_ID_MAX_BYTES ? lim->id_max_bytes : FD_ID_MAX_BYTES;
  size_t min = lim->id_min_bytes ? lim->id_min_bytes : 1;
  if (!json_is_string(v)) return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "An id must be a string.");
  size_t len = json_string_length(v);
  if (len < min || len > max)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "An id must be %zu to %zu characters long.", min, max);
  if (!fd_id_chars_ok(json_string_value(v), len))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "An id may only contain A-Z a-z 0-9 . _ : -");
  return true;
}

bool fd_check_tags(const json_t *v, const struct fd_limits *lim, const char *path, const char ***out, size_t *n,
                   struct fd_error *err) {
  if (!json_is_array(v)) return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "tags must be an array of strings.");
  size_t count = json_array_size(v);
  if (count > lim->tags_max_items)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "At most %zu tags are allowed.", lim->tags_max_items);
  for (size_t i = 0; i < count; i++) {
    char ipath[FD_PATH_MAX];
    fd_path_index(ipath, path, i);
    if (!fd_check_string(json_array_get(v, i), lim->tag_min_bytes, lim->tag_max_bytes, ipath, err)) return false;
  }
  const char **tags = malloc((count ? count : 1) * sizeof *tags);
  if (!tags) return fd_error_set(err, FD_ERR_INTERNAL, NULL, "Out of memory.");
  size_t distinct = 0;
  for (size_t i = 0; i < count; i++) {
    const json_t *t = json_array_get(v, i);
    bool seen = false;
    for (size_t k = 0; k < distinct && !seen; k++) seen = strcmp(tags[k], json_string_value(t)) == 0;
    if (!seen) tags[distinct++] = json_string_value(t);
  }
  *out = tags;
  *n = distinct;
  return true;
}

/* True when v nests at most `budget` levels (v itself counts as one when it is a container).
 * Stops descending once the budget is exhausted, so its own recursion is bounded by the
 * limit whatever the input (jansson's parser already caps nesting at 2048). */
static bool depth_within(const json_t *v, size_t budget) {
  if (!json_is_object(v) && !json_is_array(v)) return true;
  if (budget == 0) return false;
  if (json_is_array(v)) {
    for (size_t i = 0; i < json_array_size(v); i++)
      if (!depth_within(json_array_get(v, i), budget - 1)) return false;
    return true;
  }
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)v, key, val) {
    if (!depth_within(val, budget - 1)) return false;
  }
  return true;
}

bool fd_check_metadata(const json_t *v, const struct fd_limits *lim, const char *path, char **compact_new,
                       struct fd_error *err) {
  if (!json_is_object(v)) return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "metadata must be a JSON object.");
  if (!depth_within(v, lim->metadata_max_depth))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "metadata may nest at most %zu levels.",
                        lim->metadata_max_depth);
  /* Size first without allocating (json_dumpb with no buffer returns the needed size). */
  size_t size = json_dumpb(v, NULL, 0, JSON_COMPACT);
  if (size == 0) return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "metadata cannot be serialised.");
  if (size > lim->metadata_max_bytes)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "metadata must be at most %zu bytes as compact JSON.",
                        lim->metadata_max_bytes);
  char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
  if (!text) return fd_error_set(err, FD_ERR_INTERNAL, NULL, "Out of memory.");
  *compact_new = text;
  return true;
}

bool fd_check_timestamp(const json_t *v, const char *path, int64_t *out_us, struct fd_error *err) {
  if (!json_is_string(v) || !fd_rfc3339_parse(json_string_value(v), json_string_length(v), out_us))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, path,
                        "This field must be an RFC 3339 date-time with a zone, e.g. 2026-11-25T10:00:00Z.");
  return true;
}

bool fd_check_int_range(const json_t *v, long long lo, long long hi, const char *path, long long *out,
                        struct fd_error *err) {
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, path, "This field must be an integer from %lld to %lld.", lo, hi);
  *out = json_integer_value(v);
  return true;
}

json_t *fd_json_member(const json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  return fd_json_given(v) ? v : NULL;
}

const char *fd_role_static(const char *s) {
  static const char *const roles[] = {"system", "user", "assistant", "tool"};
  for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
    if (strcmp(s, roles[i]) == 0) return roles[i];
  return NULL;
}
