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

bool fd_content_hash(const json_t *obj, unsigned char out[FD_SHA256_LEN]) {
  bool ok = false;
  char *text = NULL;
  json_t *canon = json_is_object(obj) ? without_nulls(obj, true) : json_incref((json_t *)obj);
  if (!canon) goto out;
  text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  if (!text) goto out;
  fd_sha256(text, strlen(text), out);
  ok = true;
out:
  free(text);
  json_decref(canon);
  return ok;
}
