/* keys_cmd.c — `feedbackd keys create --project <slug> --scopes a,b [--label L]` (prints
 * the new key alone on one stdout line), `keys list [--project <slug>]`, `keys revoke <id>`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/scope.h"
#include "db/keys_db.h"
#include "db/projects_db.h"

static int64_t project_of(struct fd_db *db, const char *slug) {
  int64_t id = 0;
  enum fd_db_status st = fd_projects_id_by_slug(db, slug, &id);
  if (st == FD_DB_NONE)
    fprintf(stderr, "feedbackd: no project '%s' (create it with: feedbackd projects create %s)\n", slug, slug);
  if (fd_db_failed(st)) fprintf(stderr, "feedbackd: database error\n");
  return st == FD_DB_ONE ? id : 0;
}

static int create(struct fd_db *db, int argc, char **argv) {
  bool bad = false;
  const char *slug = fd_arg_value(argc, argv, 3, "project", &bad);
  const char *scopes_csv = fd_arg_value(argc, argv, 3, "scopes", &bad);
  const char *label = fd_arg_value(argc, argv, 3, "label", &bad);
  unsigned scopes;
  if (!slug || !scopes_csv || bad) {
    fprintf(stderr, "usage: feedbackd keys create --project <slug> --scopes ingest,read,export,admin [--label L]\n");
    return 2;
  }
  if (!fd_scopes_parse_list(scopes_csv, &scopes)) {
    fprintf(stderr, "feedbackd: --scopes must list some of ingest, read, export, admin (comma-separated)\n");
    return 2;
  }
  int64_t pid = project_of(db, slug);
  if (pid <= 0) return 1;
  json_t *k = NULL;
  if (fd_db_failed(fd_keys_create(db, pid, scopes, label ? label : "", &k))) {
    fprintf(stderr, "feedbackd: could not create the key\n");
    return 1;
  }
  printf("%s\n", json_string_value(json_object_get(k, "key")));
  fprintf(stderr, "created key %s (prefix %s) for project %s\n", json_string_value(json_object_get(k, "id")),
          json_string_value(json_object_get(k, "prefix")), slug);
  json_decref(k);
  return 0;
}

static int list(struct fd_db *db, int argc, char **argv) {
  bool bad = false;
  const char *slug = fd_arg_value(argc, argv, 3, "project", &bad);
  int64_t pid = 0;
  if (slug && (pid = project_of(db, slug)) <= 0) return 1;
  json_t *res = NULL;
  if (fd_db_failed(fd_keys_list(db, pid, &res))) return 1;
  printf("%-36s %-14s %-12s %-26s %-27s %s\n", "ID", "PROJECT", "PREFIX", "SCOPES", "CREATED", "REVOKED");
  size_t i;
  json_t *k;
  json_array_foreach(json_object_get(res, "items"), i, k) {
    char *scopes = json_dumps(json_object_get(k, "scopes"), JSON_COMPACT);
    const char *revoked = json_string_value(json_object_get(k, "revoked_at"));
    const char *project = json_string_value(json_object_get(k, "project"));
    printf("%-36s %-14s %-12s %-26s %-27s %s\n", json_string_value(json_object_get(k, "id")),
           project ? project : (slug ? slug : ""), json_string_value(json_object_get(k, "prefix")),
           scopes ? scopes : "", json_string_value(json_object_get(k, "created_at")), revoked ? revoked : "-");
    free(scopes);
  }
  json_decref(res);
  return 0;
}

static int revoke(struct fd_db *db, int argc, char **argv) {
  const char *id = fd_arg_operand(argc, argv, 3, 0, NULL);
  if (!id) {
    fprintf(stderr, "usage: feedbackd keys revoke <id>\n");
    return 2;
  }
  json_t *k = NULL;
  enum fd_db_status st = fd_keys_revoke(db, 0, id, &k);
  if (st != FD_DB_ONE) {
    fprintf(stderr, "feedbackd: %s\n", fd_db_failed(st) ? "database error" : "no such key");
    return 1;
  }
  printf("revoked %s\n", id);
  json_decref(k);
  return 0;
}

int fd_cli_keys(const struct fd_config *cfg, int argc, char **argv) {
  const char *sub = argc > 2 ? argv[2] : "";
  if (strcmp(sub, "create") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "revoke") != 0) {
    fprintf(stderr, "usage: feedbackd keys create|list|revoke ...\n");
    return 2;
  }
  struct fd_embedded *emb;
  char conninfo[2048];
  struct fd_db *db = fd_cli_connect(cfg, &emb, conninfo, sizeof conninfo, NULL);
  if (!db) return 1;
  int rc = strcmp(sub, "create") == 0 ? create(db, argc, argv)
           : strcmp(sub, "list") == 0 ? list(db, argc, argv)
                                      : revoke(db, argc, argv);
  fd_db_close(db);
  fd_embedded_stop(emb);
  return rc;
}
