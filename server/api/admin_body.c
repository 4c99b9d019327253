/* admin_body.c — the bodies of POST /v1/keys and PATCH /v1/project (see admin_body.h). */
#include "api/admin_body.h"

#include <ctype.h>
#include <string.h>

#include "core/scope.h"
#include "http/cors.h"
#include "ingest/detect.h"
#include "ingest/reactions.h"
#include "ingest/validate_common.h"
#include "ingest/validate_fine.h"

#define LABEL_MAX_BYTES 200
#define NAME_MAX_BYTES 200
/* a century: the limit only keeps the interval arithmetic of the retention cutoff in range */
#define FD_RETENTION_DAYS_MAX 36500

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

/* span_labels: 1..SPAN_LABELS_MAX objects {"name", "value"}, names distinct strings of
 * 1..FD_SPAN_LABEL_MAX_BYTES bytes, values -1, 0 or 1 (what a span says about the text). */
#define SPAN_LABELS_MAX 50
static bool check_span_labels(const json_t *labels, struct fd_error *err) {
  static const char *const fields[] = {"name", "value", NULL};
  if (!json_is_array(labels) || json_array_size(labels) < 1 || json_array_size(labels) > SPAN_LABELS_MAX)
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "span_labels",
                        "span_labels must be a list of 1 to 50 objects {\"name\", \"value\"}");
  for (size_t i = 0; i < json_array_size(labels); i++) {
    char p[FD_PATH_MAX];
    fd_path_index(p, "span_labels", i);
    json_t *it = json_array_get(labels, i), *name = json_object_get(it, "name"), *value = json_object_get(it, "value");
    if (!json_is_object(it) || fd_first_unknown_key(it, fields) || !json_is_string(name) || !json_is_integer(value) ||
        json_string_length(name) < 1 || json_string_length(name) > FD_SPAN_LABEL_MAX_BYTES ||
        json_integer_value(value) < -1 || json_integer_value(value) > 1)
      return fd_error_set(err, FD_ERR_INVALID_FIELD, p,
                          "a span label is {\"name\": 1 to 64 bytes, \"value\": -1, 0 or 1} and nothing else");
    for (size_t j = 0; j < i; j++)
      if (json_equal(name, json_object_get(json_array_get(labels, j), "name")))
        return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "span label names must be distinct");
  }
  return true;
}

/* An SPDX identifier or expression, shape only ("CC-BY-4.0", "MIT OR Apache-2.0",
 * "LicenseRef-x"): 1..100 bytes of letters, digits, . + - : ( ) and single spaces, starting
 * with a letter or digit. The SPDX list itself changes over time and is not checked. */
static bool spdx_ok(const json_t *v) {
  if (!json_is_string(v)) return false;
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  if (n < 1 || n > 100 || strlen(s) != n || !isalnum((unsigned char)s[0]) || s[n - 1] == ' ') return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && !strchr(".+-:()", s[i]) && !(s[i] == ' ' && s[i + 1] != ' ')) return false;
  return true;
}

/* detect_phrases: an object with any of praise, complaint, correction, each a list of at
 * most FD_DETECT_PHRASES_MAX phrases the detector accepts (fd_detect_phrase_valid: 1 to 12
 * words, at most 200 bytes); docs/detection.md "Per-project phrases". */
static bool check_detect_phrases(const json_t *phrases, struct fd_error *err) {
  static const char *const classes[] = {"praise", "complaint", "correction", NULL};
  if (!json_is_object(phrases))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "detect_phrases",
                        "detect_phrases must be an object {\"praise\": [...], \"complaint\": [...], "
                        "\"correction\": [...]}");
  const char *unknown = fd_first_unknown_key(phrases, classes);
  if (unknown) {
    char p[FD_PATH_MAX];
    fd_path_key(p, "detect_phrases", unknown);
    return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "detect_phrases has only praise, complaint and correction");
  }
  for (const char *const *c = classes; *c; c++) {
    json_t *list = json_object_get(phrases, *c);
    char p[FD_PATH_MAX];
    fd_path_key(p, "detect_phrases", *c);
    if (!list) continue;
    if (!json_is_array(list) || json_array_size(list) > FD_DETECT_PHRASES_MAX)
      return fd_error_set(err, FD_ERR_INVALID_FIELD, p, "%s must be a list of at most %d phrases", p,
                          FD_DETECT_PHRASES_MAX);
    for (size_t i = 0; i < json_array_size(list); i++) {
      json_t *it = json_array_get(list, i);
      char q[FD_PATH_MAX];
      fd_path_index(q, p, i);
      if (!json_is_string(it) || !fd_detect_phrase_valid(json_string_value(it), json_string_length(it)))
        return fd_error_set(err, FD_ERR_INVALID_FIELD, q, "a phrase is a string of 1 to %d words and at most %d bytes",
                            FD_DETECT_PHRASE_MAX_WORDS, FD_DETECT_PHRASE_MAX_BYTES);
    }
  }
  return true;
}

bool fd_project_patch_body_parse(const json_t *body, const char **name, const json_t **origins,
                                 const json_t **span_labels, struct fd_error *err) {
  static const char *const fields[] = {"name",
                                       "allowed_origins",
                                       "span_labels",
                                       "reactions",
                                       "default_consent",
                                       "dataset_license",
                                       "detect_feedback",
                                       "detect_phrases",
                                       "retention_days",
                                       NULL};
  const char *unknown = fd_first_unknown_key(body, fields);
  if (unknown)
    return unknown_field(unknown,
                         " (name, allowed_origins, span_labels, reactions, default_consent, dataset_license, "
                         "detect_feedback, detect_phrases, retention_days can be changed)",
                         err);
  json_t *detect = json_object_get(body, "detect_feedback"), *phrases = json_object_get(body, "detect_phrases");
  if (detect && !json_is_boolean(detect))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "detect_feedback", "detect_feedback must be true or false");
  if (phrases && !check_detect_phrases(phrases, err)) return false;
  *span_labels = json_object_get(body, "span_labels");
  if (*span_labels && !check_span_labels(*span_labels, err)) return false;
  json_t *consent = json_object_get(body, "default_consent"), *license = json_object_get(body, "dataset_license");
  if (consent && !(json_is_string(consent) && (strcmp(json_string_value(consent), "train") == 0 ||
                                               strcmp(json_string_value(consent), "none") == 0)))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "default_consent", "default_consent must be \"train\" or \"none\"");
  if (license && !json_is_null(license) && !spdx_ok(license))
    return fd_error_set(
        err, FD_ERR_INVALID_FIELD, "dataset_license",
        "dataset_license must be an SPDX license identifier or expression (e.g. \"CC-BY-4.0\") or null");
  json_t *retention = json_object_get(body, "retention_days");
  if (retention && !json_is_null(retention) &&
      !(json_is_integer(retention) && json_integer_value(retention) >= 1 &&
        json_integer_value(retention) <= FD_RETENTION_DAYS_MAX))
    return fd_error_set(err, FD_ERR_INVALID_FIELD, "retention_days",
                        "retention_days must be a whole number of days from 1 to 36500, or null to keep everything");
  json_t *reactions = json_object_get(body, "reactions");
  struct fd_reaction_set set;
  if (reactions && !fd_reaction_set_parse(reactions, &set, err)) return false;
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

json_t *fd_project_patch_settings(const json_t *body) {
  static const char *const keys[] = {"span_labels",     "reactions",       "default_consent",
                                     "dataset_license", "detect_feedback", "retention_days"};
  json_t *settings = json_object();
  for (size_t i = 0; settings && i < sizeof keys / sizeof keys[0]; i++) {
    json_t *v = json_object_get(body, keys[i]);
    if (v) json_object_set(settings, keys[i], v);
  }
  /* detect_phrases replaces the project's phrases as a whole: a class left out has none */
  json_t *phrases = json_object_get(body, "detect_phrases");
  if (settings && phrases) {
    static const char *const classes[] = {"praise", "complaint", "correction"};
    json_t *all = json_object();
    for (size_t i = 0; all && i < sizeof classes / sizeof classes[0]; i++) {
      json_t *list = json_object_get(phrases, classes[i]);
      json_object_set_new(all, classes[i], list ? json_incref(list) : json_array());
    }
    json_object_set_new(settings, "detect_phrases", all);
  }
  return settings;
}
