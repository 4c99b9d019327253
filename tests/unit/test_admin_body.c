/* test_admin_body.c — the bodies of POST /v1/keys and PATCH /v1/project (api/admin_body.c). */
#include <stdlib.h>

#include "api/admin_body.h"
#include "core/scope.h"
#include "ingest/validate_common.h"
#include "unit.h"

static json_t *obj(const char *text) { return json_loads(text, 0, NULL); }

static void test_keys(void) {
  unsigned scopes;
  const char *label;
  struct fd_error err;
  json_t *b = obj("{\"scopes\":[\"ingest\",\"read\"],\"label\":\"widget\"}");
  CHECK(fd_keys_create_body_parse(b, &scopes, &label, &err));
  CHECK(scopes == (FD_SCOPE_INGEST | FD_SCOPE_READ));
  CHECK_STR(label, "widget");
  json_decref(b);
  b = obj("{\"label\":\"x\"}");
  CHECK(!fd_keys_create_body_parse(b, &scopes, &label, &err) && err.code == FD_ERR_MISSING_FIELD);
  json_decref(b);
  b = obj("{\"scopes\":[],\"label\":\"x\"}");
  CHECK(!fd_keys_create_body_parse(b, &scopes, &label, &err) && err.code == FD_ERR_INVALID_FIELD);
  CHECK_STR(err.field, "scopes");
  json_decref(b);
  b = obj("{\"scopes\":[\"read\"],\"nope\":1}");
  CHECK(!fd_keys_create_body_parse(b, &scopes, &label, &err) && err.code == FD_ERR_UNKNOWN_FIELD);
  CHECK_STR(err.field, "nope");
  CHECK_STR(err.message, "unknown field 'nope'");
  json_decref(b);
}

static void test_project(void) {
  const char *name;
  const json_t *origins, *labels;
  struct fd_error err;
  json_t *b = obj("{\"name\":\"Chat\",\"allowed_origins\":[\"https://chat.example.com\"]}");
  CHECK(fd_project_patch_body_parse(b, &name, &origins, &labels, &err));
  CHECK_STR(name, "Chat");
  CHECK(json_array_size(origins) == 1);
  json_decref(b);
  b = obj("{\"allowed_origins\":[\"ftp://x\"]}");
  CHECK(!fd_project_patch_body_parse(b, &name, &origins, &labels, &err) && err.code == FD_ERR_INVALID_FIELD);
  CHECK_STR(err.field, "allowed_origins");
  json_decref(b);
  b = obj("{\"name\":\"\"}");
  CHECK(!fd_project_patch_body_parse(b, &name, &origins, &labels, &err) && err.code == FD_ERR_INVALID_FIELD);
  json_decref(b);
}

/* An unknown key of 150 two-byte characters: cut in the middle of one, the error's field
 * and message were invalid UTF-8 and the reply could not be built (500 "out of memory"). */
static void test_long_unknown_key(void) {
  char key[301];
  for (int i = 0; i < 150; i++) memcpy(key + 2 * i, "\xC3\xA9", 2);
  key[300] = '\0';
  json_t *b = json_object();
  json_object_set_new(b, key, json_true());
  unsigned scopes;
  const char *label, *name;
  const json_t *origins, *labels;
  struct fd_error err;
  CHECK(!fd_keys_create_body_parse(b, &scopes, &label, &err) && err.code == FD_ERR_UNKNOWN_FIELD);
  CHECK(fd_utf8_valid(err.field, strlen(err.field)) && fd_utf8_valid(err.message, strlen(err.message)));
  CHECK(strlen(err.field) > 100 && strncmp(err.field, key, strlen(err.field)) == 0);
  CHECK(!fd_project_patch_body_parse(b, &name, &origins, &labels, &err) && err.code == FD_ERR_UNKNOWN_FIELD);
  CHECK(fd_utf8_valid(err.field, strlen(err.field)) && fd_utf8_valid(err.message, strlen(err.message)));
  json_decref(b);
}

int main(void) {
  RUN(test_keys);
  RUN(test_project);
  RUN(test_long_unknown_key);
  return unit_report();
}
