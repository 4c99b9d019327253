/* test_content_hash.c — fd_content_hash is SHA-256 of the canonical text written out here
 * by hand (sorted keys, compact, top-level and message/other_message nulls dropped), for
 * short objects and for one whose text outgrows the 2 KiB stack buffer; and, since every
 * stored hash was computed with json_dumps(JSON_COMPACT | JSON_SORT_KEYS), the same as
 * jansson's text for random documents full of escapes, look-alike keys and numbers. */
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/content_hash.h"
#include "unit.h"

/* fd_content_hash(parse(json)) == SHA-256(canon) */
static bool hashes_to(const char *json, const char *canon) {
  json_t *v = json_loads(json, 0, NULL);
  if (!v) return false;
  unsigned char got[FD_SHA256_LEN], want[SHA256_DIGEST_LENGTH];
  bool ok = fd_content_hash(v, got);
  json_decref(v);
  SHA256((const unsigned char *)canon, strlen(canon), want);
  return ok && memcmp(got, want, sizeof want) == 0;
}

static void test_small(void) {
  CHECK(hashes_to("{\"value\": 1, \"kind\": \"rating\", \"id\": \"e1\"}",
                  "{\"id\":\"e1\",\"kind\":\"rating\",\"value\":1}"));
  CHECK(!hashes_to("{\"value\": 1, \"kind\": \"rating\", \"id\": \"e1\"}",
                   "{\"value\":1,\"kind\":\"rating\",\"id\":\"e1\"}"));
  CHECK(hashes_to("{\"b\": {\"z\": [3, {\"y\": 1, \"x\": 2}], \"a\": \"\\u00e9\\n\"}}",
                  "{\"b\":{\"a\":\"\xc3\xa9\\n\",\"z\":[3,{\"x\":2,\"y\":1}]}}"));
}

static void test_nulls(void) {
  /* top level and inside message / other_message: dropped */
  CHECK(hashes_to("{\"user\": null, \"kind\": \"rating\"}", "{\"kind\":\"rating\"}"));
  CHECK(hashes_to("{\"message\": {\"parent_id\": null, \"content\": \"x\"}, \"other_message\": {\"model\": null}}",
                  "{\"message\":{\"content\":\"x\"},\"other_message\":{}}"));
  /* inside metadata, arrays, and deeper: kept */
  CHECK(hashes_to("{\"metadata\": {\"a\": null}, \"tags\": [null]}", "{\"metadata\":{\"a\":null},\"tags\":[null]}"));
  CHECK(hashes_to("{\"message\": {\"metadata\": {\"a\": null}}}", "{\"message\":{\"metadata\":{\"a\":null}}}"));
}

static void test_long_text(void) {
  /* 5000 bytes of comment: the canonical text no longer fits the stack buffer */
  size_t n = 5000;
  char *comment = malloc(n + 1), *json = malloc(n + 64), *canon = malloc(n + 64);
  CHECK(comment && json && canon);
  if (!comment || !json || !canon) goto out;
  for (size_t i = 0; i < n; i++) comment[i] = (char)('a' + i % 26);
  comment[n] = '\0';
  snprintf(json, n + 64, "{\"user\": null, \"comment\": \"%s\", \"kind\": \"comment\"}", comment);
  snprintf(canon, n + 64, "{\"comment\":\"%s\",\"kind\":\"comment\"}", comment);
  CHECK(hashes_to(json, canon));
  canon[10] = 'X';
  CHECK(!hashes_to(json, canon));
out:
  free(comment);
  free(json);
  free(canon);
}

/* ---------- against jansson on random documents ---------- */

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

static const char *const pieces[] = {"a",
                                     "b",
                                     "Z",
                                     "0",
                                     "\"",
                                     "\\",
                                     "/",
                                     "\n",
                                     "\t",
                                     "\x01",
                                     "\x1f",
                                     "\x7f",
                                     " ",
                                     "\xc3\xa9",
                                     "\xe2\x82\xac",
                                     "\xf0\x9f\x98\x80",
                                     "message",
                                     "other_message",
                                     "ab",
                                     "a\xc3\xa9",
                                     "\b",
                                     "\f",
                                     "\r",
                                     "{",
                                     ":",
                                     ","};
#define N_PIECES (sizeof pieces / sizeof pieces[0])

static void random_text(char *buf, size_t cap) {
  buf[0] = '\0';
  for (unsigned i = 0, n = rnd(6); i < n; i++) {
    const char *p = pieces[rnd(N_PIECES)];
    if (strlen(buf) + strlen(p) < cap) strcat(buf, p);
  }
}

static json_t *random_value(int depth) {
  static const char *const keys[] = {"message", "other_message", "metadata", "id", "a", "ab", ""};
  static const long long ints[] = {0, 1, -1, 42, -7, 1000000, 9223372036854775807LL, -9223372036854775807LL - 1};
  static const double reals[] = {0.0, -0.0, 0.1, 1.5, -2.25, 1e300, 1e-300, 3.141592653589793, 100.0, 1e21, 5e-324};
  char text[128];
  switch (rnd(depth > 3 ? 6 : 8)) {
    case 0: random_text(text, sizeof text); return json_string(text);
    case 1: return json_integer(ints[rnd(sizeof ints / sizeof ints[0])]);
    case 2: return json_real(reals[rnd(sizeof reals / sizeof reals[0])]);
    case 3: return rnd(2) ? json_true() : json_false();
    case 4:
    case 5: return json_null();
    case 6: {
      json_t *a = json_array();
      for (unsigned i = 0, n = rnd(5); i < n; i++) json_array_append_new(a, random_value(depth + 1));
      return a;
    }
    default: {
      json_t *o = json_object();
      for (unsigned i = 0, n = rnd(8); i < n; i++) {
        if (rnd(3) == 0)
          snprintf(text, sizeof text, "%s", keys[rnd(sizeof keys / sizeof keys[0])]);
        else
          random_text(text, sizeof text);
        json_object_set_new(o, text, random_value(depth + 1));
      }
      return o;
    }
  }
}

/* the documented normalisation, written independently: a copy without the null members
 * of the top object and of its "message"/"other_message" objects */
static json_t *strip(json_t *v, int level) {
  if (!json_is_object(v) || level > 1) return json_incref(v);
  json_t *out = json_object();
  const char *key;
  json_t *val;
  json_object_foreach(v, key, val) {
    if (json_is_null(val)) continue;
    bool nested = level == 0 && (strcmp(key, "message") == 0 || strcmp(key, "other_message") == 0);
    json_object_set_new(out, key, nested ? strip(val, 1) : json_incref(val));
  }
  return out;
}

static void test_same_as_jansson(void) {
  int mismatches = 0;
  for (int i = 0; i < 20000; i++) {
    json_t *v = random_value(rnd(2)), *s = strip(v, 0);
    char *text = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    unsigned char got[FD_SHA256_LEN], want[SHA256_DIGEST_LENGTH];
    bool ok = text && fd_content_hash(v, got);
    if (text) SHA256((const unsigned char *)text, strlen(text), want);
    if (!ok || memcmp(got, want, sizeof want) != 0) {
      if (mismatches++ < 3) fprintf(stderr, "  differs from jansson: %s\n", text ? text : "(null)");
    }
    free(text);
    json_decref(s);
    json_decref(v);
  }
  CHECK(mismatches == 0);
}

int main(void) {
  RUN(test_small);
  RUN(test_nulls);
  RUN(test_long_text);
  RUN(test_same_as_jansson);
  return unit_report();
}
