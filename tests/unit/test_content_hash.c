/* test_content_hash.c — fd_content_hash is SHA-256 of the canonical text written out here
 * by hand (sorted keys, compact, top-level and message/other_message nulls dropped), for
 * short objects and for one whose text outgrows the 2 KiB stack buffer. */
#include <jansson.h>
#include <openssl/sha.h>
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
  CHECK(hashes_to("{\"value\": 1, \"kind\": \"rating\", \"id\": \"e1\"}", "{\"id\":\"e1\",\"kind\":\"rating\",\"value\":1}"));
  CHECK(!hashes_to("{\"value\": 1, \"kind\": \"rating\", \"id\": \"e1\"}", "{\"value\":1,\"kind\":\"rating\",\"id\":\"e1\"}"));
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

int main(void) {
  RUN(test_small);
  RUN(test_nulls);
  RUN(test_long_text);
  return unit_report();
}
