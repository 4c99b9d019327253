/* projects_cmd.c — `feedbackd projects create <slug> [--name N] [--origins O,…] [settings]`,
 * `feedbackd projects list`, `feedbackd projects show <slug>` (the project as GET /v1/project
 * shows it) and `feedbackd projects set <slug> settings`: the project settings of PATCH
 * /v1/project (docs/operations.md "Project settings"), validated as that request validates them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_body.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "db/projects_db.h"

json_t *fd_origins_from_csv(const char *csv) {
  if (!csv) return json_array();
  if (strcmp(csv, "*") == 0) return json_string("*");
  json_t *arr = json_array();
  const char *p = csv;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len) json_array_append_new(arr, json_stringn(p, len));
    p += len + (comma ? 1 : 0);
  }
  return arr;
}

/* The settings flags of `projects create` and `projects set`: each stands for the
 * PATCH /v1/project member of the same name (docs/api.md "Administration"), and its text
 * becomes that member's JSON value as `kind` says. The values are then validated by
 * fd_project_patch_body_parse, as the API validates them: no rule of its own here. */
enum flag_kind {
  AS_JSON,    /* the text is JSON */
  AS_STRING,  /* the text as a string */
  AS_SWITCH,  /* on|true → true, off|false → false, other text a string (refused) */
  AS_DAYS,    /* keep → null, a whole number, other text a string (refused) */
  AS_LICENSE, /* none → null, other text a string */
};
static const struct setting_flag {
  const char *flag, *member;
  enum flag_kind kind;
} SETTING_FLAGS[] = {
    {"reactions", "reactions", AS_JSON},
    {"span-labels", "span_labels", AS_JSON},
    {"default-consent", "default_consent", AS_STRING},
    {"dataset-license", "dataset_license", AS_LICENSE},
    {"detect-feedback", "detect_feedback", AS_SWITCH},
    {"detect-phrases", "detect_phrases", AS_JSON},
    {"retention-days", "retention_days", AS_DAYS},
};
#define N_SETTING_FLAGS (sizeof SETTING_FLAGS / sizeof SETTING_FLAGS[0])

#define SETTINGS_USAGE                                                                                      \
  "[--reactions '[{\"name\", \"emoji\", \"value\"}, ...]'] [--span-labels '[{\"name\", \"value\"}, ...]'] " \
  "[--default-consent train|none] [--dataset-license SPDX|none] [--detect-feedback on|off] "                \
  "[--detect-phrases '{\"praise\": [...], \"complaint\": [...], \"correction\": [...]}'] "                  \
  "[--retention-days D|keep]"

/* The JSON value of a flag's text (kind not AS_JSON). */
static json_t *flag_value(enum flag_kind kind, const char *value) {
  char *end = NULL;
  if (kind == AS_SWITCH && (strcmp(value, "on") == 0 || strcmp(value, "true") == 0)) return json_true();
  if (kind == AS_SWITCH && (strcmp(value, "off") == 0 || strcmp(value, "false") == 0)) return json_false();
  if ((kind == AS_DAYS && strcmp(value, "keep") == 0) || (kind == AS_LICENSE && strcmp(value, "none") == 0))
    return json_null();
  long long days = kind == AS_DAYS ? strtoll(value, &end, 10) : 0;
  if (kind == AS_DAYS && *value && end && *end == '\0') return json_integer(days);
  /* argv text as given: not necessarily UTF-8, so made unchecked (every string setting
   * allows only ASCII, so validation refuses such text with its usual reason) */
  return json_string_nocheck(value);
}

/* The PATCH /v1/project body the settings flags of argv stand for (an empty object when none
 * is given), or NULL after saying why (a flag without a value, or JSON that does not parse). */
static json_t *settings_body(int argc, char **argv) {
  json_t *body = json_object();
  for (size_t i = 0; body && i < N_SETTING_FLAGS; i++) {
    const struct setting_flag *f = &SETTING_FLAGS[i];
    bool bad = false;
    json_error_t jerr;
    const char *text = fd_arg_value(argc, argv, 3, f->flag, &bad);
    json_t *v = !text                ? NULL
                : f->kind == AS_JSON ? json_loads(text, JSON_DECODE_ANY, &jerr)
                                     : flag_value(f->kind, text);
    if (bad || (text && !v)) {
      if (bad)
        fprintf(stderr, "feedbackd: --%s needs a value\n", f->flag);
      else
        fprintf(stderr, "feedbackd: --%s is not JSON: %s\n", f->flag, f->kind == AS_JSON ? jerr.text : "out of memory");
      json_decref(body);
      return NULL;
    }
    if (v) json_object_set_new(body, f->member, v);
  }
  return body;
}

/* True when body is a valid PATCH /v1/project body, else false after printing the API's reason. */
static bool settings_valid(const json_t *body) {
  const char *name;
  const json_t *origins, *labels;
  struct fd_error err;
  if (fd_project_patch_body_parse(body, &name, &origins, &labels, &err)) return true;
  fprintf(stderr, "feedbackd: %s (%s)\n", err.message, err.field);
  return false;
}

/* The flags taking a value: `first` ones of the command itself, then the settings flags.
 * NULL-terminated, in `out` (room for first + N_SETTING_FLAGS + 1). */
static const char *const *valued_flags(const char **out, const char *const *first) {
  size_t n = 0;
  for (; first && first[n]; n++) out[n] = first[n];
  for (size_t i = 0; i < N_SETTING_FLAGS; i++) out[n++] = SETTING_FLAGS[i].flag;
  out[n] = NULL;
  return out;
}

/* Said when argv holds a flag or operand the command does not take; true then. */
static bool stray(int argc, char **argv, const char *const *valued) {
  const char *a = fd_arg_stray(argc, argv, 3, 1, valued);
  if (a) fprintf(stderr, "feedbackd: projects %s does not take '%s'\n", argv[2], a);
  return a != NULL;
}

/* Apply the settings of body, valid, to project id. 0, or 1 on a database failure; *p the
 * project on success. */
static int patch_settings(struct fd_db *db, int64_t id, const json_t *body, json_t **p) {
  json_t *settings = fd_project_patch_settings(body);
  int rc = settings && fd_projects_update(db, id, NULL, NULL, settings, p) == FD_DB_ONE ? 0 : 1;
  json_decref(settings);
  return rc;
}

static int create(struct fd_db *db, int argc, char **argv) {
  static const char *const own[] = {"name", "origins", NULL};
  const char *valued_buf[3 + N_SETTING_FLAGS], *const *valued = valued_flags(valued_buf, own);
  const char *slug = fd_arg_operand(argc, argv, 3, 0, valued);
  bool bad = false;
  const char *name = fd_arg_value(argc, argv, 3, "name", &bad);
  const char *origins = fd_arg_value(argc, argv, 3, "origins", &bad);
  if (!slug || bad || stray(argc, argv, valued)) {
    fprintf(stderr, "usage: feedbackd projects create <slug> [--name N] [--origins O,...] " SETTINGS_USAGE "\n");
    return 2;
  }
  /* checked before the project exists: a refused value creates nothing */
  json_t *body = settings_body(argc, argv), *ignored = NULL;
  if (!body || !settings_valid(body)) {
    json_decref(body);
    return 2;
  }
  json_t *o = fd_origins_from_csv(origins);
  char err[512];
  int64_t id = 0;
  enum fd_db_status st = fd_projects_create(db, slug, name ? name : slug, o, &id, err, sizeof err);
  json_decref(o);
  if (fd_db_failed(st) || st == FD_DB_NONE) {
    if (st == FD_DB_NONE)
      fprintf(stderr, "feedbackd: project '%s' exists already\n", slug);
    else
      fprintf(stderr, "feedbackd: cannot create project '%s': %s", slug, err);
    json_decref(body);
    return 1;
  }
  int rc = json_object_size(body) ? patch_settings(db, id, body, &ignored) : 0;
  json_decref(ignored);
  json_decref(body);
  if (rc == 0) printf("%s\n", slug);
  return rc;
}

static int list(struct fd_db *db) {
  json_t *projects = NULL;
  if (fd_db_failed(fd_projects_list(db, &projects))) return 1;
  size_t i;
  json_t *p;
  printf("%-20s %-30s %-27s %-10s %s\n", "SLUG", "NAME", "CREATED", "RETENTION", "ALLOWED ORIGINS");
  json_array_foreach(projects, i, p) {
    char *origins = json_dumps(json_object_get(p, "allowed_origins"), JSON_COMPACT | JSON_ENCODE_ANY);
    char retention[24] = "keep";
    json_t *days = json_object_get(p, "retention_days");
    if (json_is_integer(days)) snprintf(retention, sizeof retention, "%lldd", (long long)json_integer_value(days));
    printf("%-20s %-30s %-27s %-10s %s\n", json_string_value(json_object_get(p, "slug")),
           json_string_value(json_object_get(p, "name")), json_string_value(json_object_get(p, "created_at")),
           retention, origins ? origins : "");
    free(origins);
  }
  json_decref(projects);
  return 0;
}

static void print_project(const json_t *p) {
  char *text = json_dumps(p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (text) printf("%s\n", text);
  free(text);
}

/* The project id of the slug operand, or 0 after saying why. */
static int64_t project_of(struct fd_db *db, const char *slug) {
  int64_t id = 0;
  enum fd_db_status st = fd_projects_id_by_slug(db, slug, &id);
  if (fd_db_failed(st)) return 0;
  if (st == FD_DB_NONE) fprintf(stderr, "feedbackd: no project '%s'\n", slug);
  return st == FD_DB_ONE ? id : 0;
}

static int show(struct fd_db *db, int argc, char **argv) {
  const char *slug = fd_arg_operand(argc, argv, 3, 0, NULL);
  if (!slug || stray(argc, argv, NULL)) {
    fprintf(stderr, "usage: feedbackd projects show <slug>\n");
    return 2;
  }
  int64_t id = project_of(db, slug);
  json_t *p = NULL;
  if (!id || fd_projects_get(db, id, &p) != FD_DB_ONE) return 1;
  print_project(p);
  json_decref(p);
  return 0;
}

static int set(struct fd_db *db, int argc, char **argv) {
  const char *valued_buf[1 + N_SETTING_FLAGS], *const *valued = valued_flags(valued_buf, NULL);
  const char *slug = fd_arg_operand(argc, argv, 3, 0, valued);
  json_t *body = slug && !stray(argc, argv, valued) ? settings_body(argc, argv) : NULL, *p = NULL;
  if (!body || !json_object_size(body)) {
    fprintf(stderr, "usage: feedbackd projects set <slug> " SETTINGS_USAGE " (at least one)\n");
    json_decref(body);
    return 2;
  }
  int rc = 2;
  int64_t id = 0;
  /* validated before the project is looked up: a bad value is a usage error (2) either way */
  if (settings_valid(body)) rc = (id = project_of(db, slug)) ? patch_settings(db, id, body, &p) : 1;
  if (rc == 0) print_project(p);
  json_decref(p);
  json_decref(body);
  return rc;
}

int fd_cli_projects(const struct fd_config *cfg, int argc, char **argv) {
  const char *sub = argc > 2 ? argv[2] : "";
  if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "set") != 0) {
    fprintf(stderr,
            "usage: feedbackd projects create <slug> [--name N] [--origins O,...] [SETTINGS] | projects list | "
            "projects show <slug> | projects set <slug> SETTINGS\n"
            "SETTINGS: " SETTINGS_USAGE "\n");
    return 2;
  }
  struct fd_embedded *emb;
  char conninfo[2048];
  struct fd_db *db = fd_cli_connect(cfg, &emb, conninfo, sizeof conninfo, NULL);
  if (!db) return 1;
  int rc = strcmp(sub, "create") == 0 ? create(db, argc, argv)
           : strcmp(sub, "show") == 0 ? show(db, argc, argv)
           : strcmp(sub, "set") == 0  ? set(db, argc, argv)
                                      : list(db);
  fd_db_close(db);
  fd_embedded_stop(emb);
  return rc;
}
