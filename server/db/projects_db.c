/* projects_db.c — SQL for projects. */
#include "db/projects_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/sql_time.h"
#include "db/txn.h"
#include "ingest/reactions.h"
#include "util/buf.h"

/* Settings a project never set show their defaults (span_labels: FD_SPAN_LABELS_SQL;
 * reactions: the built-in set; default_consent: train; dataset_license: null;
 * detect_feedback: true; detect_phrases: no extra phrase). */
#define PROJECT_JSON \
  "json_build_object('slug', slug, 'name', name, 'allowed_origins', "                       \
  "coalesce(settings->'allowed_origins', '[]'::jsonb), 'span_labels', " FD_SPAN_LABELS_SQL( \
      settings) ", 'reactions', coalesce(settings->'reactions', "                            \
  "'" FD_REACTIONS_DEFAULT_JSON "'::jsonb), 'default_consent', coalesce(settings->>'default_consent', 'train'), " \
  "'dataset_license', settings->'dataset_license', 'retention_days', settings->'retention_days', 'detect_feedback', "                                         \
  "coalesce(settings->'detect_feedback', 'true'::jsonb), 'detect_phrases', coalesce(settings->'detect_phrases', "  \
  "'{\"praise\": [], \"complaint\": [], \"correction\": []}'::jsonb), 'created_at', " TS("created_at") ")"

static struct fd_stmt stmt_create = {
    "projects_create",
    "INSERT INTO projects (slug, name, settings) VALUES ($1, $2, jsonb_build_object('allowed_origins', $3::jsonb)) "
    "ON CONFLICT (slug) DO NOTHING RETURNING id",
    0};
static struct fd_stmt stmt_list = {"projects_list", "SELECT id, " PROJECT_JSON " FROM projects ORDER BY id", 0};
static struct fd_stmt stmt_get = {"projects_get", "SELECT " PROJECT_JSON " FROM projects WHERE id = $1::bigint", 0};
static struct fd_stmt stmt_update = {"projects_update",
                                     "UPDATE projects SET name = coalesce($2, name), "
                                     "settings = settings"
                                     " || CASE WHEN $3::jsonb IS NULL THEN '{}'::jsonb"
                                     " ELSE jsonb_build_object('allowed_origins', $3::jsonb) END"
                                     " || coalesce($4::jsonb, '{}'::jsonb) "
                                     "WHERE id = $1::bigint RETURNING " PROJECT_JSON,
                                     0};
static struct fd_stmt stmt_by_slug = {"projects_by_slug", "SELECT id FROM projects WHERE slug = $1", 0};
/* Every origin some project allows ("*" among them when one allows all), distinct. */
static struct fd_stmt stmt_origins = {
    "projects_origins",
    "SELECT coalesce(jsonb_agg(DISTINCT o), '[]'::jsonb) FROM projects p, jsonb_array_elements_text("
    " CASE jsonb_typeof(p.settings->'allowed_origins') WHEN 'array' THEN p.settings->'allowed_origins'"
    " WHEN 'string' THEN jsonb_build_array(p.settings->'allowed_origins') ELSE '[]'::jsonb END) o",
    0};
static struct fd_stmt stmt_count = {"projects_count", "SELECT count(*) FROM projects", 0};

/* The status of a statement that returns at most one row whose column 0 is JSON, from its
 * result status st: FD_DB_ONE with *out parsed, FD_DB_NONE (*out NULL), or a failure. Clears r. */
static enum fd_db_status one_json(enum fd_db_status st, PGresult *r, json_t **out) {
  *out = NULL;
  if (st == FD_DB_ONE && !(*out = json_loads(PQgetvalue(r, 0, 0), 0, NULL)))
    st = fd_db_bug("project: bad JSON");
  else if (st > FD_DB_ONE)
    st = fd_db_bug("project: more than one row");
  PQclear(r);
  return st;
}

enum fd_db_status fd_projects_create(struct fd_db *db, const char *slug, const char *name, const json_t *origins,
                                     int64_t *id, char *err, size_t errlen) {
  char *o = json_dumps(origins ? origins : json_array(), JSON_COMPACT | JSON_ENCODE_ANY);
  const char *p[3] = {slug, name, o};
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_create, 3, p, &r);
  free(o);
  if (fd_db_failed(st))
    snprintf(err, errlen, "%s", r ? PQresultErrorMessage(r) : "connection lost");
  else if (st == FD_DB_ONE)
    *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return st;
}

enum fd_db_status fd_projects_list(struct fd_db *db, json_t **list) {
  PGresult *r = fd_db_exec(db, &stmt_list, 0, NULL);
  enum fd_db_status st = fd_db_result(db, r);
  json_t *out = fd_db_failed(st) ? NULL : json_array();
  for (int i = 0; out && i < PQntuples(r); i++) {
    json_t *p = json_loads(PQgetvalue(r, i, 1), 0, NULL);
    if (p) {
      json_object_set_new(p, "id", json_integer(strtoll(PQgetvalue(r, i, 0), NULL, 10)));
      json_array_append_new(out, p);
    }
  }
  PQclear(r);
  if (fd_db_failed(st)) return st;
  if (!(*list = out)) return fd_db_bug("project list: out of memory");
  return st;
}

enum fd_db_status fd_projects_get(struct fd_db *db, int64_t project_id, json_t **project) {
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)project_id);
  const char *p[1] = {id};
  PGresult *r = fd_db_exec(db, &stmt_get, 1, p);
  return one_json(fd_db_result(db, r), r, project);
}

enum fd_db_status fd_projects_update(struct fd_db *db, int64_t project_id, const char *name, const json_t *origins,
                                     const json_t *settings, json_t **project) {
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)project_id);
  char *o = origins ? json_dumps(origins, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  char *s = settings ? json_dumps(settings, JSON_COMPACT) : NULL;
  const char *p[4] = {id, name, o, s};
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_update, 4, p, &r);
  free(o);
  free(s);
  return one_json(st, r, project);
}

enum fd_db_status fd_projects_id_by_slug(struct fd_db *db, const char *slug, int64_t *id) {
  const char *p[1] = {slug};
  PGresult *r = fd_db_exec(db, &stmt_by_slug, 1, p);
  enum fd_db_status st = fd_db_result(db, r);
  if (st == FD_DB_ONE) *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return st;
}

enum fd_db_status fd_projects_all_origins(struct fd_db *db, json_t **origins) {
  PGresult *r = fd_db_exec(db, &stmt_origins, 0, NULL);
  enum fd_db_status st = one_json(fd_db_result(db, r), r, origins);
  if (st == FD_DB_ONE && !json_is_array(*origins)) {
    json_decref(*origins);
    *origins = NULL;
    st = fd_db_bug("origins: not an array");
  } else if (st == FD_DB_NONE) {
    st = fd_db_bug("origins: no row");
  }
  return st;
}

enum fd_db_status fd_projects_count(struct fd_db *db, long *count) {
  PGresult *r = fd_db_exec(db, &stmt_count, 0, NULL);
  enum fd_db_status st = fd_db_result(db, r);
  if (st == FD_DB_ONE)
    *count = strtol(PQgetvalue(r, 0, 0), NULL, 10);
  else if (!fd_db_failed(st))
    st = fd_db_bug("project count: not one row");
  PQclear(r);
  return st;
}

static struct fd_stmt stmt_fine_targets = {
    "projects_fine_targets",
    "SELECT " FD_SPAN_LABELS_SQL(p.settings) "::text, u.ord, m.content "
    "FROM projects p CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS u(id, ord) "
    "LEFT JOIN messages m ON m.project_id = p.id AND m.id = u.id "
    "WHERE p.id = $1::bigint",
    0};

enum fd_db_status fd_projects_fine_targets(struct fd_db *db, int64_t project_id, const char *const *message_ids,
                                           size_t n, json_t **labels, char **contents) {
  char pid[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  struct fd_buf ids = {0};
  fd_pgarray_begin(&ids);
  for (size_t i = 0; i < n; i++) fd_pgarray_text(&ids, message_ids[i]);
  fd_pgarray_end(&ids);
  if (ids.oom) {
    fd_buf_release(&ids);
    return fd_db_bug("fine targets: out of memory");
  }
  const char *p[2] = {pid, ids.data};
  PGresult *r = fd_db_exec(db, &stmt_fine_targets, 2, p);
  fd_buf_release(&ids);
  enum fd_db_status st = fd_db_result(db, r);
  *labels = NULL;
  for (size_t i = 0; i < n; i++) contents[i] = NULL;
  if (!fd_db_failed(st) && PQntuples(r) > 0) {
    *labels = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    for (int k = 0; k < PQntuples(r); k++) {
      size_t ord = strtoull(PQgetvalue(r, k, 1), NULL, 10);
      if (ord < 1 || ord > n || PQgetisnull(r, k, 2)) continue;
      /* a failed copy must not pass for "no such message", which skips the offset checks */
      if (!(contents[ord - 1] = strdup(PQgetvalue(r, k, 2)))) st = fd_db_bug("fine targets: out of memory");
    }
  }
  PQclear(r);
  if (!fd_db_failed(st) && !*labels) st = fd_db_bug("fine targets: no project or bad labels");
  return st;
}
