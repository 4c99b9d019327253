/* projects_db.h — queries on projects (created by the operator's CLI; read and patched by
 * admin keys). JSON results are new references the caller decrefs. */
#ifndef FD_DB_PROJECTS_DB_H
#define FD_DB_PROJECTS_DB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/status.h"

/* Statuses: db/status.h; JSON out-values are the caller's. */

/* Create a project. origins: "*" string or array (borrowed). FD_DB_ONE: *id is its id;
 * FD_DB_NONE: the slug exists already. On a failure the database's message is in err. */
enum fd_db_status fd_projects_create(struct fd_db *db, const char *slug, const char *name, const json_t *origins,
                                     int64_t *id, char *err, size_t errlen) __attribute__((warn_unused_result));

/* *list = all projects, [{"id","slug","name","allowed_origins","created_at"}]. Returns their
 * number. */
enum fd_db_status fd_projects_list(struct fd_db *db, json_t **list) __attribute__((warn_unused_result));

/* FD_DB_ONE: *project is the GET /v1/project object of docs/api.md; FD_DB_NONE: no such
 * project. */
enum fd_db_status fd_projects_get(struct fd_db *db, int64_t project_id, json_t **project)
    __attribute__((warn_unused_result));

/* The project's span labels as a jsonb expression over its settings column: the defaults of
 * docs/api.md "Span feedback" until PATCH /v1/project replaces them. */
#define FD_SPAN_LABELS_SQL(settings)                                                       \
  "coalesce(" #settings                                                                    \
  "->'span_labels', '[{\"name\": \"incorrect\", \"value\": -1}, "                          \
  "{\"name\": \"irrelevant\", \"value\": -1}, {\"name\": \"incomplete\", \"value\": -1}, " \
  "{\"name\": \"unsafe\", \"value\": -1}, {\"name\": \"well_said\", \"value\": 1}]'::jsonb)"

/* Patch name and/or allowed_origins (either may be NULL), and merge `settings` (NULL or a
 * validated object of settings, e.g. {"span_labels": [...], "reactions": [...]}) over the
 * stored ones. FD_DB_ONE: *project is the updated project; FD_DB_NONE: no such project. */
enum fd_db_status fd_projects_update(struct fd_db *db, int64_t project_id, const char *name, const json_t *origins,
                                     const json_t *settings, json_t **project) __attribute__((warn_unused_result));

/* FD_DB_ONE: *id is the project of the slug; FD_DB_NONE: none has it. */
enum fd_db_status fd_projects_id_by_slug(struct fd_db *db, const char *slug, int64_t *id)
    __attribute__((warn_unused_result));

/* FD_DB_ONE: *origins is every origin some project allows, a JSON array of distinct strings
 * ("*" among them when a project allows any). */
enum fd_db_status fd_projects_all_origins(struct fd_db *db, json_t **origins) __attribute__((warn_unused_result));

/* FD_DB_ONE with *count the number of projects. */
enum fd_db_status fd_projects_count(struct fd_db *db, long *count) __attribute__((warn_unused_result));

/* What span and step events of a request are checked against: *labels = the project's span
 * labels; contents[i] = the stored content of message_ids[i] (a new string the caller
 * frees), NULL when no such message is stored. */
enum fd_db_status fd_projects_fine_targets(struct fd_db *db, int64_t project_id, const char *const *message_ids,
                                           size_t n, json_t **labels, char **contents)
    __attribute__((warn_unused_result));

#endif
