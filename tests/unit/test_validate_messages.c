/* test_validate_messages.c — POST /v1/messages: the {"messages": [...]} envelope and item
 * validation (ingest/rows.h fd_message_row_new) against docs/api.md, with exact field paths,
 * every bound at the limit and one past it, and the idempotency hash. */
#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "ingest/rows.h"
#include "ingest/validate_common.h"
#include "unit.h"

static struct fd_limits L;

static json_t *J(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
  if (!j) {
    fprintf(stderr, "bad test JSON (%s): %s\n", e.text, text);
    exit(2);
  }
  return j;
}

static char *rep(const char *unit, size_t times, const char *tail) {
  size_t ul = strlen(unit), tl = strlen(tail);
  char *s = malloc(ul * times + tl + 1);
  for (size_t i = 0; i < times; i++) memcpy(s + i * ul, unit, ul);
  memcpy(s + ul * times, tail, tl + 1);
  return s;
}

static json_t *with_str(json_t *obj, const char *key, char *owned) {
  json_object_set_new(obj, key, json_string(owned));
  free(owned);
  return obj;
}

static json_t *with(json_t *obj, const char *key, json_t *val) {
  json_object_set_new(obj, key, val);
  return obj;
}

static json_t *without(json_t *obj, const char *key) {
  json_object_del(obj, key);
  return obj;
}

#define EXPECT_ERR_AT(item, path, code_, field_)                                                                      \
  do {                                                                                                                \
    json_t *it_ = (item);                                                                                             \
    struct fd_error e_ = {0};                                                                                         \
    struct fd_message_row *r_ = fd_message_row_new(it_, &L, (path), &e_);                                             \
    CHECK(r_ == NULL);                                                                                                \
    CHECK(e_.code == (code_));                                                                                        \
    CHECK_STR(e_.field, (field_));                                                                                    \
    if (r_ || e_.code != (code_)) fprintf(stderr, "   (got code %s: %s)\n", fd_error_code_name(e_.code), e_.message); \
    fd_message_row_free(r_);                                                                                          \
    json_decref(it_);                                                                                                 \
  } while (0)
#define EXPECT_ERR(item, code_, field_) EXPECT_ERR_AT(item, "messages[2]", code_, field_)

#define EXPECT_OK(item)                                                                                       \
  do {                                                                                                        \
    json_t *it_ = (item);                                                                                     \
    struct fd_error e_ = {0};                                                                                 \
    struct fd_message_row *r_ = fd_message_row_new(it_, &L, "messages[2]", &e_);                              \
    CHECK(r_ != NULL);                                                                                        \
    if (!r_) fprintf(stderr, "   (got %s at '%s': %s)\n", fd_error_code_name(e_.code), e_.field, e_.message); \
    fd_message_row_free(r_);                                                                                  \
    json_decref(it_);                                                                                         \
  } while (0)

static json_t *msg(void) {
  return J(
      "{\"id\":\"m3\",\"conversation_id\":\"c1\",\"parent_id\":\"m2\",\"role\":\"assistant\",\"content\":\"Lyon.\","
      "\"model\":\"chat-v7\"}");
}

static struct fd_message_row *ok_row(json_t *item) {
  struct fd_error e = {0};
  struct fd_message_row *r = fd_message_row_new(item, &L, "messages[0]", &e);
  if (!r) fprintf(stderr, "   unexpected %s at '%s': %s\n", fd_error_code_name(e.code), e.field, e.message);
  return r;
}

static void test_api_example(void) {
  const char *text =
      "{\"messages\": [\n"
      "  {\"id\": \"m1\", \"conversation_id\": \"c1\", \"parent_id\": null, \"role\": \"system\", \"content\": \"Be "
      "terse.\"},\n"
      "  {\"id\": \"m2\", \"conversation_id\": \"c1\", \"parent_id\": \"m1\", \"role\": \"user\", \"content\": "
      "\"Capital of France?\"},\n"
      "  {\"id\": \"m3\", \"conversation_id\": \"c1\", \"parent_id\": \"m2\", \"role\": \"assistant\", \"content\": "
      "\"Lyon.\", \"model\": \"chat-v7\"},\n"
      "  {\"id\": \"m4\", \"conversation_id\": \"c1\", \"parent_id\": \"m2\", \"role\": \"assistant\", \"content\": "
      "\"Paris.\", \"model\": \"chat-v7\"}\n"
      "]}";
  struct fd_error e = {0};
  json_t *body = fd_json_parse_object_new(text, strlen(text), &L, &e);
  json_t *items = NULL;
  CHECK(body && fd_batch_items(body, "messages", &L, &items, &e) && json_array_size(items) == 4);
  static const char *ids[] = {"m1", "m2", "m3", "m4"}, *parents[] = {"", "m1", "m2", "m2"},
                    *roles[] = {"system", "user", "assistant", "assistant"},
                    *contents[] = {"Be terse.", "Capital of France?", "Lyon.", "Paris."};
  for (size_t i = 0; items && i < json_array_size(items); i++) {
    char path[32];
    snprintf(path, sizeof path, "messages[%zu]", i);
    struct fd_message_row *r = fd_message_row_new(json_array_get(items, i), &L, path, &e);
    CHECK(r != NULL);
    if (!r) continue;
    CHECK_STR(r->id, ids[i]);
    CHECK_STR(r->conversation_id, "c1");
    CHECK_STR(r->parent_id, parents[i]);
    CHECK_STR(r->role, roles[i]);
    CHECK_STR(r->content, contents[i]);
    CHECK(r->content_len == strlen(contents[i]));
    CHECK(i < 2 ? r->model == NULL : strcmp(r->model, "chat-v7") == 0);
    CHECK(r->user == NULL && r->metadata_json == NULL);
    CHECK(r->created_at_defaulted && r->origin == FD_MESSAGE_CLIENT);
    fd_message_row_free(r);
  }
  json_decref(body);
  fd_message_row_free(NULL);
}

static void test_optional_fields(void) {
  json_t *it = with(with(with(msg(), "user", json_string("u42")), "created_at", json_string("2026-11-25T10:00:00Z")),
                    "metadata", J("{\"latency_ms\":812,\"a\":[true]}"));
  struct fd_message_row *r = ok_row(it);
  CHECK(r && strcmp(r->user, "u42") == 0);
  CHECK(r && !r->created_at_defaulted && r->created_at_us == INT64_C(1795600800000000));
  CHECK(r && r->metadata_json && strcmp(r->metadata_json, "{\"a\":[true],\"latency_ms\":812}") == 0);
  fd_message_row_free(r);
  json_decref(it);
  /* every role; empty content; nulls for optional members */
  static const char *roles[] = {"system", "user", "assistant", "tool"};
  for (int i = 0; i < 4; i++) EXPECT_OK(with(msg(), "role", json_string(roles[i])));
  EXPECT_OK(with(msg(), "content", json_string("")));
  EXPECT_OK(with(with(with(with(msg(), "model", json_null()), "user", json_null()), "metadata", json_null()),
                 "created_at", json_null()));
  EXPECT_OK(without(msg(), "parent_id"));
  EXPECT_OK(without(msg(), "model"));
}

static void test_required(void) {
  EXPECT_ERR(without(msg(), "id"), FD_ERR_MISSING_FIELD, "messages[2].id");
  EXPECT_ERR(without(msg(), "conversation_id"), FD_ERR_MISSING_FIELD, "messages[2].conversation_id");
  EXPECT_ERR(without(msg(), "role"), FD_ERR_MISSING_FIELD, "messages[2].role");
  EXPECT_ERR(without(msg(), "content"), FD_ERR_MISSING_FIELD, "messages[2].content");
  EXPECT_ERR(with(msg(), "id", json_null()), FD_ERR_MISSING_FIELD, "messages[2].id");
  EXPECT_ERR(with(msg(), "content", json_null()), FD_ERR_MISSING_FIELD, "messages[2].content");
  EXPECT_ERR_AT(without(msg(), "role"), NULL, FD_ERR_MISSING_FIELD, "role");
  EXPECT_ERR_AT(without(msg(), "role"), "", FD_ERR_MISSING_FIELD, "role");
}

static void test_shape(void) {
  EXPECT_ERR(J("[1]"), FD_ERR_INVALID_FIELD, "messages[2]");
  EXPECT_ERR(J("\"m1\""), FD_ERR_INVALID_FIELD, "messages[2]");
  EXPECT_ERR(json_null(), FD_ERR_INVALID_FIELD, "messages[2]");
  EXPECT_ERR(with(msg(), "foo", json_integer(1)), FD_ERR_UNKNOWN_FIELD, "messages[2].foo");
  EXPECT_ERR(with(msg(), "kind", json_string("rating")), FD_ERR_UNKNOWN_FIELD, "messages[2].kind");
  EXPECT_ERR(with(msg(), "tags", json_array()), FD_ERR_UNKNOWN_FIELD, "messages[2].tags");
  EXPECT_ERR(with(msg(), "message_id", json_string("x")), FD_ERR_UNKNOWN_FIELD, "messages[2].message_id");
}

static void test_ids(void) {
  static const char *fields[] = {"id", "conversation_id", "parent_id"};
  for (int f = 0; f < 3; f++) {
    char want[64];
    snprintf(want, sizeof want, "messages[2].%s", fields[f]);
    EXPECT_OK(with_str(msg(), fields[f], rep("a", 128, "")));
    EXPECT_ERR(with_str(msg(), fields[f], rep("a", 129, "")), FD_ERR_INVALID_FIELD, want);
    EXPECT_ERR(with(msg(), fields[f], json_string("")), FD_ERR_INVALID_FIELD, want);
    EXPECT_ERR(with(msg(), fields[f], json_string("a b")), FD_ERR_INVALID_FIELD, want);
    EXPECT_ERR(with(msg(), fields[f], json_string("\xc3\xa9")), FD_ERR_INVALID_FIELD, want);
    EXPECT_ERR(with(msg(), fields[f], json_integer(1)), FD_ERR_INVALID_FIELD, want);
    EXPECT_OK(with(msg(), fields[f], json_string("Az09._:-")));
  }
  EXPECT_ERR(with(msg(), "parent_id", json_string("m3")), FD_ERR_INVALID_FIELD, "messages[2].parent_id");
}

static void test_role_content(void) {
  EXPECT_ERR(with(msg(), "role", json_string("bot")), FD_ERR_INVALID_FIELD, "messages[2].role");
  EXPECT_ERR(with(msg(), "role", json_string("Assistant")), FD_ERR_INVALID_FIELD, "messages[2].role");
  EXPECT_ERR(with(msg(), "role", json_string("")), FD_ERR_INVALID_FIELD, "messages[2].role");
  EXPECT_ERR(with(msg(), "role", json_integer(0)), FD_ERR_INVALID_FIELD, "messages[2].role");
  EXPECT_ERR(with(msg(), "content", json_integer(0)), FD_ERR_INVALID_FIELD, "messages[2].content");
  EXPECT_ERR(with(msg(), "content", J("[\"a\"]")), FD_ERR_INVALID_FIELD, "messages[2].content");
  size_t max = 256 * 1024;
  EXPECT_OK(with_str(msg(), "content", rep("x", max, "")));
  EXPECT_ERR(with_str(msg(), "content", rep("x", max + 1, "")), FD_ERR_INVALID_FIELD, "messages[2].content");
  EXPECT_OK(with_str(msg(), "content", rep("\xe2\x82\xac", max / 3, "x")));
  EXPECT_ERR(with_str(msg(), "content", rep("\xe2\x82\xac", max / 3, "xy")), FD_ERR_INVALID_FIELD,
             "messages[2].content");
  EXPECT_ERR(with(msg(), "content", json_stringn("a\0b", 3)), FD_ERR_INVALID_FIELD, "messages[2].content");
}

static void test_model_user_meta_time(void) {
  EXPECT_OK(with_str(msg(), "model", rep("m", 128, "")));
  EXPECT_ERR(with_str(msg(), "model", rep("m", 129, "")), FD_ERR_INVALID_FIELD, "messages[2].model");
  EXPECT_OK(with_str(msg(), "model", rep("\xc3\xa9", 64, "")));
  EXPECT_ERR(with_str(msg(), "model", rep("\xc3\xa9", 64, "m")), FD_ERR_INVALID_FIELD, "messages[2].model");
  EXPECT_ERR(with(msg(), "model", json_string("")), FD_ERR_INVALID_FIELD, "messages[2].model");
  EXPECT_ERR(with(msg(), "model", json_integer(7)), FD_ERR_INVALID_FIELD, "messages[2].model");
  EXPECT_OK(with_str(msg(), "user", rep("u", 128, "")));
  EXPECT_ERR(with_str(msg(), "user", rep("u", 129, "")), FD_ERR_INVALID_FIELD, "messages[2].user");
  EXPECT_ERR(with(msg(), "user", json_string("")), FD_ERR_INVALID_FIELD, "messages[2].user");
  EXPECT_ERR(with(msg(), "created_at", json_string("2026-11-25")), FD_ERR_INVALID_FIELD, "messages[2].created_at");
  EXPECT_ERR(with(msg(), "created_at", json_integer(0)), FD_ERR_INVALID_FIELD, "messages[2].created_at");
  EXPECT_ERR(with(msg(), "metadata", json_array()), FD_ERR_INVALID_FIELD, "messages[2].metadata");
  char *s = rep("v", 16376, "");
  EXPECT_OK(with(msg(), "metadata", json_pack("{s:s}", "k", s)));
  free(s);
  s = rep("v", 16377, "");
  EXPECT_ERR(with(msg(), "metadata", json_pack("{s:s}", "k", s)), FD_ERR_INVALID_FIELD, "messages[2].metadata");
  free(s);
  json_t *deep = json_object();
  for (int i = 1; i < 16; i++) deep = json_pack("{s:o}", "d", deep);
  EXPECT_OK(with(msg(), "metadata", json_deep_copy(deep)));
  EXPECT_ERR(with(msg(), "metadata", json_pack("{s:o}", "d", deep)), FD_ERR_INVALID_FIELD, "messages[2].metadata");
}

static void expect_envelope_error(const char *text, enum fd_error_code code, const char *field) {
  json_t *body = J(text);
  json_t *items = NULL;
  struct fd_error e = {0};
  CHECK(!fd_batch_items(body, "messages", &L, &items, &e));
  CHECK(e.code == code);
  CHECK_STR(e.field, field);
  json_decref(body);
}

static void test_envelope(void) {
  expect_envelope_error("{}", FD_ERR_MISSING_FIELD, "messages");
  expect_envelope_error("{\"messages\":null}", FD_ERR_INVALID_FIELD, "messages");
  expect_envelope_error("{\"messages\":{\"id\":\"m1\"}}", FD_ERR_INVALID_FIELD, "messages");
  expect_envelope_error("{\"messages\":[],\"events\":[]}", FD_ERR_UNKNOWN_FIELD, "events");
  expect_envelope_error("{\"id\":\"m1\",\"role\":\"user\"}", FD_ERR_UNKNOWN_FIELD, "id");
  expect_envelope_error("[]", FD_ERR_INVALID_JSON, "");
  json_t *body = J("{\"messages\":[]}"), *items = NULL;
  struct fd_error e = {0};
  for (int i = 0; i < 1000; i++) json_array_append_new(json_object_get(body, "messages"), json_null());
  CHECK(fd_batch_items(body, "messages", &L, &items, &e) && json_array_size(items) == 1000);
  json_array_append_new(json_object_get(body, "messages"), json_null());
  CHECK(!fd_batch_items(body, "messages", &L, &items, &e) && e.code == FD_ERR_PAYLOAD_TOO_LARGE &&
        strcmp(e.field, "messages") == 0);
  json_decref(body);
}

static bool hash_of(const char *text, unsigned char out[FD_SHA256_LEN]) {
  json_t *it = J(text);
  struct fd_message_row *r = ok_row(it);
  if (r) memcpy(out, r->content_sha256, FD_SHA256_LEN);
  fd_message_row_free(r);
  json_decref(it);
  return r != NULL;
}

static int cmp_hash(const char *a, const char *b) {
  unsigned char ha[FD_SHA256_LEN], hb[FD_SHA256_LEN];
  if (!hash_of(a, ha) || !hash_of(b, hb)) return -1;
  return memcmp(ha, hb, FD_SHA256_LEN) == 0;
}

static void test_hash(void) {
  const char *a =
      "{\"id\":\"m3\",\"conversation_id\":\"c1\",\"parent_id\":\"m2\",\"role\":\"assistant\",\"content\":\"Lyon.\"}";
  CHECK(cmp_hash(a,
                 "{ \"content\" : \"Lyon.\", \"role\":\"assistant\",\n \"parent_id\":\"m2\",\"conversation_id\":\"c1\","
                 "\"id\":\"m3\" }") == 1);
  CHECK(cmp_hash(a,
                 "{\"id\":\"m3\",\"conversation_id\":\"c1\",\"parent_id\":\"m2\",\"role\":\"assistant\","
                 "\"content\":\"Paris.\"}") == 0);
  CHECK(cmp_hash(a,
                 "{\"id\":\"m3\",\"conversation_id\":\"c1\",\"parent_id\":\"m1\",\"role\":\"assistant\","
                 "\"content\":\"Lyon.\"}") == 0);
  CHECK(cmp_hash(a,
                 "{\"id\":\"m3\",\"conversation_id\":\"c1\",\"parent_id\":\"m2\",\"role\":\"assistant\","
                 "\"content\":\"Lyon.\",\"model\":\"x\"}") == 0);
  CHECK(cmp_hash("{\"id\":\"m1\",\"conversation_id\":\"c1\",\"role\":\"user\",\"content\":\"q\"}",
                 "{\"id\":\"m1\",\"conversation_id\":\"c1\",\"role\":\"user\",\"content\":\"q\",\"parent_id\":null}") ==
        1);
  /* the hash is SHA-256 of the sorted compact JSON, computed independently */
  unsigned char want[SHA256_DIGEST_LENGTH], got[FD_SHA256_LEN];
  const char *canon =
      "{\"content\":\"Lyon.\",\"conversation_id\":\"c1\",\"id\":\"m3\",\"parent_id\":\"m2\",\"role\":\"assistant\"}";
  SHA256((const unsigned char *)canon, strlen(canon), want);
  CHECK(hash_of(a, got) && memcmp(got, want, sizeof want) == 0);
}

int main(void) {
  L = fd_limits_default();
  RUN(test_api_example);
  RUN(test_optional_fields);
  RUN(test_required);
  RUN(test_shape);
  RUN(test_ids);
  RUN(test_role_content);
  RUN(test_model_user_meta_time);
  RUN(test_envelope);
  RUN(test_hash);
  return unit_report();
}
