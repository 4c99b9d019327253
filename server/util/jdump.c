/* jdump.c — compact JSON writer matching jansson's output (see jdump.h); ingest/content_hash.c
 * writes the same canonical text with its own null rules. */
#include "util/jdump.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes that need an escape: `"`, `\` and the control characters. */
static bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

/* Whether any of the eight bytes of v needs an escape (exact: the classic "has a byte less
 * than n" and "has a zero byte" tests, whose borrows never make a false "none"). */
static bool word_needs_escape(uint64_t v) {
  const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');
  return (((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs;
}

void fd_jdump_string(const char *s, size_t len, struct fd_buf *b) {
  fd_buf_append(b, "\"", 1);
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    uint64_t v;
    while (len - i >= 8 && (memcpy(&v, s + i, 8), !word_needs_escape(v))) i += 8;
    if (i == len) break;
    unsigned char c = (unsigned char)s[i];
    if (!needs_escape(c)) continue;
    if (i > start) fd_buf_append(b, s + start, i - start);
    start = i + 1;
    char esc[8];
    const char *text = esc;
    size_t n = 2;
    switch (c) {
      case '\\': text = "\\\\"; break;
      case '"': text = "\\\""; break;
      case '\b': text = "\\b"; break;
      case '\f': text = "\\f"; break;
      case '\n': text = "\\n"; break;
      case '\r': text = "\\r"; break;
      case '\t': text = "\\t"; break;
      default:
        snprintf(esc, sizeof esc, "\\u%04X", (unsigned)c);
        n = 6;
        break;
    }
    fd_buf_append(b, text, n);
  }
  if (len > start) fd_buf_append(b, s + start, len - start);
  fd_buf_append(b, "\"", 1);
}

struct key_len {
  const char *key;
  size_t len;
  json_t *value;
};

static int cmp_keys(const void *a, const void *b) {
  const struct key_len *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int r = memcmp(x->key, y->key, n);
  if (r) return r;
  return x->len < y->len ? -1 : x->len > y->len;
}

/* A few keys fit on the stack; records have at most a dozen per object. */
#define STACK_KEYS 16

static bool dump_object(const json_t *j, bool sort, struct fd_buf *b);

static bool dump(const json_t *j, bool sort, struct fd_buf *b) {
  if (!j) return false;
  switch (json_typeof(j)) {
    case JSON_NULL: fd_buf_append(b, "null", 4); break;
    case JSON_TRUE: fd_buf_append(b, "true", 4); break;
    case JSON_FALSE: fd_buf_append(b, "false", 5); break;
    case JSON_INTEGER: {
      char num[32];
      int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
      fd_buf_append(b, num, (size_t)n);
      break;
    }
    case JSON_REAL: {
      char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
      if (!s) return false;
      fd_buf_puts(b, s);
      free(s);
      break;
    }
    case JSON_STRING: fd_jdump_string(json_string_value(j), json_string_length(j), b); break;
    case JSON_ARRAY: {
      size_t n = json_array_size(j);
      fd_buf_append(b, "[", 1);
      for (size_t i = 0; i < n; i++) {
        if (i) fd_buf_append(b, ",", 1);
        if (!dump(json_array_get(j, i), sort, b)) return false;
      }
      fd_buf_append(b, "]", 1);
      break;
    }
    case JSON_OBJECT:
      if (!dump_object(j, sort, b)) return false;
      break;
  }
  return !b->oom;
}

static bool dump_object(const json_t *j, bool sort, struct fd_buf *b) {
  size_t n = json_object_size(j);
  struct key_len stack[STACK_KEYS], *keys = stack;
  if (n > STACK_KEYS && !(keys = malloc(n * sizeof *keys))) {
    b->oom = true;
    return false;
  }
  size_t i = 0;
  for (void *it = json_object_iter((json_t *)j); it && i < n; it = json_object_iter_next((json_t *)j, it), i++) {
    keys[i].key = json_object_iter_key(it);
    keys[i].len = json_object_iter_key_len(it);
    keys[i].value = json_object_iter_value(it);
  }
  if (sort && i > 1) qsort(keys, i, sizeof *keys, cmp_keys);
  bool ok = true;
  fd_buf_append(b, "{", 1);
  for (size_t k = 0; ok && k < i; k++) {
    if (k) fd_buf_append(b, ",", 1);
    fd_jdump_string(keys[k].key, keys[k].len, b);
    fd_buf_append(b, ":", 1);
    ok = dump(keys[k].value, sort, b);
  }
  fd_buf_append(b, "}", 1);
  if (keys != stack) free(keys);
  return ok && !b->oom;
}

bool fd_jdump(const json_t *j, bool sort_keys, struct fd_buf *b) { return dump(j, sort_keys, b) && !b->oom; }
