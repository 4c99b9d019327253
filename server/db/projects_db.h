/* projects_db.h — queries on projects (created by the operator's CLI; read and patched by
 * admin keys). JSON results are new references the caller decrefs. */
#ifndef FD_DB_PROJECTS_DB_H
#define FD_DB_PROJECTS_DB_H

#include <jansson.h>
#include <stdint.h>

#include "db/pool.h"

/* Create a project. origins: "*" string or array (borrowed). Returns its id, 0 if the slug
 * exists already, -1 on a database error (message in err). */
int64_t fd_projects_create(struct fd_db *db, const char *slug, const char *name, const json_t *origins, char *err,
                           size_t errlen);

/* All projects: [{"id","slug","name","allowed_origins","created_at"}], NULL on error. */
json_t *fd_projects_list(struct fd_db *db);

/* One project as docs/api.md's GET /v1/project object; NULL if missing or on error. */
json_t *fd_projects_get(struct fd_db *db, int64_t project_id);

/* Patch name and/or allowed_origins (either may be NULL). Returns the updated project. */
json_t *fd_projects_update(struct fd_db *db, int64_t project_id, const char *name, const json_t *origins);

/* Project id of a slug; 0 if none, -1 on error. */
int64_t fd_projects_id_by_slug(struct fd_db *db, const char *slug);

/* 1 if some project allows origin, 0 if none, -1 on error. */
int fd_projects_any_allows_origin(struct fd_db *db, const char *origin);

/* Number of projects, -1 on error. */
long fd_projects_count(struct fd_db *db);

#endif
