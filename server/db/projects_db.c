/* projects_db.c — SQL for projects. */
#include "db/projects_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROJECT_JSON                                                   \
  "json_build_object('slug', slug, 'name', name, 'allowed_origins', "  \
  "coalesce(settings->'allowed_origins', '[]'::jsonb), 'created_at', " \
  "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))"

static struct fd_stmt stmt_create = {
    "projects_create",
    "INSERT INTO projects (slug, name, settings) VALUES ($1, $2, jsonb_build_object('allowed_origins', $3::jsonb)) "
    "ON CONFLICT (slug) DO NOTHING RETURNING id",
    0};
static struct fd_stmt stmt_list = {"projects_list", "SELECT id, " PROJECT_JSON " FROM projects ORDER BY id", 0};
static struct fd_stmt stmt_get = {"projects_get", "SELECT " PROJECT_JSON " FROM projects WHERE id = $1::bigint", 0};
static struct fd_stmt stmt_update = {"projects_update",
                                     "UPDATE projects SET name = coalesce($2, name), "
                                     "settings = CASE WHEN $3::jsonb IS NULL THEN settings "
                                     "ELSE jsonb_set(settings, '{allowed_origins}', $3::jsonb) END "
                                     "WHERE id = $1::bigint RETURNING " PROJECT_JSON,
                                     0};
static struct fd_stmt stmt_by_slug = {"projects_by_slug", "SELECT id FROM projects WHERE slug = $1", 0};
static struct fd_stmt stmt_origin = {"projects_origin",
                                     "SELECT EXISTS (SELECT 1 FROM projects WHERE settings->'allowed_origins' ? $1 "
                                     "OR settings->'allowed_origins' ? '*' OR settings->>'allowed_origins' = '*')",
                                     0};
static struct fd_stmt stmt_count = {"projects_count", "SELECT count(*) FROM projects", 0};

/* The single JSON column of row 0, parsed; NULL when there is none. */
static json_t *json_cell(PGresult *r, int row, int col) {
  if (!fd_db_ok(r) || PQntuples(r) <= row) return NULL;
  return json_loads(PQgetvalue(r, row, col), 0, NULL);
}

int64_t fd_projects_create(struct fd_db *db, const char *slug, const char *name, const json_t *origins, char *err,
                           size_t errlen) {
  char *o = json_dumps(origins ? origins : json_array(), JSON_COMPACT | JSON_ENCODE_ANY);
  const char *p[3] = {slug, name, o};
  PGresult *r = fd_db_exec(db, &stmt_create, 3, p);
  free(o);
  int64_t id = -1;
  if (!fd_db_ok(r)) {
    snprintf(err, errlen, "%s", r ? PQresultErrorMessage(r) : "connection lost");
  } else {
    id = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
  }
  PQclear(r);
  return id;
}

json_t *fd_projects_list(struct fd_db *db) {
  PGresult *r = fd_db_exec(db, &stmt_list, 0, NULL);
  json_t *out = fd_db_ok(r) ? json_array() : NULL;
  for (int i = 0; out && i < PQntuples(r); i++) {
    json_t *p = json_cell(r, i, 1);
    if (p) {
      json_object_set_new(p, "id", json_integer(strtoll(PQgetvalue(r, i, 0), NULL, 10)));
      json_array_append_new(out, p);
    }
  }
  PQclear(r);
  return out;
}

json_t *fd_projects_get(struct fd_db *db, int64_t project_id) {
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)project_id);
  const char *p[1] = {id};
  PGresult *r = fd_db_exec(db, &stmt_get, 1, p);
  json_t *out = json_cell(r, 0, 0);
  PQclear(r);
  return out;
}

json_t *fd_projects_update(struct fd_db *db, int64_t project_id, const char *name, const json_t *origins) {
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)project_id);
  char *o = origins ? json_dumps(origins, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  const char *p[3] = {id, name, o};
  PGresult *r = fd_db_exec(db, &stmt_update, 3, p);
  free(o);
  json_t *out = json_cell(r, 0, 0);
  PQclear(r);
  return out;
}

int64_t fd_projects_id_by_slug(struct fd_db *db, const char *slug) {
  const char *p[1] = {slug};
  PGresult *r = fd_db_exec(db, &stmt_by_slug, 1, p);
  int64_t id = !fd_db_ok(r) ? -1 : PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
  PQclear(r);
  return id;
}

int fd_projects_any_allows_origin(struct fd_db *db, const char *origin) {
  const char *p[1] = {origin};
  PGresult *r = fd_db_exec(db, &stmt_origin, 1, p);
  int out = fd_db_ok(r) && PQntuples(r) == 1 ? (PQgetvalue(r, 0, 0)[0] == 't') : -1;
  PQclear(r);
  return out;
}

long fd_projects_count(struct fd_db *db) {
  PGresult *r = fd_db_exec(db, &stmt_count, 0, NULL);
  long n = fd_db_ok(r) && PQntuples(r) == 1 ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : -1;
  PQclear(r);
  return n;
}
