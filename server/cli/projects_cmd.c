/* projects_cmd.c — `feedbackd projects create <slug> [--name N] [--origins O,…]
 * [--retention-days D|keep]`, `feedbackd projects list`, `feedbackd projects show <slug>` (the
 * project as GET /v1/project shows it) and `feedbackd projects set <slug> [--detect-feedback
 * on|off] [--detect-phrases JSON] [--retention-days D|keep]` (the settings of docs/detection.md
 * "Settings" and docs/operations.md "Retention and partitions", validated as PATCH /v1/project
 * validates them). */
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

/* --retention-days D|keep as the PATCH /v1/project member retention_days: D a number, keep
 * null, anything else a string (which the body's validation refuses). */
static json_t *retention_value(const char *value) {
  char *end = NULL;
  long long days = strtoll(value, &end, 10);
  if (strcmp(value, "keep") == 0) return json_null();
  if (*value && end && *end == '\0') return json_integer(days);
  return json_string(value);
}

/* Validate body as PATCH /v1/project does and apply its settings to project id. 0, 1 on a
 * database failure, 2 (with the message on stderr) when invalid; *p the project on success. */
static int patch_settings(struct fd_db *db, int64_t id, const json_t *body, json_t **p) {
  const char *name;
  const json_t *origins, *labels;
  struct fd_error err;
  if (!fd_project_patch_body_parse(body, &name, &origins, &labels, &err)) {
    fprintf(stderr, "feedbackd: %s (%s)\n", err.message, err.field);
    return 2;
  }
  json_t *settings = fd_project_patch_settings(body);
  int rc = settings && fd_projects_update(db, id, NULL, NULL, settings, p) == FD_DB_ONE ? 0 : 1;
  json_decref(settings);
  return rc;
}

static int create(struct fd_db *db, int argc, char **argv) {
  static const char *const valued[] = {"name", "origins", "retention-days", NULL};
  const char *slug = fd_arg_operand(argc, argv, 3, 0, valued);
  bool bad = false;
  const char *name = fd_arg_value(argc, argv, 3, "name", &bad);
  const char *origins = fd_arg_value(argc, argv, 3, "origins", &bad);
  const char *retention = fd_arg_value(argc, argv, 3, "retention-days", &bad);
  if (!slug || bad) {
    fprintf(stderr, "usage: feedbackd projects create <slug> [--name N] [--origins O,...] [--retention-days D|keep]\n");
    return 2;
  }
  /* checked before the project exists: a refused value creates nothing */
  json_t *body = json_object(), *ignored = NULL;
  if (retention) json_object_set_new(body, "retention_days", retention_value(retention));
  const char *n;
  const json_t *o0, *l0;
  struct fd_error perr;
  if (!fd_project_patch_body_parse(body, &n, &o0, &l0, &perr)) {
    fprintf(stderr, "feedbackd: %s (%s)\n", perr.message, perr.field);
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
  int rc = retention ? patch_settings(db, id, body, &ignored) : 0;
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
  if (!slug) {
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

/* The PATCH /v1/project body the flags stand for, or NULL after saying why. */
static json_t *set_body(int argc, char **argv) {
  bool bad = false;
  const char *detect = fd_arg_value(argc, argv, 3, "detect-feedback", &bad);
  const char *phrases = fd_arg_value(argc, argv, 3, "detect-phrases", &bad);
  const char *retention = fd_arg_value(argc, argv, 3, "retention-days", &bad);
  if (bad || (!detect && !phrases && !retention)) return NULL;
  json_t *body = json_object();
  if (retention) json_object_set_new(body, "retention_days", retention_value(retention));
  if (detect) {
    bool on = strcmp(detect, "on") == 0 || strcmp(detect, "true") == 0;
    if (!on && strcmp(detect, "off") != 0 && strcmp(detect, "false") != 0) {
      fprintf(stderr, "feedbackd: --detect-feedback takes on or off\n");
      json_decref(body);
      return NULL;
    }
    json_object_set_new(body, "detect_feedback", json_boolean(on));
  }
  if (phrases) {
    json_error_t jerr;
    json_t *v = json_loads(phrases, JSON_DECODE_ANY, &jerr);
    if (!v) {
      fprintf(stderr, "feedbackd: --detect-phrases is not JSON: %s\n", jerr.text);
      json_decref(body);
      return NULL;
    }
    json_object_set_new(body, "detect_phrases", v);
  }
  return body;
}

static int set(struct fd_db *db, int argc, char **argv) {
  static const char *const valued[] = {"detect-feedback", "detect-phrases", "retention-days", NULL};
  const char *slug = fd_arg_operand(argc, argv, 3, 0, valued);
  json_t *body = slug ? set_body(argc, argv) : NULL;
  if (!body) {
    fprintf(stderr,
            "usage: feedbackd projects set <slug> [--detect-feedback on|off] [--detect-phrases "
            "'{\"praise\": [...], \"complaint\": [...], \"correction\": [...]}'] [--retention-days D|keep]\n");
    return 2;
  }
  const char *name;
  const json_t *origins, *labels;
  struct fd_error err;
  int rc = 1;
  json_t *p = NULL;
  int64_t id = 0;
  /* validated before the project is looked up: a bad value is a usage error (2) either way */
  if (!fd_project_patch_body_parse(body, &name, &origins, &labels, &err)) {
    fprintf(stderr, "feedbackd: %s (%s)\n", err.message, err.field);
    rc = 2;
  } else if ((id = project_of(db, slug)) && (rc = patch_settings(db, id, body, &p)) == 0) {
    print_project(p);
  }
  json_decref(p);
  json_decref(body);
  return rc;
}

int fd_cli_projects(const struct fd_config *cfg, int argc, char **argv) {
  const char *sub = argc > 2 ? argv[2] : "";
  if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "set") != 0) {
    fprintf(stderr,
            "usage: feedbackd projects create <slug> [--name N] [--origins O,...] [--retention-days D|keep] | "
            "projects list | projects show <slug> | projects set <slug> [--detect-feedback on|off] "
            "[--detect-phrases JSON] [--retention-days D|keep]\n");
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
