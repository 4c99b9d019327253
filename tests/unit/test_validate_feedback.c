/* test_validate_feedback.c — feedback event validation (ingest/rows.h) against docs/api.md:
 * every error code with its exact field path, every limit at the bound and one past it
 * (in bytes of UTF-8, with multi-byte characters), inline turns with ctx ids computed here
 * independently with OpenSSL's SHA256(), and the idempotency hash. */
#include <jansson.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "ingest/rows.h"
#include "ingest/validate_common.h"
#include "unit.h"

static struct fd_limits L;

/* Test JSON written by hand; aborts the test binary if the test itself is malformed. */
static json_t *J(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
  if (!j) {
    fprintf(stderr, "bad test JSON (%s): %s\n", e.text, text);
    exit(2);
  }
  return j;
}

/* times copies of unit followed by tail, as a new string. */
static char *rep(const char *unit, size_t times, const char *tail) {
  size_t ul = strlen(unit), tl = strlen(tail);
  char *s = malloc(ul * times + tl + 1);
  for (size_t i = 0; i < times; i++) memcpy(s + i * ul, unit, ul);
  memcpy(s + ul * times, tail, tl + 1);
  return s;
}

/* set obj[key] = string (taking ownership of a rep() result). */
static json_t *with_str(json_t *obj, const char *key, char *owned) {
  json_object_set_new(obj, key, json_string(owned));
  free(owned);
  return obj;
}

static json_t *with(json_t *obj, const char *key, json_t *val) {
  json_object_set_new(obj, key, val);
  return obj;
}

/* Validates ev (consumed) at path; checks it fails with code and field. */
#define EXPECT_ERR_AT(ev, path, code_, field_)                                                                        \
  do {                                                                                                                \
    json_t *ev_ = (ev);                                                                                               \
    struct fd_error e_ = {0};                                                                                         \
    struct fd_feedback_row *r_ = fd_feedback_row_new(ev_, &L, (path), &e_);                                           \
    CHECK(r_ == NULL);                                                                                                \
    CHECK(e_.code == (code_));                                                                                        \
    CHECK_STR(e_.field, (field_));                                                                                    \
    if (r_ || e_.code != (code_)) fprintf(stderr, "   (got code %s: %s)\n", fd_error_code_name(e_.code), e_.message); \
    fd_feedback_row_free(r_);                                                                                         \
    json_decref(ev_);                                                                                                 \
  } while (0)
#define EXPECT_ERR(ev, code_, field_) EXPECT_ERR_AT(ev, NULL, code_, field_)

/* Validates ev (consumed); checks it passes. */
#define EXPECT_OK(ev)                                                                                         \
  do {                                                                                                        \
    json_t *ev_ = (ev);                                                                                       \
    struct fd_error e_ = {0};                                                                                 \
    struct fd_feedback_row *r_ = fd_feedback_row_new(ev_, &L, NULL, &e_);                                     \
    CHECK(r_ != NULL);                                                                                        \
    if (!r_) fprintf(stderr, "   (got %s at '%s': %s)\n", fd_error_code_name(e_.code), e_.field, e_.message); \
    fd_feedback_row_free(r_);                                                                                 \
    json_decref(ev_);                                                                                         \
  } while (0)

/* A valid thumbs-down to mutate. */
static json_t *rating(void) { return J("{\"id\":\"e1\",\"kind\":\"rating\",\"message_id\":\"m3\",\"value\":-1}"); }

static struct fd_feedback_row *ok_row(json_t *ev) {
  struct fd_error e = {0};
  struct fd_feedback_row *r = fd_feedback_row_new(ev, &L, NULL, &e);
  if (!r) fprintf(stderr, "   unexpected %s at '%s': %s\n", fd_error_code_name(e.code), e.field, e.message);
  return r;
}

/* "ctx-" + first 32 hex of SHA-256(C \n i \n role \n content), computed with OpenSSL directly. */
static void ctx_id(const char *conv, int i, const char *role, const char *content, char out[64]) {
  char buf[4096];
  int n = snprintf(buf, sizeof buf, "%s\n%d\n%s\n%s", conv, i, role, content);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)buf, (size_t)n, md);
  strcpy(out, "ctx-");
  for (int k = 0; k < 16; k++) sprintf(out + 4 + 2 * k, "%02x", md[k]);
}

static bool is_uuid_v4(const char *s) {
  if (strlen(s) != 36) return false;
  for (int i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!strchr("0123456789abcdef", s[i])) {
      return false;
    }
  }
  return s[14] == '4' && strchr("89ab", s[19]);
}

/* ---------- body parsing ---------- */

static void expect_parse_error(const char *body, size_t len, enum fd_error_code code) {
  struct fd_error e = {0};
  json_t *j = fd_json_parse_object_new(body, len, &L, &e);
  CHECK(j == NULL);
  CHECK(e.code == code);
  CHECK_STR(e.field, "");
  json_decref(j);
}

static void test_parse(void) {
  struct fd_error e = {0};
  const char *good = "{\"kind\":\"rating\"}";
  json_t *j = fd_json_parse_object_new(good, strlen(good), &L, &e);
  CHECK(json_is_object(j));
  json_decref(j);

  expect_parse_error("", 0, FD_ERR_INVALID_JSON);
  expect_parse_error("{", 1, FD_ERR_INVALID_JSON);
  expect_parse_error("{\"a\":1} x", 9, FD_ERR_INVALID_JSON); /* trailing garbage */
  expect_parse_error("[1,2]", 5, FD_ERR_INVALID_JSON);       /* not an object */
  expect_parse_error("\"s\"", 3, FD_ERR_INVALID_JSON);
  expect_parse_error("42", 2, FD_ERR_INVALID_JSON);
  expect_parse_error("null", 4, FD_ERR_INVALID_JSON);
  expect_parse_error("{\"a\":\"\xff\"}", 9, FD_ERR_INVALID_JSON);              /* invalid UTF-8 */
  expect_parse_error("{\"a\":\"\xc0\xaf\"}", 10, FD_ERR_INVALID_JSON);         /* overlong */
  expect_parse_error("{\"a\":\"\xed\xa0\x80\"}", 11, FD_ERR_INVALID_JSON);     /* UTF-16 surrogate */
  expect_parse_error("{\"a\":\"x\\u0000y\"}", 16, FD_ERR_INVALID_JSON);        /* \u0000 in a string */
  expect_parse_error("{\"a\\u0000\":1}", 13, FD_ERR_INVALID_JSON);             /* \u0000 in a key */
  expect_parse_error("{\"a\":\"x\0y\"}", 10, FD_ERR_INVALID_JSON);             /* raw NUL byte */
  expect_parse_error("{\"a\":\"\\ud800\"}", 14, FD_ERR_INVALID_JSON);          /* lone surrogate escape */
  expect_parse_error("{\"a\":1,\"a\":1}", 13, FD_ERR_INVALID_JSON);            /* duplicate key */
  expect_parse_error("{\"m\":{\"a\":1,\"a\":2}}", 19, FD_ERR_INVALID_JSON);    /* nested duplicate */
  expect_parse_error("{\"a\":99999999999999999999}", 26, FD_ERR_INVALID_JSON); /* beyond int64 */

  /* body limit: exactly 1 MiB parses, one byte more is 413 */
  size_t max = 1024 * 1024;
  char *body = malloc(max + 2);
  memset(body, 'x', max + 1);
  memcpy(body, "{\"a\":\"", 6);
  memcpy(body + max - 2, "\"}", 2);
  j = fd_json_parse_object_new(body, max, &L, &e);
  CHECK(json_is_object(j) && json_string_length(json_object_get(j, "a")) == max - 8);
  json_decref(j);
  memcpy(body + max - 2, "xx\"}", 4);
  expect_parse_error(body, max + 1, FD_ERR_PAYLOAD_TOO_LARGE);
  free(body);
}

/* ---------- batch envelope ---------- */

static void expect_batch_error(json_t *body, enum fd_error_code code, const char *field) {
  struct fd_error e = {0};
  json_t *items = NULL;
  CHECK(!fd_batch_items(body, "events", &L, &items, &e));
  CHECK(e.code == code);
  CHECK_STR(e.field, field);
  json_decref(body);
}

static void test_batch_envelope(void) {
  struct fd_error e = {0};
  json_t *items = NULL;
  json_t *body = J("{\"events\":[]}");
  CHECK(fd_batch_items(body, "events", &L, &items, &e) && json_array_size(items) == 0);
  json_decref(body);

  expect_batch_error(J("{}"), FD_ERR_MISSING_FIELD, "events");
  expect_batch_error(J("{\"events\":null}"), FD_ERR_INVALID_FIELD, "events");
  expect_batch_error(J("{\"events\":{}}"), FD_ERR_INVALID_FIELD, "events");
  expect_batch_error(J("{\"events\":\"e\"}"), FD_ERR_INVALID_FIELD, "events");
  expect_batch_error(J("{\"events\":[],\"extra\":1}"), FD_ERR_UNKNOWN_FIELD, "extra");
  expect_batch_error(J("{\"messages\":[]}"), FD_ERR_UNKNOWN_FIELD, "messages");
  expect_batch_error(json_array(), FD_ERR_INVALID_JSON, "");

  /* 1000 items pass, 1001 are 413 */
  body = J("{\"events\":[]}");
  json_t *arr = json_object_get(body, "events");
  for (int i = 0; i < 1000; i++) json_array_append_new(arr, json_object());
  CHECK(fd_batch_items(body, "events", &L, &items, &e) && json_array_size(items) == 1000);
  json_array_append_new(arr, json_object());
  expect_batch_error(body, FD_ERR_PAYLOAD_TOO_LARGE, "events");
}

/* ---------- happy paths ---------- */

static void test_api_examples(void) {
  struct fd_feedback_row *r;
  json_t *ev;

  ev =
      J("{\"id\": \"e1\", \"kind\": \"rating\", \"message_id\": \"m3\", \"user\": \"u42\", \"value\": -1, "
        "\"tags\": [\"inaccurate\"], \"comment\": \"Lyon is not the capital.\"}");
  r = ok_row(ev);
  CHECK(r != NULL);
  if (r) {
    CHECK_STR(r->id, "e1");
    CHECK(!r->id_generated);
    CHECK(r->kind == FD_KIND_RATING);
    CHECK_STR(r->kind_name, "rating");
    CHECK_STR(r->message_id, "m3");
    CHECK_STR(r->user, "u42");
    CHECK(r->has_value && r->value == -1 && r->scale == 2);
    CHECK(r->n_tags == 1 && strcmp(r->tags[0], "inaccurate") == 0);
    CHECK_STR(r->comment, "Lyon is not the capital.");
    CHECK(r->edited_content == NULL && r->other_message_id == NULL && r->outcome == NULL && r->strength == 0);
    CHECK(r->created_at_defaulted && r->created_at_us == 0);
    CHECK(r->metadata_json == NULL && r->conversation_id == NULL && r->n_turns == 0);
  }
  fd_feedback_row_free(r);
  json_decref(ev);

  ev =
      J("{\"id\": \"e2\", \"kind\": \"edit\", \"message_id\": \"m3\", \"user\": \"u42\", \"edited_content\": "
        "\"Paris.\"}");
  r = ok_row(ev);
  CHECK(r && r->kind == FD_KIND_EDIT && strcmp(r->edited_content, "Paris.") == 0 && !r->has_value);
  fd_feedback_row_free(r);
  json_decref(ev);

  ev =
      J("{\"id\": \"e3\", \"kind\": \"comparison\", \"message_id\": \"m4\", \"other_message_id\": \"m3\", \"user\": "
        "\"u42\"}");
  r = ok_row(ev);
  CHECK(r && r->kind == FD_KIND_COMPARISON);
  CHECK(r && strcmp(r->other_message_id, "m3") == 0 && strcmp(r->outcome, "preferred") == 0 && r->strength == 0);
  fd_feedback_row_free(r);
  json_decref(ev);

  ev =
      J("{\"id\": \"e4\", \"kind\": \"rating\", \"message_id\": \"m4\", \"value\": 5, \"scale\": 5,"
        " \"message\": {\"conversation_id\": \"c9\", \"content\": \"Paris.\", \"model\": \"chat-v7\"},"
        " \"context\": [{\"role\": \"user\", \"content\": \"Capital of France?\"}]}");
  r = ok_row(ev);
  CHECK(r != NULL);
  if (r) {
    char want[64];
    ctx_id("c9", 0, "user", "Capital of France?", want);
    CHECK(r->value == 5 && r->scale == 5);
    CHECK_STR(r->conversation_id, "c9");
    CHECK(r->n_turns == 2);
    CHECK_STR(r->turns[0].id, want);
    CHECK_STR(r->turns[0].parent_id, "");
    CHECK_STR(r->turns[0].role, "user");
    CHECK_STR(r->turns[0].content, "Capital of France?");
    CHECK_STR(r->turns[0].conversation_id, "c9");
    CHECK(r->turns[0].model == NULL && r->turns[0].origin == FD_MESSAGE_INLINE);
    CHECK_STR(r->turns[1].id, "m4");
    CHECK_STR(r->turns[1].parent_id, want);
    CHECK_STR(r->turns[1].role, "assistant");
    CHECK_STR(r->turns[1].content, "Paris.");
    CHECK(r->turns[1].content_len == 6);
    CHECK_STR(r->turns[1].model, "chat-v7");
    CHECK_STR(r->turns[1].conversation_id, "c9");
    CHECK(r->turns[1].created_at_defaulted && r->turns[1].origin == FD_MESSAGE_INLINE);
  }
  fd_feedback_row_free(r);
  json_decref(ev);

  ev = J(
      "{\"kind\":\"comment\",\"message_id\":\"m3\",\"comment\":\"too long\",\"created_at\":\"2026-11-25T10:00:00.5Z\","
      "\"metadata\":{\"b\":[1,{\"y\":null}],\"a\":\"\\u00e9\"}}");
  r = ok_row(ev);
  CHECK(r != NULL);
  if (r) {
    CHECK(r->kind == FD_KIND_COMMENT && strcmp(r->comment, "too long") == 0);
    CHECK(r->id_generated && is_uuid_v4(r->id));
    CHECK(!r->created_at_defaulted && r->created_at_us == INT64_C(1795600800500000));
    CHECK_STR(r->metadata_json, "{\"a\":\"\xc3\xa9\",\"b\":[1,{\"y\":null}]}");
  }
  fd_feedback_row_free(r);
  json_decref(ev);
}

/* The row keeps the event alive: borrowed strings survive the caller's decref. */
static void test_row_owns_reference(void) {
  json_t *body = J("{\"events\":[{\"kind\":\"comment\",\"message_id\":\"m1\",\"comment\":\"kept\",\"user\":\"u\"}]}");
  struct fd_feedback_row *r = ok_row(json_array_get(json_object_get(body, "events"), 0));
  json_decref(body);
  CHECK(r && strcmp(r->comment, "kept") == 0 && strcmp(r->user, "u") == 0);
  fd_feedback_row_free(r);
  fd_feedback_row_free(NULL); /* accepts NULL */
}

/* ---------- common fields ---------- */

static void test_not_object_and_unknown(void) {
  EXPECT_ERR_AT(J("[1]"), "events[3]", FD_ERR_INVALID_FIELD, "events[3]");
  EXPECT_ERR_AT(json_string("x"), "events[0]", FD_ERR_INVALID_FIELD, "events[0]");
  EXPECT_ERR(with(rating(), "foo", json_integer(1)), FD_ERR_UNKNOWN_FIELD, "foo");
  EXPECT_ERR(with(rating(), "foo", json_null()), FD_ERR_UNKNOWN_FIELD, "foo");
  EXPECT_ERR(with(rating(), "Value", json_integer(1)), FD_ERR_UNKNOWN_FIELD, "Value"); /* case-sensitive */
  EXPECT_ERR(with(rating(), "role", json_string("user")), FD_ERR_UNKNOWN_FIELD, "role");
  EXPECT_ERR_AT(with(rating(), "foo", json_integer(1)), "events[7]", FD_ERR_UNKNOWN_FIELD, "events[7].foo");
  /* the first unknown member in document order is named */
  EXPECT_ERR(J("{\"zz\":1,\"kind\":\"rating\",\"aa\":2}"), FD_ERR_UNKNOWN_FIELD, "zz");
  /* a very long unknown key is cut at a character boundary, never mid-UTF-8 */
  char *key = rep("\xc3\xa9", 300, "");
  json_t *ev = with(rating(), key, json_integer(1));
  struct fd_error e = {0};
  CHECK(fd_feedback_row_new(ev, &L, NULL, &e) == NULL && e.code == FD_ERR_UNKNOWN_FIELD);
  CHECK(strlen(e.field) == 190 && fd_utf8_valid(e.field, strlen(e.field)));
  json_decref(ev);
  free(key);
}

static void test_kind(void) {
  EXPECT_ERR(J("{\"message_id\":\"m\",\"value\":1}"), FD_ERR_MISSING_FIELD, "kind");
  EXPECT_ERR(with(rating(), "kind", json_null()), FD_ERR_MISSING_FIELD, "kind");
  EXPECT_ERR(with(rating(), "kind", json_string("like")), FD_ERR_INVALID_FIELD, "kind");
  EXPECT_ERR(with(rating(), "kind", json_string("Rating")), FD_ERR_INVALID_FIELD, "kind");
  EXPECT_ERR(with(rating(), "kind", json_string("")), FD_ERR_INVALID_FIELD, "kind");
  EXPECT_ERR(with(rating(), "kind", json_integer(1)), FD_ERR_INVALID_FIELD, "kind");
  EXPECT_ERR_AT(with(rating(), "kind", json_string("x")), "events[2]", FD_ERR_INVALID_FIELD, "events[2].kind");
}

static void test_ids(void) {
  /* message_id */
  json_t *ev = rating();
  json_object_del(ev, "message_id");
  EXPECT_ERR(ev, FD_ERR_MISSING_FIELD, "message_id");
  EXPECT_ERR(with(rating(), "message_id", json_null()), FD_ERR_MISSING_FIELD, "message_id");
  EXPECT_ERR(with(rating(), "message_id", json_string("")), FD_ERR_INVALID_FIELD, "message_id");
  EXPECT_ERR(with(rating(), "message_id", json_integer(3)), FD_ERR_INVALID_FIELD, "message_id");
  EXPECT_ERR(with(rating(), "message_id", json_string("m 3")), FD_ERR_INVALID_FIELD, "message_id");
  EXPECT_ERR(with(rating(), "message_id", json_string("m/3")), FD_ERR_INVALID_FIELD, "message_id");
  EXPECT_ERR(with(rating(), "message_id", json_string("m\xc3\xa9")), FD_ERR_INVALID_FIELD, "message_id");
  EXPECT_OK(with_str(rating(), "message_id", rep("m", 128, "")));
  EXPECT_ERR(with_str(rating(), "message_id", rep("m", 129, "")), FD_ERR_INVALID_FIELD, "message_id");
  EXPECT_ERR_AT(with(rating(), "message_id", json_string("")), "events[0]", FD_ERR_INVALID_FIELD,
                "events[0].message_id");

  /* id: every allowed character, bounds, wrong type, null = absent (generated) */
  EXPECT_OK(with(rating(), "id", json_string("AZaz09._:-")));
  EXPECT_OK(with(rating(), "id", json_string("x")));
  EXPECT_OK(with_str(rating(), "id", rep("7", 128, "")));
  EXPECT_ERR(with_str(rating(), "id", rep("7", 129, "")), FD_ERR_INVALID_FIELD, "id");
  EXPECT_ERR(with(rating(), "id", json_string("")), FD_ERR_INVALID_FIELD, "id");
  EXPECT_ERR(with(rating(), "id", json_integer(1)), FD_ERR_INVALID_FIELD, "id");
  static const char *bad[] = {"a b", "a/b", "a+b", "a@b", "a,b", "a#b", "a\tb", "\xc3\xa9", "a~b", "a\"b"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    EXPECT_ERR(with(rating(), "id", json_string(bad[i])), FD_ERR_INVALID_FIELD, "id");
  json_t *ev2 = with(rating(), "id", json_null());
  struct fd_feedback_row *r = ok_row(ev2);
  CHECK(r && r->id_generated && is_uuid_v4(r->id));
  fd_feedback_row_free(r);
  json_decref(ev2);
}

static void test_user(void) {
  EXPECT_OK(with_str(rating(), "user", rep("u", 128, "")));
  EXPECT_ERR(with_str(rating(), "user", rep("u", 129, "")), FD_ERR_INVALID_FIELD, "user");
  /* 64 two-byte characters = 128 bytes: ok; one more byte: too long (bytes, not characters) */
  EXPECT_OK(with_str(rating(), "user", rep("\xc3\xa9", 64, "")));
  EXPECT_ERR(with_str(rating(), "user", rep("\xc3\xa9", 64, "u")), FD_ERR_INVALID_FIELD, "user");
  /* 42 three-byte euro signs + 2 = 128 */
  EXPECT_OK(with_str(rating(), "user", rep("\xe2\x82\xac", 42, "ab")));
  EXPECT_ERR(with_str(rating(), "user", rep("\xe2\x82\xac", 43, "")), FD_ERR_INVALID_FIELD, "user");
  /* 32 four-byte emoji = 128 */
  EXPECT_OK(with_str(rating(), "user", rep("\xf0\x9f\x98\x80", 32, "")));
  EXPECT_ERR(with_str(rating(), "user", rep("\xf0\x9f\x98\x80", 32, "!")), FD_ERR_INVALID_FIELD, "user");
  EXPECT_ERR(with(rating(), "user", json_string("")), FD_ERR_INVALID_FIELD, "user");
  EXPECT_ERR(with(rating(), "user", json_integer(42)), FD_ERR_INVALID_FIELD, "user");
  EXPECT_ERR(with(rating(), "user", json_pack("[s]", "u")), FD_ERR_INVALID_FIELD, "user");
  /* defensive: a NUL or broken UTF-8 in a json_t built without the parser */
  EXPECT_ERR(with(rating(), "user", json_stringn("a\0b", 3)), FD_ERR_INVALID_FIELD, "user");
  EXPECT_ERR(with(rating(), "user", json_string_nocheck("a\xff")), FD_ERR_INVALID_FIELD, "user");
  EXPECT_ERR(with(rating(), "comment", json_stringn_nocheck("\xc3", 1)), FD_ERR_INVALID_FIELD, "comment");
}

static void test_tags(void) {
  json_t *tags = json_array();
  for (int i = 0; i < 32; i++) json_array_append_new(tags, json_sprintf("t%d", i));
  EXPECT_OK(with(rating(), "tags", json_deep_copy(tags)));
  json_array_append_new(tags, json_string("t32"));
  EXPECT_ERR(with(rating(), "tags", tags), FD_ERR_INVALID_FIELD, "tags");
  EXPECT_OK(with(rating(), "tags", json_array()));
  EXPECT_OK(with(rating(), "tags", json_null()));
  EXPECT_ERR(with(rating(), "tags", json_string("inaccurate")), FD_ERR_INVALID_FIELD, "tags");
  EXPECT_ERR(with(rating(), "tags", json_object()), FD_ERR_INVALID_FIELD, "tags");

  char *t64 = rep("x", 64, ""), *t65 = rep("x", 65, "");
  EXPECT_OK(with(rating(), "tags", json_pack("[s,s,s,s]", "a", "b", "c", t64)));
  EXPECT_ERR(with(rating(), "tags", json_pack("[s,s,s,s]", "a", "b", "c", t65)), FD_ERR_INVALID_FIELD, "tags[3]");
  free(t64);
  free(t65);
  char *e64 = rep("\xc3\xa9", 32, ""), *e65 = rep("\xc3\xa9", 32, "x");
  EXPECT_OK(with(rating(), "tags", json_pack("[s]", e64)));
  EXPECT_ERR(with(rating(), "tags", json_pack("[s]", e65)), FD_ERR_INVALID_FIELD, "tags[0]");
  free(e64);
  free(e65);
  EXPECT_ERR(with(rating(), "tags", json_pack("[s,s]", "a", "")), FD_ERR_INVALID_FIELD, "tags[1]");
  EXPECT_ERR(with(rating(), "tags", json_pack("[s,i]", "a", 1)), FD_ERR_INVALID_FIELD, "tags[1]");
  EXPECT_ERR(with(rating(), "tags", json_pack("[s,n]", "a")), FD_ERR_INVALID_FIELD, "tags[1]");
  EXPECT_ERR_AT(with(rating(), "tags", json_pack("[s,s,s,i]", "a", "b", "c", 4)), "events[7]", FD_ERR_INVALID_FIELD,
                "events[7].tags[3]");

  /* duplicates are dropped from the row, first-seen order kept */
  json_t *ev = with(rating(), "tags", json_pack("[s,s,s,s]", "b", "a", "b", "a"));
  struct fd_feedback_row *r = ok_row(ev);
  CHECK(r && r->n_tags == 2 && strcmp(r->tags[0], "b") == 0 && strcmp(r->tags[1], "a") == 0);
  fd_feedback_row_free(r);
  json_decref(ev);
}

static void test_comment(void) {
  size_t max = 256 * 1024;
  EXPECT_OK(with_str(rating(), "comment", rep("c", max, "")));
  EXPECT_ERR(with_str(rating(), "comment", rep("c", max + 1, "")), FD_ERR_INVALID_FIELD, "comment");
  EXPECT_OK(with_str(rating(), "comment", rep("\xe2\x82\xac", max / 3, "c"))); /* 262143 + 1 */
  EXPECT_ERR(with_str(rating(), "comment", rep("\xe2\x82\xac", max / 3 + 1, "")), FD_ERR_INVALID_FIELD, "comment");
  EXPECT_OK(with(rating(), "comment", json_string(""))); /* empty comment allowed on a rating */
  EXPECT_ERR(with(rating(), "comment", json_integer(1)), FD_ERR_INVALID_FIELD, "comment");

  json_t *c = J("{\"kind\":\"comment\",\"message_id\":\"m1\"}");
  EXPECT_ERR(json_deep_copy(c), FD_ERR_MISSING_FIELD, "comment");
  EXPECT_ERR(with(json_deep_copy(c), "comment", json_null()), FD_ERR_MISSING_FIELD, "comment");
  EXPECT_ERR(with(json_deep_copy(c), "comment", json_string("")), FD_ERR_INVALID_FIELD, "comment");
  EXPECT_ERR(with(json_deep_copy(c), "comment", json_false()), FD_ERR_INVALID_FIELD, "comment");
  EXPECT_OK(with(json_deep_copy(c), "comment", json_string("x")));
  EXPECT_OK(with_str(json_deep_copy(c), "comment", rep("c", max, "")));
  EXPECT_ERR(with_str(json_deep_copy(c), "comment", rep("c", max + 1, "")), FD_ERR_INVALID_FIELD, "comment");
  json_decref(c);
}

static void test_created_at(void) {
  json_t *ev = with(rating(), "created_at", json_string("2026-11-25T12:30:00+02:30"));
  struct fd_feedback_row *r = ok_row(ev);
  CHECK(r && !r->created_at_defaulted && r->created_at_us == INT64_C(1795600800000000));
  fd_feedback_row_free(r);
  json_decref(ev);
  EXPECT_OK(with(rating(), "created_at", json_null()));
  EXPECT_ERR(with(rating(), "created_at", json_string("2026-11-25T10:00:00")), FD_ERR_INVALID_FIELD, "created_at");
  EXPECT_ERR(with(rating(), "created_at", json_string("2026-02-30T10:00:00Z")), FD_ERR_INVALID_FIELD, "created_at");
  EXPECT_ERR(with(rating(), "created_at", json_string("yesterday")), FD_ERR_INVALID_FIELD, "created_at");
  EXPECT_ERR(with(rating(), "created_at", json_integer(1795600800)), FD_ERR_INVALID_FIELD, "created_at");
}

/* {"a":{"a":...}} with `levels` objects in all. */
static json_t *nested(int levels) {
  json_t *inner = json_object();
  for (int i = 1; i < levels; i++) {
    json_t *outer = json_object();
    json_object_set_new(outer, "a", inner);
    inner = outer;
  }
  return inner;
}

static void test_metadata(void) {
  EXPECT_OK(with(rating(), "metadata", json_object()));
  EXPECT_OK(with(rating(), "metadata", nested(16)));
  EXPECT_ERR(with(rating(), "metadata", nested(17)), FD_ERR_INVALID_FIELD, "metadata");
  /* arrays count as levels too: object(1) > array(2) > ... */
  json_t *m = json_object(), *cur = json_array();
  json_object_set_new(m, "l", cur);
  for (int i = 3; i <= 16; i++) {
    json_t *next = json_array();
    json_array_append_new(cur, next);
    cur = next;
  }
  json_array_append_new(cur, json_integer(1)); /* scalars add no level */
  EXPECT_OK(with(rating(), "metadata", json_deep_copy(m)));
  json_array_append_new(cur, json_array());
  EXPECT_ERR(with(rating(), "metadata", m), FD_ERR_INVALID_FIELD, "metadata");

  /* size: {"k":"…"} is 8 bytes + the string: 16376 ASCII bytes -> 16384 */
  char *s = rep("v", 16376, "");
  EXPECT_OK(with(rating(), "metadata", json_pack("{s:s}", "k", s)));
  free(s);
  s = rep("v", 16377, "");
  EXPECT_ERR(with(rating(), "metadata", json_pack("{s:s}", "k", s)), FD_ERR_INVALID_FIELD, "metadata");
  free(s);
  /* multi-byte text counts in bytes (not escaped in the compact form) */
  s = rep("\xc3\xa9", 8188, "");
  EXPECT_OK(with(rating(), "metadata", json_pack("{s:s}", "k", s)));
  free(s);
  s = rep("\xc3\xa9", 8188, "v");
  EXPECT_ERR(with(rating(), "metadata", json_pack("{s:s}", "k", s)), FD_ERR_INVALID_FIELD, "metadata");
  free(s);
  /* escapes count as serialised: a quote is 2 bytes ("\"") */
  s = rep("\"", 8188, "");
  EXPECT_OK(with(rating(), "metadata", json_pack("{s:s}", "k", s)));
  free(s);
  s = rep("\"", 8188, "v");
  EXPECT_ERR(with(rating(), "metadata", json_pack("{s:s}", "k", s)), FD_ERR_INVALID_FIELD, "metadata");
  free(s);

  EXPECT_ERR(with(rating(), "metadata", json_pack("[i]", 1)), FD_ERR_INVALID_FIELD, "metadata");
  EXPECT_ERR(with(rating(), "metadata", json_string("{}")), FD_ERR_INVALID_FIELD, "metadata");
  EXPECT_ERR(with(rating(), "metadata", json_integer(1)), FD_ERR_INVALID_FIELD, "metadata");
  EXPECT_OK(with(rating(), "metadata", json_null()));
  EXPECT_ERR_AT(with(rating(), "metadata", nested(17)), "events[1]", FD_ERR_INVALID_FIELD, "events[1].metadata");
}

/* ---------- kinds ---------- */

static json_t *rate(json_t *value, json_t *scale) {
  json_t *ev = J("{\"kind\":\"rating\",\"message_id\":\"m3\"}");
  if (value) json_object_set_new(ev, "value", value);
  if (scale) json_object_set_new(ev, "scale", scale);
  return ev;
}

static void expect_rating(json_t *value, json_t *scale, int want_value, int want_scale) {
  json_t *ev = rate(value, scale);
  struct fd_feedback_row *r = ok_row(ev);
  CHECK(r && r->has_value && r->value == want_value && r->scale == want_scale);
  fd_feedback_row_free(r);
  json_decref(ev);
}

static void test_rating(void) {
  expect_rating(json_integer(-1), NULL, -1, 2);
  expect_rating(json_integer(1), NULL, 1, 2);
  expect_rating(json_integer(1), json_integer(2), 1, 2);
  expect_rating(json_integer(-1), json_integer(2), -1, 2);
  expect_rating(json_integer(1), json_null(), 1, 2);
  for (int scale = 3; scale <= 10; scale++) {
    expect_rating(json_integer(1), json_integer(scale), 1, scale);
    expect_rating(json_integer(scale), json_integer(scale), scale, scale);
    EXPECT_ERR(rate(json_integer(scale + 1), json_integer(scale)), FD_ERR_INVALID_FIELD, "value");
    EXPECT_ERR(rate(json_integer(0), json_integer(scale)), FD_ERR_INVALID_FIELD, "value");
    EXPECT_ERR(rate(json_integer(-1), json_integer(scale)), FD_ERR_INVALID_FIELD, "value");
  }
  EXPECT_ERR(rate(NULL, NULL), FD_ERR_MISSING_FIELD, "value");
  EXPECT_ERR(rate(json_null(), NULL), FD_ERR_MISSING_FIELD, "value");
  EXPECT_ERR(rate(NULL, json_integer(5)), FD_ERR_MISSING_FIELD, "value");
  EXPECT_ERR(rate(json_integer(0), NULL), FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(rate(json_integer(2), NULL), FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(rate(json_integer(-2), json_integer(2)), FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(rate(json_real(1.0), NULL), FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(rate(json_string("1"), NULL), FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(rate(json_true(), NULL), FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(rate(json_real(4.5), json_integer(5)), FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(rate(json_integer(1), json_integer(1)), FD_ERR_INVALID_FIELD, "scale");
  EXPECT_ERR(rate(json_integer(1), json_integer(0)), FD_ERR_INVALID_FIELD, "scale");
  EXPECT_ERR(rate(json_integer(1), json_integer(11)), FD_ERR_INVALID_FIELD, "scale");
  EXPECT_ERR(rate(json_integer(1), json_integer(-5)), FD_ERR_INVALID_FIELD, "scale");
  EXPECT_ERR(rate(json_integer(1), json_real(5.0)), FD_ERR_INVALID_FIELD, "scale");
  EXPECT_ERR(rate(json_integer(1), json_string("5")), FD_ERR_INVALID_FIELD, "scale");
  EXPECT_ERR(rate(json_integer(INT64_C(4294967297)), json_integer(5)), FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR_AT(rate(json_integer(7), json_integer(5)), "events[7]", FD_ERR_INVALID_FIELD, "events[7].value");
}

static void test_edit(void) {
  json_t *base = J("{\"kind\":\"edit\",\"message_id\":\"m3\"}");
  EXPECT_ERR(json_deep_copy(base), FD_ERR_MISSING_FIELD, "edited_content");
  EXPECT_ERR(with(json_deep_copy(base), "edited_content", json_null()), FD_ERR_MISSING_FIELD, "edited_content");
  EXPECT_ERR(with(json_deep_copy(base), "edited_content", json_string("")), FD_ERR_INVALID_FIELD, "edited_content");
  EXPECT_ERR(with(json_deep_copy(base), "edited_content", json_integer(1)), FD_ERR_INVALID_FIELD, "edited_content");
  size_t max = 256 * 1024;
  EXPECT_OK(with_str(json_deep_copy(base), "edited_content", rep("e", max, "")));
  EXPECT_ERR(with_str(json_deep_copy(base), "edited_content", rep("e", max + 1, "")), FD_ERR_INVALID_FIELD,
             "edited_content");
  EXPECT_OK(with_str(json_deep_copy(base), "edited_content", rep("\xf0\x9f\x98\x80", max / 4, "")));
  EXPECT_ERR(with_str(json_deep_copy(base), "edited_content", rep("\xf0\x9f\x98\x80", max / 4, "e")),
             FD_ERR_INVALID_FIELD, "edited_content");

  /* the original inline becomes a turn (its edit ratio is computed after COMMIT) */
  json_t *ev =
      J("{\"kind\":\"edit\",\"message_id\":\"m3\",\"edited_content\":\"Paris.\","
        "\"message\":{\"conversation_id\":\"c1\",\"content\":\"Lyon.\"}}");
  struct fd_feedback_row *r = ok_row(ev);
  CHECK(r && r->n_turns == 1 && strcmp(r->turns[0].content, "Lyon.") == 0);
  fd_feedback_row_free(r);
  json_decref(ev);
  json_decref(base);
}

static void test_comparison(void) {
  json_t *base = J("{\"kind\":\"comparison\",\"message_id\":\"m4\"}");
  EXPECT_ERR(json_deep_copy(base), FD_ERR_MISSING_FIELD, "other_message_id");
  EXPECT_ERR(with(json_deep_copy(base), "other_message_id", json_string("m4")), FD_ERR_INVALID_FIELD,
             "other_message_id");
  EXPECT_ERR(with(json_deep_copy(base), "other_message_id", json_string("m 3")), FD_ERR_INVALID_FIELD,
             "other_message_id");
  EXPECT_ERR(with(json_deep_copy(base), "other_message_id", json_string("")), FD_ERR_INVALID_FIELD, "other_message_id");
  EXPECT_OK(with_str(json_deep_copy(base), "other_message_id", rep("o", 128, "")));
  EXPECT_ERR(with_str(json_deep_copy(base), "other_message_id", rep("o", 129, "")), FD_ERR_INVALID_FIELD,
             "other_message_id");

  json_t *ok = with(json_deep_copy(base), "other_message_id", json_string("m3"));
  static const char *outcomes[] = {"preferred", "tie", "both_bad"};
  for (int i = 0; i < 3; i++) {
    json_t *ev = with(json_deep_copy(ok), "outcome", json_string(outcomes[i]));
    struct fd_feedback_row *r = ok_row(ev);
    CHECK(r && strcmp(r->outcome, outcomes[i]) == 0);
    fd_feedback_row_free(r);
    json_decref(ev);
  }
  EXPECT_ERR(with(json_deep_copy(ok), "outcome", json_string("win")), FD_ERR_INVALID_FIELD, "outcome");
  EXPECT_ERR(with(json_deep_copy(ok), "outcome", json_string("Tie")), FD_ERR_INVALID_FIELD, "outcome");
  EXPECT_ERR(with(json_deep_copy(ok), "outcome", json_integer(1)), FD_ERR_INVALID_FIELD, "outcome");
  for (int s = 1; s <= 3; s++) {
    json_t *ev = with(json_deep_copy(ok), "strength", json_integer(s));
    struct fd_feedback_row *r = ok_row(ev);
    CHECK(r && r->strength == s);
    fd_feedback_row_free(r);
    json_decref(ev);
  }
  EXPECT_ERR(with(json_deep_copy(ok), "strength", json_integer(0)), FD_ERR_INVALID_FIELD, "strength");
  EXPECT_ERR(with(json_deep_copy(ok), "strength", json_integer(4)), FD_ERR_INVALID_FIELD, "strength");
  EXPECT_ERR(with(json_deep_copy(ok), "strength", json_real(2.0)), FD_ERR_INVALID_FIELD, "strength");
  EXPECT_OK(with(json_deep_copy(ok), "strength", json_null()));
  json_decref(ok);
  json_decref(base);
}

/* Fields of another kind are invalid_field; null ones are ignored; common ones allowed. */
static void test_foreign_fields(void) {
  EXPECT_ERR(with(rating(), "edited_content", json_string("x")), FD_ERR_INVALID_FIELD, "edited_content");
  EXPECT_ERR(with(rating(), "other_message_id", json_string("m9")), FD_ERR_INVALID_FIELD, "other_message_id");
  EXPECT_ERR(with(rating(), "outcome", json_string("tie")), FD_ERR_INVALID_FIELD, "outcome");
  EXPECT_ERR(with(rating(), "strength", json_integer(1)), FD_ERR_INVALID_FIELD, "strength");
  EXPECT_ERR(with(rating(), "other_message", json_object()), FD_ERR_INVALID_FIELD, "other_message");
  EXPECT_OK(with(rating(), "edited_content", json_null()));
  json_t *c = J("{\"kind\":\"comment\",\"message_id\":\"m\",\"comment\":\"hi\"}");
  EXPECT_ERR(with(json_deep_copy(c), "value", json_integer(1)), FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(with(json_deep_copy(c), "scale", json_integer(5)), FD_ERR_INVALID_FIELD, "scale");
  EXPECT_OK(with(with(json_deep_copy(c), "tags", json_pack("[s]", "rude")), "user", json_string("u1")));
  json_decref(c);
  json_t *e = J("{\"kind\":\"edit\",\"message_id\":\"m\",\"edited_content\":\"x\"}");
  EXPECT_ERR(with(json_deep_copy(e), "value", json_integer(1)), FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(with(json_deep_copy(e), "outcome", json_string("tie")), FD_ERR_INVALID_FIELD, "outcome");
  EXPECT_OK(with(json_deep_copy(e), "comment", json_string("fixed the capital")));
  json_decref(e);
  json_t *k = J("{\"kind\":\"comparison\",\"message_id\":\"m\",\"other_message_id\":\"o\"}");
  EXPECT_ERR(with(json_deep_copy(k), "value", json_integer(1)), FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(with(json_deep_copy(k), "edited_content", json_string("x")), FD_ERR_INVALID_FIELD, "edited_content");
  json_decref(k);
  EXPECT_ERR_AT(with(rating(), "edited_content", json_string("x")), "events[4]", FD_ERR_INVALID_FIELD,
                "events[4].edited_content");
}

/* ---------- inline turns ---------- */

static json_t *inline_ev(const char *message_json, const char *context_json) {
  json_t *ev = J("{\"id\":\"e9\",\"kind\":\"rating\",\"message_id\":\"m4\",\"value\":1}");
  if (message_json) json_object_set_new(ev, "message", J(message_json));
  if (context_json) json_object_set_new(ev, "context", J(context_json));
  return ev;
}

static void test_inline_chain(void) {
  json_t *ev = inline_ev("{\"conversation_id\":\"conv-7\",\"content\":\"4\",\"model\":\"m-1\"}",
                         "[{\"role\":\"system\",\"content\":\"Be terse.\"},"
                         "{\"role\":\"user\",\"content\":\"2+2?\"},"
                         "{\"role\":\"assistant\",\"content\":\"\"},"
                         "{\"role\":\"tool\",\"content\":\"caf\\u00e9\"}]");
  struct fd_feedback_row *r = ok_row(ev);
  CHECK(r && r->n_turns == 5);
  if (r && r->n_turns == 5) {
    char id0[64], id1[64], id2[64], id3[64];
    ctx_id("conv-7", 0, "system", "Be terse.", id0);
    ctx_id("conv-7", 1, "user", "2+2?", id1);
    ctx_id("conv-7", 2, "assistant", "", id2);
    ctx_id("conv-7", 3, "tool", "caf\xc3\xa9", id3);
    CHECK_STR(r->turns[0].id, id0);
    CHECK_STR(r->turns[0].parent_id, "");
    CHECK_STR(r->turns[1].id, id1);
    CHECK_STR(r->turns[1].parent_id, id0);
    CHECK_STR(r->turns[2].id, id2);
    CHECK_STR(r->turns[2].parent_id, id1);
    CHECK_STR(r->turns[2].role, "assistant");
    CHECK(r->turns[2].content_len == 0);
    CHECK_STR(r->turns[3].id, id3);
    CHECK_STR(r->turns[3].parent_id, id2);
    CHECK_STR(r->turns[3].role, "tool");
    CHECK_STR(r->turns[4].id, "m4");
    CHECK_STR(r->turns[4].parent_id, id3);
    CHECK_STR(r->turns[4].model, "m-1");
    for (size_t i = 0; i < 5; i++) CHECK(strcmp(r->turns[i].conversation_id, "conv-7") == 0);
    /* same turn content at another index, or another conversation, is another id */
    CHECK(strcmp(id0, id1) != 0);
    char other[64];
    ctx_id("conv-8", 0, "system", "Be terse.", other);
    CHECK(strcmp(other, id0) != 0);
    /* fd_context_turn_id agrees with the independent computation */
    char got[FD_ID_BUF];
    CHECK(fd_context_turn_id("conv-7", 1, "user", "2+2?", 4, got));
    CHECK_STR(got, id1);
  }
  fd_feedback_row_free(r);
  json_decref(ev);

  /* the created_at of the event is the turns' created_at */
  ev = inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}", "[{\"role\":\"user\",\"content\":\"q\"}]");
  json_object_set_new(ev, "created_at", json_string("1970-01-01T00:00:01Z"));
  r = ok_row(ev);
  CHECK(r && r->n_turns == 2 && !r->turns[0].created_at_defaulted && r->turns[0].created_at_us == 1000000 &&
        r->turns[1].created_at_us == 1000000);
  fd_feedback_row_free(r);
  json_decref(ev);

  /* message alone: parent_id from message, or none */
  ev = inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\",\"parent_id\":\"m2\"}", NULL);
  r = ok_row(ev);
  CHECK(r && r->n_turns == 1 && strcmp(r->turns[0].parent_id, "m2") == 0 && r->turns[0].model == NULL);
  fd_feedback_row_free(r);
  json_decref(ev);
  ev = inline_ev("{\"conversation_id\":\"c\",\"content\":\"\",\"parent_id\":null,\"model\":null}", "[]");
  r = ok_row(ev);
  CHECK(r && r->n_turns == 1 && strcmp(r->turns[0].parent_id, "") == 0 && r->turns[0].content_len == 0);
  fd_feedback_row_free(r);
  json_decref(ev);
}

static void test_inline_errors(void) {
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\"}", NULL), FD_ERR_MISSING_FIELD, "message.content");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":null}", NULL), FD_ERR_MISSING_FIELD, "message.content");
  EXPECT_ERR(inline_ev("{\"content\":\"x\"}", NULL), FD_ERR_MISSING_FIELD, "message.conversation_id");
  EXPECT_ERR(inline_ev("{\"content\":\"x\"}", "[]"), FD_ERR_MISSING_FIELD, "message.conversation_id");
  EXPECT_ERR(inline_ev(NULL, "[{\"role\":\"user\",\"content\":\"q\"}]"), FD_ERR_MISSING_FIELD, "message");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\",\"parent_id\":\"p\"}",
                       "[{\"role\":\"user\",\"content\":\"q\"}]"),
             FD_ERR_INVALID_FIELD, "message.parent_id");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\",\"parent_id\":\"m4\"}", NULL),
             FD_ERR_INVALID_FIELD, "message.parent_id");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\",\"parent_id\":\"p q\"}", NULL),
             FD_ERR_INVALID_FIELD, "message.parent_id");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c c\",\"content\":\"x\"}", NULL), FD_ERR_INVALID_FIELD,
             "message.conversation_id");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":1}", NULL), FD_ERR_INVALID_FIELD, "message.content");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\",\"model\":\"\"}", NULL), FD_ERR_INVALID_FIELD,
             "message.model");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\",\"role\":\"assistant\"}", NULL),
             FD_ERR_INVALID_FIELD, "message.role");
  EXPECT_ERR(inline_ev("[]", NULL), FD_ERR_INVALID_FIELD, "message");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}", "{}"), FD_ERR_INVALID_FIELD, "context");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}", "[1]"), FD_ERR_INVALID_FIELD, "context[0]");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}",
                       "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"robot\",\"content\":\"b\"}]"),
             FD_ERR_INVALID_FIELD, "context[1].role");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}",
                       "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"User\",\"content\":\"b\"}]"),
             FD_ERR_INVALID_FIELD, "context[1].role");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}",
                       "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":7,\"content\":\"b\"}]"),
             FD_ERR_INVALID_FIELD, "context[1].role");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}",
                       "[{\"role\":\"user\",\"content\":\"a\"},{\"content\":\"b\"}]"),
             FD_ERR_MISSING_FIELD, "context[1].role");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}", "[{\"role\":\"user\"}]"), FD_ERR_MISSING_FIELD,
             "context[0].content");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}", "[{\"role\":\"user\",\"content\":[]}]"),
             FD_ERR_INVALID_FIELD, "context[0].content");
  EXPECT_ERR(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}",
                       "[{\"role\":\"user\",\"content\":\"a\",\"name\":\"bob\"}]"),
             FD_ERR_INVALID_FIELD, "context[0].name");

  /* content bounds for message.content and context[i].content */
  size_t max = 256 * 1024;
  json_t *ev = inline_ev("{\"conversation_id\":\"c\"}", NULL);
  with_str(json_object_get(ev, "message"), "content", rep("x", max, ""));
  EXPECT_OK(ev);
  ev = inline_ev("{\"conversation_id\":\"c\"}", NULL);
  with_str(json_object_get(ev, "message"), "content", rep("x", max + 1, ""));
  EXPECT_ERR(ev, FD_ERR_INVALID_FIELD, "message.content");
  ev = inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}", "[{\"role\":\"user\"}]");
  with_str(json_array_get(json_object_get(ev, "context"), 0), "content", rep("\xc3\xa9", max / 2, ""));
  EXPECT_OK(ev);
  ev = inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}", "[{\"role\":\"user\"},{\"role\":\"user\"}]");
  with_str(json_array_get(json_object_get(ev, "context"), 0), "content", rep("x", 1, ""));
  with_str(json_array_get(json_object_get(ev, "context"), 1), "content", rep("\xc3\xa9", max / 2, "x"));
  EXPECT_ERR(ev, FD_ERR_INVALID_FIELD, "context[1].content");
  ev = inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}", NULL);
  with_str(json_object_get(ev, "message"), "model", rep("m", 128, ""));
  EXPECT_OK(ev);
  ev = inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}", NULL);
  with_str(json_object_get(ev, "message"), "model", rep("m", 129, ""));
  EXPECT_ERR(ev, FD_ERR_INVALID_FIELD, "message.model");

  /* batch prefixes */
  EXPECT_ERR_AT(inline_ev("{\"conversation_id\":\"c\",\"content\":\"x\"}",
                          "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"robot\",\"content\":\"b\"}]"),
                "events[7]", FD_ERR_INVALID_FIELD, "events[7].context[1].role");
  EXPECT_ERR_AT(inline_ev("{\"conversation_id\":\"c\",\"content\":5}", NULL), "events[7]", FD_ERR_INVALID_FIELD,
                "events[7].message.content");
  EXPECT_ERR_AT(inline_ev("{\"conversation_id\":\"c\"}", NULL), "events[12]", FD_ERR_MISSING_FIELD,
                "events[12].message.content");
}

static json_t *cmp_ev(const char *message_json, const char *other_json, const char *context_json) {
  json_t *ev = J("{\"kind\":\"comparison\",\"message_id\":\"m4\",\"other_message_id\":\"m3\",\"outcome\":\"tie\"}");
  if (message_json) json_object_set_new(ev, "message", J(message_json));
  if (other_json) json_object_set_new(ev, "other_message", J(other_json));
  if (context_json) json_object_set_new(ev, "context", J(context_json));
  return ev;
}

static void test_inline_other_message(void) {
  json_t *ev = cmp_ev("{\"conversation_id\":\"c9\",\"content\":\"Paris.\",\"model\":\"v7\"}",
                      "{\"content\":\"Lyon.\",\"model\":\"v6\"}", "[{\"role\":\"user\",\"content\":\"Capital?\"}]");
  struct fd_feedback_row *r = ok_row(ev);
  CHECK(r && r->n_turns == 3);
  if (r && r->n_turns == 3) {
    char c0[64];
    ctx_id("c9", 0, "user", "Capital?", c0);
    CHECK_STR(r->turns[0].id, c0);
    CHECK_STR(r->turns[1].id, "m4");
    CHECK_STR(r->turns[1].parent_id, c0);
    CHECK_STR(r->turns[2].id, "m3");
    CHECK_STR(r->turns[2].parent_id, c0); /* siblings */
    CHECK_STR(r->turns[2].conversation_id, "c9");
    CHECK_STR(r->turns[2].content, "Lyon.");
    CHECK_STR(r->turns[2].model, "v6");
    CHECK_STR(r->turns[2].role, "assistant");
    CHECK_STR(r->outcome, "tie");
  }
  fd_feedback_row_free(r);
  json_decref(ev);

  /* other_message alone must name its conversation */
  ev = cmp_ev(NULL, "{\"content\":\"Lyon.\",\"conversation_id\":\"c2\",\"parent_id\":\"p\"}", NULL);
  r = ok_row(ev);
  CHECK(r && r->n_turns == 1 && strcmp(r->turns[0].id, "m3") == 0 && strcmp(r->turns[0].parent_id, "p") == 0);
  CHECK(r && strcmp(r->conversation_id, "c2") == 0);
  fd_feedback_row_free(r);
  json_decref(ev);
  EXPECT_ERR(cmp_ev(NULL, "{\"content\":\"Lyon.\"}", NULL), FD_ERR_MISSING_FIELD, "other_message.conversation_id");
  EXPECT_ERR(
      cmp_ev("{\"conversation_id\":\"c9\",\"content\":\"a\"}", "{\"content\":\"b\",\"conversation_id\":\"c8\"}", NULL),
      FD_ERR_INVALID_FIELD, "other_message.conversation_id");
  EXPECT_OK(
      cmp_ev("{\"conversation_id\":\"c9\",\"content\":\"a\"}", "{\"content\":\"b\",\"conversation_id\":\"c9\"}", NULL));
  EXPECT_ERR(cmp_ev("{\"conversation_id\":\"c9\",\"content\":\"a\"}", "{\"conversation_id\":\"c9\"}", NULL),
             FD_ERR_MISSING_FIELD, "other_message.content");
  EXPECT_ERR(cmp_ev("{\"conversation_id\":\"c9\",\"content\":\"a\"}", "{\"content\":\"b\",\"parent_id\":\"x\"}",
                    "[{\"role\":\"user\",\"content\":\"q\"}]"),
             FD_ERR_INVALID_FIELD, "other_message.parent_id");
  EXPECT_ERR(cmp_ev("{\"conversation_id\":\"c9\",\"content\":\"a\"}", "{\"content\":\"b\",\"parent_id\":\"m3\"}", NULL),
             FD_ERR_INVALID_FIELD, "other_message.parent_id");
  EXPECT_ERR(cmp_ev("{\"conversation_id\":\"c9\",\"content\":\"a\"}", "{\"content\":\"b\",\"extra\":1}", NULL),
             FD_ERR_INVALID_FIELD, "other_message.extra");
  EXPECT_ERR(cmp_ev("{\"conversation_id\":\"c9\",\"content\":\"a\"}", "\"m3\"", NULL), FD_ERR_INVALID_FIELD,
             "other_message");
}

/* ---------- idempotency hash ---------- */

static bool hash_of(const char *text, unsigned char out[FD_SHA256_LEN]) {
  json_t *ev = J(text);
  struct fd_feedback_row *r = ok_row(ev);
  bool ok = r != NULL;
  if (r) memcpy(out, r->content_sha256, FD_SHA256_LEN);
  fd_feedback_row_free(r);
  json_decref(ev);
  return ok;
}

static bool same_hash(const char *a, const char *b) {
  unsigned char ha[FD_SHA256_LEN], hb[FD_SHA256_LEN];
  return hash_of(a, ha) && hash_of(b, hb) && memcmp(ha, hb, FD_SHA256_LEN) == 0;
}

static bool different_hash(const char *a, const char *b) {
  unsigned char ha[FD_SHA256_LEN], hb[FD_SHA256_LEN];
  return hash_of(a, ha) && hash_of(b, hb) && memcmp(ha, hb, FD_SHA256_LEN) != 0;
}

static void test_content_hash(void) {
  const char *base =
      "{\"id\":\"e1\",\"kind\":\"rating\",\"message_id\":\"m3\",\"value\":-1,\"tags\":[\"a\",\"b\"],"
      "\"metadata\":{\"x\":1,\"y\":[1,2]}}";
  /* reordered keys (also nested) and spacing: duplicate */
  CHECK(same_hash(base,
                  "{ \"metadata\" : {\"y\":[1, 2], \"x\":1},\n\"value\":-1, \"tags\":[\"a\",\"b\"],"
                  "\"message_id\":\"m3\", \"kind\":\"rating\", \"id\":\"e1\" }"));
  /* escapes that decode to the same text */
  CHECK(same_hash("{\"kind\":\"comment\",\"message_id\":\"m\",\"comment\":\"caf\\u00e9\"}",
                  "{\"kind\":\"comment\",\"message_id\":\"m\",\"comment\":\"caf\xc3\xa9\"}"));
  /* null members are the same as absent ones */
  CHECK(same_hash(base,
                  "{\"id\":\"e1\",\"kind\":\"rating\",\"message_id\":\"m3\",\"value\":-1,\"tags\":[\"a\",\"b\"],"
                  "\"metadata\":{\"x\":1,\"y\":[1,2]},\"user\":null,\"created_at\":null}"));
  CHECK(
      same_hash("{\"kind\":\"rating\",\"message_id\":\"m\",\"value\":1,\"message\":{\"conversation_id\":\"c\","
                "\"content\":\"x\"}}",
                "{\"kind\":\"rating\",\"message_id\":\"m\",\"value\":1,\"message\":{\"conversation_id\":\"c\","
                "\"content\":\"x\",\"parent_id\":null}}"));
  /* a null inside metadata is data */
  CHECK(different_hash("{\"kind\":\"rating\",\"message_id\":\"m\",\"value\":1,\"metadata\":{}}",
                       "{\"kind\":\"rating\",\"message_id\":\"m\",\"value\":1,\"metadata\":{\"a\":null}}"));
  /* changed values: conflict */
  CHECK(different_hash(base,
                       "{\"id\":\"e1\",\"kind\":\"rating\",\"message_id\":\"m3\",\"value\":1,\"tags\":[\"a\",\"b\"],"
                       "\"metadata\":{\"x\":1,\"y\":[1,2]}}"));
  CHECK(different_hash(base,
                       "{\"id\":\"e1\",\"kind\":\"rating\",\"message_id\":\"m3\",\"value\":-1,\"tags\":[\"b\",\"a\"],"
                       "\"metadata\":{\"x\":1,\"y\":[1,2]}}"));
  CHECK(different_hash(base,
                       "{\"id\":\"e1\",\"kind\":\"rating\",\"message_id\":\"m3\",\"value\":-1,\"tags\":[\"a\",\"b\"],"
                       "\"metadata\":{\"x\":1,\"y\":[2,1]}}"));
  CHECK(different_hash(base,
                       "{\"id\":\"e1\",\"kind\":\"rating\",\"message_id\":\"m4\",\"value\":-1,\"tags\":[\"a\",\"b\"],"
                       "\"metadata\":{\"x\":1,\"y\":[1,2]}}"));
  CHECK(different_hash(base,
                       "{\"id\":\"e1\",\"kind\":\"rating\",\"message_id\":\"m3\",\"value\":-1,\"tags\":[\"a\",\"b\"],"
                       "\"metadata\":{\"x\":1,\"y\":[1,2]},\"user\":\"u\"}"));
  /* a created_at the client sent is compared... */
  CHECK(different_hash(base,
                       "{\"id\":\"e1\",\"kind\":\"rating\",\"message_id\":\"m3\",\"value\":-1,\"tags\":[\"a\",\"b\"],"
                       "\"metadata\":{\"x\":1,\"y\":[1,2]},\"created_at\":\"2026-11-25T10:00:00Z\"}"));
  /* ...a defaulted one (and a generated id) are not: two id-less sends hash alike, get
   * different generated ids */
  const char *anon = "{\"kind\":\"rating\",\"message_id\":\"m3\",\"value\":-1}";
  json_t *a = J(anon), *b = J(anon);
  struct fd_feedback_row *ra = ok_row(a), *rb = ok_row(b);
  CHECK(ra && rb && memcmp(ra->content_sha256, rb->content_sha256, FD_SHA256_LEN) == 0);
  CHECK(ra && rb && strcmp(ra->id, rb->id) != 0 && ra->id_generated && rb->id_generated);
  /* and the hash is SHA-256 of the sorted compact JSON, computed here independently */
  unsigned char want[SHA256_DIGEST_LENGTH];
  const char *canon = "{\"kind\":\"rating\",\"message_id\":\"m3\",\"value\":-1}";
  SHA256((const unsigned char *)canon, strlen(canon), want);
  CHECK(ra && memcmp(ra->content_sha256, want, sizeof want) == 0);
  fd_feedback_row_free(ra);
  fd_feedback_row_free(rb);
  json_decref(a);
  json_decref(b);

  /* inline turns hash like the equivalent /v1/messages item */
  json_t *ev =
      J("{\"kind\":\"rating\",\"message_id\":\"m4\",\"value\":1,"
        "\"message\":{\"conversation_id\":\"c9\",\"content\":\"Paris.\",\"model\":\"v7\",\"parent_id\":\"m2\"}}");
  struct fd_feedback_row *r = ok_row(ev);
  const char *item =
      "{\"content\":\"Paris.\",\"conversation_id\":\"c9\",\"id\":\"m4\",\"model\":\"v7\","
      "\"parent_id\":\"m2\",\"role\":\"assistant\"}";
  SHA256((const unsigned char *)item, strlen(item), want);
  CHECK(r && r->n_turns == 1 && memcmp(r->turns[0].content_sha256, want, sizeof want) == 0);
  fd_feedback_row_free(r);
  json_decref(ev);
}

/* reaction: emoji required (1..32 bytes), resolved against a set later; signal: names and
 * dwell's value rule (docs/api.md "Reactions", "Implicit signals"). */
static void test_reaction_and_signal(void) {
  json_t *rx = J("{\"kind\":\"reaction\",\"message_id\":\"m1\"}");
  EXPECT_ERR(json_deep_copy(rx), FD_ERR_MISSING_FIELD, "emoji");
  EXPECT_ERR(with(json_deep_copy(rx), "emoji", json_string("")), FD_ERR_INVALID_FIELD, "emoji");
  EXPECT_ERR(with_str(json_deep_copy(rx), "emoji", rep("e", 33, "")), FD_ERR_INVALID_FIELD, "emoji");
  EXPECT_ERR(with(with(json_deep_copy(rx), "emoji", json_string("love")), "value", json_integer(1)),
             FD_ERR_INVALID_FIELD, "value");
  json_t *ev = with(json_deep_copy(rx), "emoji", json_string("\xf0\x9f\x91\x8d"));
  struct fd_feedback_row *r = ok_row(ev);
  struct fd_reaction_set set;
  fd_reaction_set_default(&set);
  CHECK(set.n == 7);
  struct fd_error err;
  CHECK(r && r->kind == FD_KIND_REACTION && r->reaction[0] == 0);
  CHECK(r && fd_feedback_row_resolve_reaction(r, &set, "events[2]", &err) && strcmp(r->reaction, "like") == 0);
  fd_feedback_row_free(r);
  json_decref(ev);
  ev = with(json_deep_copy(rx), "emoji", json_string("heart"));
  r = ok_row(ev);
  CHECK(r && !fd_feedback_row_resolve_reaction(r, &set, "events[2]", &err) && err.code == FD_ERR_INVALID_FIELD);
  CHECK_STR(err.field, "events[2].emoji");
  fd_feedback_row_free(r);
  json_decref(ev);
  json_decref(rx);

  json_t *sg = J("{\"kind\":\"signal\",\"message_id\":\"m1\"}");
  EXPECT_ERR(json_deep_copy(sg), FD_ERR_MISSING_FIELD, "signal");
  EXPECT_ERR(with(json_deep_copy(sg), "signal", json_string("detected_praise")), FD_ERR_INVALID_FIELD, "signal");
  EXPECT_ERR(with(json_deep_copy(sg), "signal", json_string("dwell")), FD_ERR_MISSING_FIELD, "value");
  EXPECT_ERR(with(with(json_deep_copy(sg), "signal", json_string("dwell")), "value", json_real(-0.5)),
             FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(with(with(json_deep_copy(sg), "signal", json_string("copy")), "value", json_integer(1)),
             FD_ERR_INVALID_FIELD, "value");
  EXPECT_ERR(with(with(json_deep_copy(sg), "signal", json_string("copy")), "scale", json_integer(3)),
             FD_ERR_INVALID_FIELD, "scale");
  ev = with(with(json_deep_copy(sg), "signal", json_string("dwell")), "value", json_real(2500.5));
  r = ok_row(ev);
  CHECK(r && strcmp(r->signal, "dwell") == 0 && r->has_signal_value && r->signal_value == 2500.5);
  CHECK(r && fd_feedback_row_resolve_reaction(r, &set, NULL, &err)); /* not a reaction: nothing to do */
  fd_feedback_row_free(r);
  json_decref(ev);
  json_decref(sg);
}

/* The reaction set setting (PATCH /v1/project). */
static void test_reaction_set(void) {
  struct fd_reaction_set set;
  struct fd_error err;
  json_t *ok = J("[{\"name\":\"a_1\",\"emoji\":\"x\",\"value\":-1},{\"name\":\"b\",\"emoji\":\"y\",\"value\":0.25}]");
  CHECK(fd_reaction_set_parse(ok, &set, &err) && set.n == 2 && set.r[1].value == 0.25);
  CHECK(fd_reaction_find(&set, "y") == &set.r[1] && fd_reaction_find(&set, "a_1") == &set.r[0]);
  CHECK(fd_reaction_find(&set, "z") == NULL);
  json_decref(ok);
  static const struct {
    const char *json, *field;
  } bad[] = {
      {"[]", "reactions"},
      {"{}", "reactions"},
      {"[1]", "reactions[0]"},
      {"[{\"name\":\"A\",\"emoji\":\"x\",\"value\":1}]", "reactions[0].name"},
      {"[{\"name\":\"a\",\"emoji\":\"x\",\"value\":1.01}]", "reactions[0].value"},
      {"[{\"name\":\"a\",\"emoji\":\"x\",\"value\":1},{\"name\":\"a\",\"emoji\":\"y\",\"value\":1}]",
       "reactions[1].name"},
      {"[{\"name\":\"a\",\"emoji\":\"x\",\"value\":1},{\"name\":\"b\",\"emoji\":\"x\",\"value\":1}]",
       "reactions[1].emoji"},
      {"[{\"name\":\"a\",\"emoji\":\"x\",\"value\":1,\"k\":0}]", "reactions[0].k"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_t *j = J(bad[i].json);
    CHECK(!fd_reaction_set_parse(j, &set, &err) && err.code == FD_ERR_INVALID_FIELD);
    CHECK_STR(err.field, bad[i].field);
    json_decref(j);
  }
}

int main(void) {
  L = fd_limits_default();
  RUN(test_parse);
  RUN(test_batch_envelope);
  RUN(test_api_examples);
  RUN(test_row_owns_reference);
  RUN(test_not_object_and_unknown);
  RUN(test_kind);
  RUN(test_ids);
  RUN(test_user);
  RUN(test_tags);
  RUN(test_comment);
  RUN(test_created_at);
  RUN(test_metadata);
  RUN(test_rating);
  RUN(test_edit);
  RUN(test_comparison);
  RUN(test_reaction_and_signal);
  RUN(test_reaction_set);
  RUN(test_foreign_fields);
  RUN(test_inline_chain);
  RUN(test_inline_errors);
  RUN(test_inline_other_message);
  RUN(test_content_hash);
  return unit_report();
}
