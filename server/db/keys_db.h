/* keys_db.h — API keys: only their SHA-256 is stored; the key is shown once at creation. */
#ifndef FD_DB_KEYS_DB_H
#define FD_DB_KEYS_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/pool.h"

/* What authentication needs to know about a key. */
struct fd_key_info {
  char key_id[40];
  int64_t project_id;
  char project_slug[64];
  unsigned scopes; /* enum fd_scope bits */
  bool revoked;
  json_t *allowed_origins; /* owned */
};


/* Create a key: generates it, stores its hash, returns the docs/api.md object
 * {"id","key","prefix","scopes","label","created_at"} (the only place the key appears),
 * NULL on error. */
json_t *fd_keys_create(struct fd_db *db, int64_t project_id, unsigned scopes, const char *label);

/* Look up a key by its SHA-256. 1 found (info filled; free allowed_origins), 0 unknown,
 * -1 database error. */
int fd_keys_lookup(struct fd_db *db, const unsigned char sha256[32], struct fd_key_info *info);

/* {"items": [...]} of a project's keys (project_id 0 = all projects, with "project"). */
json_t *fd_keys_list(struct fd_db *db, int64_t project_id);

/* Revoke a key of a project (project_id 0 = any). Returns its item, NULL if not found
 * (*db_error tells a database failure apart). */
json_t *fd_keys_revoke(struct fd_db *db, int64_t project_id, const char *key_id, bool *db_error);

#endif
