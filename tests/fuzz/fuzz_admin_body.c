/* fuzz_admin_body.c — libFuzzer target for the JSON bodies of POST /v1/keys and PATCH
 * /v1/project: body bytes -> fd_json_parse_object_new (what api/body.c runs) -> the
 * validators of api/admin_body.c.
 *
 * Invariants (abort = finding):
 * - a failure is a 400 body error (missing/invalid/unknown field) whose field and message
 *   build the JSON error reply (jansson refuses invalid UTF-8: that reply would be a 500);
 * - keys: scopes is non-empty and only known bits; the label is at most 200 bytes;
 * - project: name 1..200 bytes; allowed_origins "*" or at most 100 strings, each "*" or
 *   http(s)://..., and an origin listed there is allowed by fd_cors_origin_allowed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_body.h"
#include "core/scope.h"
#include "http/cors.h"
#include "ingest/validate_common.h"

static struct fd_limits lim;

static void check_error(const struct fd_error *err) {
  if (err->code != FD_ERR_MISSING_FIELD && err->code != FD_ERR_INVALID_FIELD && err->code != FD_ERR_UNKNOWN_FIELD)
    abort();
  /* the reply fd_error_json builds (http/reply.c) */
  json_t *reply = json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", fd_error_code_name(err->code), "message",
                            err->message, "field", err->field[0] ? err->field : NULL);
  if (!reply) abort();
  json_decref(reply);
}

static void keys_create(const json_t *body) {
  unsigned scopes = 0;
  const char *label = NULL;
  struct fd_error err = {0};
  if (!fd_keys_create_body_parse(body, &scopes, &label, &err)) {
    check_error(&err);
    return;
  }
  if (scopes == 0 || (scopes & ~(unsigned)(FD_SCOPE_INGEST | FD_SCOPE_READ | FD_SCOPE_EXPORT | FD_SCOPE_ADMIN)) ||
      !label || strlen(label) > 200)
    abort();
}

static void project_patch(const json_t *body) {
  const char *name = NULL;
  const json_t *origins = NULL, *labels = NULL;
  struct fd_error err = {0};
  if (!fd_project_patch_body_parse(body, &name, &origins, &labels, &err)) {
    check_error(&err);
    return;
  }
  if (name && (strlen(name) < 1 || strlen(name) > 200)) abort();
  if (!origins) return;
  if (json_is_string(origins)) {
    if (strcmp(json_string_value(origins), "*") != 0 || !fd_cors_origin_allowed(origins, "https://a.example")) abort();
    return;
  }
  if (!json_is_array(origins) || json_array_size(origins) > 100) abort();
  size_t i;
  json_t *o;
  json_array_foreach(origins, i, o) {
    const char *s = json_string_value(o);
    if (!s || json_string_length(o) > 256) abort();
    if (strcmp(s, "*") && strncmp(s, "http://", 7) && strncmp(s, "https://", 8)) abort();
    if (!fd_cors_origin_allowed(origins, s)) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int init;
  if (!init) {
    lim = fd_limits_default();
    init = 1;
  }
  struct fd_error err = {0};
  json_t *body = fd_json_parse_object_new(data, size, &lim, &err);
  if (!body) return 0; /* the body parser is fuzz_ingest's */
  keys_create(body);
  project_patch(body);
  json_decref(body);
  return 0;
}
