/* content_hash.c — canonical JSON + SHA-256 for idempotency (see content_hash.h). */
#include "ingest/content_hash.h"

#include <stdlib.h>
#include <string.h>

/* A shallow copy of obj without its null members; nested "message"/"other_message"
 * objects are filtered the same way when `nested` is set. New reference or NULL. */
static json_t *without_nulls(const json_t *obj, bool nested) {
  json_t *copy = json_object();
  if (!copy) return NULL;
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)obj, key, val) {
    if (json_is_null(val)) continue;
    json_t *use = NULL;
    if (nested && json_is_object(val) && (strcmp(key, "message") == 0 || strcmp(key, "other_message") == 0))
      use = without_nulls(val, false);
    else
      use = json_incref(val);
    if (!use || json_object_set_new(copy, key, use) != 0) {
      json_decref(copy);
      return NULL;
    }
  }
  return copy;
}

/* true when obj (or, with `nested`, its "message"/"other_message" objects) has a null
 * member, i.e. when without_nulls() would change it. Most events have none, and then the
 * object is hashed as it is instead of through a copy. */
static bool has_nulls(const json_t *obj, bool nested) {
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)obj, key, val) {
    if (json_is_null(val)) return true;
    if (nested && json_is_object(val) && (strcmp(key, "message") == 0 || strcmp(key, "other_message") == 0) &&
        has_nulls(val, false))
      return true;
  }
  return false;
}

/* The canonical text is built in a stack buffer and only moves to the heap when it
 * outgrows it: json_dumps() would grow a heap buffer from 16 bytes by doubling and then
 * copy it once more. */
struct sink {
  char *text;
  size_t len, cap;
  bool on_heap;
  char stack[2048];
};

static int sink_write(const char *data, size_t size, void *p) {
  struct sink *s = p;
  if (s->len + size > s->cap) {
    size_t cap = s->cap * 2;
    while (cap < s->len + size) cap *= 2;
    char *t = s->on_heap ? realloc(s->text, cap) : malloc(cap);
    if (!t) return -1;
    if (!s->on_heap) memcpy(t, s->text, s->len);
    s->text = t;
    s->cap = cap;
    s->on_heap = true;
  }
  memcpy(s->text + s->len, data, size);
  s->len += size;
  return 0;
}

bool fd_content_hash(const json_t *obj, unsigned char out[FD_SHA256_LEN]) {
  bool ok = false;
  struct sink s = {.len = 0, .cap = sizeof s.stack, .on_heap = false};
  s.text = s.stack;
  json_t *canon = json_is_object(obj) && has_nulls(obj, true) ? without_nulls(obj, true) : json_incref((json_t *)obj);
  if (!canon) goto out;
  if (json_dump_callback(canon, sink_write, &s, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) != 0) goto out;
  fd_sha256(s.text, s.len, out);
  ok = true;
out:
  if (s.on_heap) free(s.text);
  json_decref(canon);
  return ok;
}
