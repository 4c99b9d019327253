/* projects_cmd.c — `feedbackd projects create <slug> [--name N] [--origins O,…]` and
 * `feedbackd projects list`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int create(struct fd_db *db, int argc, char **argv) {
  static const char *const valued[] = {"name", "origins", NULL};
  const char *slug = fd_arg_operand(argc, argv, 3, 0, valued);
  bool bad = false;
  const char *name = fd_arg_value(argc, argv, 3, "name", &bad);
  const char *origins = fd_arg_value(argc, argv, 3, "origins", &bad);
  if (!slug || bad) {
    fprintf(stderr, "usage: feedbackd projects create <slug> [--name N] [--origins O,...]\n");
    return 2;
  }
  json_t *o = fd_origins_from_csv(origins);
  char err[512];
  int64_t id = 0;
  enum fd_db_status st = fd_projects_create(db, slug, name ? name : slug, o, &id, err, sizeof err);
  json_decref(o);
  if (fd_db_failed(st)) {
    fprintf(stderr, "feedbackd: cannot create project '%s': %s", slug, err);
    return 1;
  }
  if (st == FD_DB_NONE) {
    fprintf(stderr, "feedbackd: project '%s' exists already\n", slug);
    return 1;
  }
  printf("%s\n", slug);
  return 0;
}

static int list(struct fd_db *db) {
  json_t *projects = NULL;
  if (fd_db_failed(fd_projects_list(db, &projects))) return 1;
  size_t i;
  json_t *p;
  printf("%-20s %-30s %-27s %s\n", "SLUG", "NAME", "CREATED", "ALLOWED ORIGINS");
  json_array_foreach(projects, i, p) {
    char *origins = json_dumps(json_object_get(p, "allowed_origins"), JSON_COMPACT | JSON_ENCODE_ANY);
    printf("%-20s %-30s %-27s %s\n", json_string_value(json_object_get(p, "slug")),
           json_string_value(json_object_get(p, "name")), json_string_value(json_object_get(p, "created_at")),
           origins ? origins : "");
    free(origins);
  }
  json_decref(projects);
  return 0;
}

int fd_cli_projects(const struct fd_config *cfg, int argc, char **argv) {
  const char *sub = argc > 2 ? argv[2] : "";
  if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0) {
    fprintf(stderr, "usage: feedbackd projects create <slug> [--name N] [--origins O,...] | projects list\n");
    return 2;
  }
  struct fd_embedded *emb;
  char conninfo[2048];
  struct fd_db *db = fd_cli_connect(cfg, &emb, conninfo, sizeof conninfo, NULL);
  if (!db) return 1;
  int rc = strcmp(sub, "create") == 0 ? create(db, argc, argv) : list(db);
  fd_db_close(db);
  fd_embedded_stop(emb);
  return rc;
}
