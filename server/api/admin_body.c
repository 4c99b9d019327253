/* admin_body.c — the bodies of POST /v1/keys and PATCH /v1/project (see admin_body.h). */
#include "api/admin_body.h"

#include "core/scope.h"
#include "http/cors.h"
#include "ingest/validate_common.h"

#define LABEL_MAX_BYTES 200
#define NAME_MAX_BYTES 200

/* The key as field and in the message, cut at a character boundary (fd_path_key): a long
 * key cut inside a UTF-8 sequence would make the error reply unencodable (a 500). */
static bool unknown_field(const char *key, const char *hint, struct fd_error *err) {
  char field[FD_PATH_MAX];
  fd_path_key(field, NULL, key);
  return fd_error_set(err, FD_ERR_UNKNOWN_FIELD, field, "unknown field '%s'%s", field, hint);
}

bool fd_keys_create_body_parse(const json_t *body, unsigned *scopes, const char **label, struct fd_error *err) {
  static const char *const fields[] = {"scopes", "label", NULL};
  const char *unknown = fd_first_unknown_key(body, fields);
  if (unknown) return unknown_field(unknown, "", err);
  json_t *jscopes = json_object_get(body, "scopes"), *jlabel = json_object_get(body, "label");
  if (!jscopes) return fd_error_set(err, FD_ERR_MISSING_FIELD, "scopes", "scopes is required");
  *scopes = 0;
  if (!fd_scopes_parse_json(jscopes, scopes))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "scopes",
                        "scopes must be a non-empty list of ingest, read, export, admin");
  if (jlabel && (!json_is_string(jlabel) || json_string_length(jlabel) > LABEL_MAX_BYTES))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "label", "label must be a string of at most 200 bytes");
  *label = jlabel ? json_string_value(jlabel) : "";
  return true;
}

bool fd_project_patch_body_parse(const json_t *body, const char **name, const json_t **origins, struct fd_error *err) {
  static const char *const fields[] = {"name", "allowed_origins", NULL};
  const char *unknown = fd_first_unknown_key(body, fields);
  if (unknown) return unknown_field(unknown, " (name and allowed_origins can be changed)", err);
  json_t *jname = json_object_get(body, "name");
  *origins = json_object_get(body, "allowed_origins");
  if (jname && (!json_is_string(jname) || json_string_length(jname) < 1 || json_string_length(jname) > NAME_MAX_BYTES))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "name", "name must be a string of 1 to 200 bytes");
  if (*origins && !fd_cors_origins_valid(*origins))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "allowed_origins",
                        "allowed_origins must be \"*\" or a list of origins such as \"https://chat.example.com\"");
  *name = jname ? json_string_value(jname) : NULL;
  return true;
}
