/* content_hash.c — canonical JSON + SHA-256 for idempotency (see content_hash.h).
 *
 * The canonical text is exactly what json_dumps(obj without its dropped nulls,
 * JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) prints — the form every stored hash was
 * computed from, so it must never change by a byte — but it is written here directly:
 * through jansson (a filtered copy of the object, a key array and qsort per object, a
 * callback per token, a heap buffer grown from 16 bytes) it cost ~4% of the CPU of a
 * POST /v1/feedback. Real numbers, which only metadata can hold, are still printed by
 * jansson, so its float formatting is kept as it is. tests/unit/test_content_hash.c
 * compares this with json_dumps on random documents. */
#include "ingest/content_hash.h"

#include <stdlib.h>
#include <string.h>

/* The text is built in a stack buffer and moves to the heap only when it outgrows it. */
struct sink {
  char *text;
  size_t len, cap;
  bool on_heap;
  char stack[2048];
};

static bool put(struct sink *s, const char *data, size_t size) {
  if (s->len + size > s->cap) {
    size_t cap = s->cap * 2;
    while (cap < s->len + size) cap *= 2;
    char *t = s->on_heap ? realloc(s->text, cap) : malloc(cap);
    if (!t) return false;
    if (!s->on_heap) memcpy(t, s->text, s->len);
    s->text = t;
    s->cap = cap;
    s->on_heap = true;
  }
  memcpy(s->text + s->len, data, size);
  s->len += size;
  return true;
}

/* jansson's escaping without JSON_ENSURE_ASCII / JSON_ESCAPE_SLASH: '"', '\\' and the
 * control characters below 0x20 (short forms where JSON has them, else \u00XX with
 * upper-case hex); every other byte as it is (strings are valid UTF-8). */
static bool put_string(struct sink *s, const char *str, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  if (!put(s, "\"", 1)) return false;
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)str[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t n = 2;
    switch (c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      default:
        esc[1] = 'u';
        esc[2] = '0';
        esc[3] = '0';
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 0xf];
        n = 6;
        break;
    }
    if (!put(s, str + start, i - start) || !put(s, esc, n)) return false;
    start = i + 1;
  }
  return put(s, str + start, len - start) && put(s, "\"", 1);
}

static bool put_integer(struct sink *s, json_int_t v) {
  char buf[24];
  char *p = buf + sizeof buf;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--p = '-';
  return put(s, p, (size_t)(buf + sizeof buf - p));
}

static bool put_real(struct sink *s, const json_t *v) {
  char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  bool ok = text && put(s, text, strlen(text));
  free(text);
  return ok;
}

struct member {
  const char *key;
  size_t len;
  json_t *value;
};

/* jansson's key order: bytewise, a prefix before the longer key */
static int member_cmp(const void *a, const void *b) {
  const struct member *x = a, *y = b;
  int r = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
  if (r) return r;
  return x->len < y->len ? -1 : x->len > y->len;
}

static bool is_key(const struct member *m, const char *name) {
  return m->len == strlen(name) && memcmp(m->key, name, m->len) == 0;
}

enum nulls { KEEP_NULLS, DROP_NULLS, DROP_NULLS_NESTED };

static bool put_value(struct sink *s, const json_t *v, enum nulls nulls);

/* An object with sorted keys; with DROP_NULLS* its null members are left out, and with
 * DROP_NULLS_NESTED also those of its "message" and "other_message" objects (see
 * content_hash.h for why exactly these). */
static bool put_object(struct sink *s, const json_t *obj, enum nulls nulls) {
  struct member stack[32], *m = stack;
  size_t n = 0, size = json_object_size(obj);
  if (size > sizeof stack / sizeof stack[0] && !(m = malloc(size * sizeof *m))) return false;
  const char *key;
  size_t key_len;
  json_t *val;
  json_object_keylen_foreach((json_t *)obj, key, key_len, val) {
    if (nulls != KEEP_NULLS && json_is_null(val)) continue;
    if (n < size) m[n++] = (struct member){key, key_len, val};
  }
  qsort(m, n, sizeof *m, member_cmp);
  bool ok = put(s, "{", 1);
  for (size_t i = 0; ok && i < n; i++) {
    enum nulls inner = nulls == DROP_NULLS_NESTED && (is_key(&m[i], "message") || is_key(&m[i], "other_message"))
                           ? DROP_NULLS
                           : KEEP_NULLS;
    ok = (i == 0 || put(s, ",", 1)) && put_string(s, m[i].key, m[i].len) && put(s, ":", 1) &&
         put_value(s, m[i].value, inner);
  }
  ok = ok && put(s, "}", 1);
  if (m != stack) free(m);
  return ok;
}

static bool put_value(struct sink *s, const json_t *v, enum nulls nulls) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: return put_object(s, v, nulls);
    case JSON_ARRAY: {
      if (!put(s, "[", 1)) return false;
      for (size_t i = 0; i < json_array_size(v); i++)
        if ((i > 0 && !put(s, ",", 1)) || !put_value(s, json_array_get(v, i), KEEP_NULLS)) return false;
      return put(s, "]", 1);
    }
    case JSON_STRING: return put_string(s, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return put_integer(s, json_integer_value(v));
    case JSON_REAL: return put_real(s, v);
    case JSON_TRUE: return put(s, "true", 4);
    case JSON_FALSE: return put(s, "false", 5);
    case JSON_NULL: return put(s, "null", 4);
  }
  return false;
}

bool fd_content_hash(const json_t *obj, unsigned char out[FD_SHA256_LEN]) {
  if (!obj) return false;
  struct sink s = {.len = 0, .cap = sizeof s.stack, .on_heap = false};
  s.text = s.stack;
  bool ok = put_value(&s, obj, DROP_NULLS_NESTED);
  if (ok) fd_sha256(s.text, s.len, out);
  if (s.on_heap) free(s.text);
  return ok;
}
