/* keys_db.h — API keys: only their SHA-256 is stored; the key is shown once at creation. */
#ifndef FD_DB_KEYS_DB_H
#define FD_DB_KEYS_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/pool.h"
#include "db/status.h"

/* What authentication needs to know about a key. */
struct fd_key_info {
  char key_id[40];
  int64_t project_id;
  char project_slug[64];
  unsigned scopes; /* enum fd_scope bits */
  bool revoked;
  json_t *allowed_origins; /* owned */
};

/* Statuses: db/status.h; JSON out-values are the caller's. */

/* Create a key: generates it, stores its hash. FD_DB_ONE: *key is the object of
 * docs/api.md {"id","key","prefix","scopes","label","created_at"} (the only place the key
 * appears). */
enum fd_db_status fd_keys_create(struct fd_db *db, int64_t project_id, unsigned scopes, const char *label, json_t **key)
    __attribute__((warn_unused_result));

/* Look up a key by its SHA-256. FD_DB_ONE: info filled (the caller frees
 * info->allowed_origins); FD_DB_NONE: unknown key. */
enum fd_db_status fd_keys_lookup(struct fd_db *db, const unsigned char sha256[32], struct fd_key_info *info)
    __attribute__((warn_unused_result));

/* *out (malloc'd, *n entries) = the first 8 bytes of the SHA-256 of every key not revoked,
 * each read as a big-endian uint64_t, unsorted. Returns the number of keys (NONE: none). */
enum fd_db_status fd_keys_active_prefixes(struct fd_db *db, uint64_t **out, size_t *n)
    __attribute__((warn_unused_result));

/* *list = {"items": [...]} of a project's keys (project_id 0 = all projects, with "project").
 * Returns the number of keys. */
enum fd_db_status fd_keys_list(struct fd_db *db, int64_t project_id, json_t **list) __attribute__((warn_unused_result));

/* Revoke a key of a project (project_id 0 = any). FD_DB_ONE: *item is its item;
 * FD_DB_NONE: no such key. */
enum fd_db_status fd_keys_revoke(struct fd_db *db, int64_t project_id, const char *key_id, json_t **item)
    __attribute__((warn_unused_result));

#endif
