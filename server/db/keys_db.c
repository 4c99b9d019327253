/* keys_db.c — SQL for API keys. */
#include "db/keys_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/scope.h"
#include "db/sql_time.h"
#include "db/txn.h"
#include "util/crypto.h"

#define KEY_ITEM                                                                                      \
  "json_build_object('id', k.id, 'prefix', k.prefix, 'label', k.label, 'scopes', to_json(k.scopes), " \
  "'created_at', " TS("k.created_at") ", 'revoked_at', " TS("k.revoked_at") ", 'project', p.slug)"

static struct fd_stmt stmt_insert = {"keys_insert",
                                     "INSERT INTO api_keys (project_id, label, prefix, sha256, scopes) "
                                     "VALUES ($1::bigint, $2, $3, decode($4, 'hex'), string_to_array($5, ',')) "
                                     "RETURNING id, " TS("created_at"),
                                     0};
static struct fd_stmt stmt_lookup = {
    "keys_lookup",
    "SELECT k.id, k.project_id, p.slug, array_to_string(k.scopes, ','), k.revoked_at IS NOT NULL, "
    "coalesce(p.settings->'allowed_origins', '[]'::jsonb) "
    "FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE k.sha256 = decode($1, 'hex')",
    0};
static struct fd_stmt stmt_active_prefixes = {
    "keys_active_prefixes",
    "SELECT ('x' || encode(substr(sha256, 1, 8), 'hex'))::bit(64)::bigint FROM api_keys WHERE revoked_at IS NULL", 0};
static struct fd_stmt stmt_list = {"keys_list",
                                   "SELECT " KEY_ITEM
                                   " FROM api_keys k JOIN projects p ON p.id = k.project_id "
                                   "WHERE $1::bigint = 0 OR k.project_id = $1::bigint ORDER BY k.created_at, k.id",
                                   0};
static struct fd_stmt stmt_revoke = {
    "keys_revoke",
    "WITH r AS (UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
    " WHERE id::text = $2 AND ($1::bigint = 0 OR project_id = $1::bigint) RETURNING *) "
    "SELECT " KEY_ITEM " FROM r k JOIN projects p ON p.id = k.project_id",
    0};

enum fd_db_status fd_keys_create(struct fd_db *db, int64_t project_id, unsigned scopes, const char *label,
                                 json_t **key_out) {
  unsigned char raw[24];
  if (!fd_random_bytes(raw, sizeof raw)) return fd_db_bug("no random bytes for a key");
  char key[4 + 2 * sizeof raw + 1] = "fbd_";
  fd_hex_encode(raw, sizeof raw, key + 4);
  char prefix[13];
  snprintf(prefix, sizeof prefix, "%.12s", key);
  char hash[FD_SHA256_HEX_LEN + 1];
  fd_sha256_hex(key, strlen(key), hash);
  char pid[24], csv[64];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  fd_scopes_csv(scopes, csv, sizeof csv);
  const char *p[5] = {pid, label ? label : "", prefix, hash, csv};
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_insert, 5, p, &r);
  if (st == FD_DB_ONE) {
    *key_out =
        json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "id", PQgetvalue(r, 0, 0), "key", key, "prefix", prefix, "scopes",
                  fd_scopes_json(scopes), "label", label ? label : "", "created_at", PQgetvalue(r, 0, 1));
    if (!*key_out) st = fd_db_bug("key create: out of memory");
  } else if (!fd_db_failed(st)) {
    st = fd_db_bug("key create: not one row");
  }
  PQclear(r);
  return st;
}

enum fd_db_status fd_keys_lookup(struct fd_db *db, const unsigned char sha256[32], struct fd_key_info *info) {
  char hex[FD_SHA256_HEX_LEN + 1];
  fd_hex_encode(sha256, 32, hex);
  const char *p[1] = {hex};
  PGresult *r = fd_db_exec(db, &stmt_lookup, 1, p);
  enum fd_db_status st = fd_db_result(db, r);
  if (st > FD_DB_ONE) st = fd_db_bug("key lookup: two keys with one hash");
  if (st == FD_DB_ONE) {
    memset(info, 0, sizeof *info);
    snprintf(info->key_id, sizeof info->key_id, "%s", PQgetvalue(r, 0, 0));
    info->project_id = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    snprintf(info->project_slug, sizeof info->project_slug, "%s", PQgetvalue(r, 0, 2));
    if (!fd_scopes_parse_list(PQgetvalue(r, 0, 3), &info->scopes)) info->scopes = 0;
    info->revoked = PQgetvalue(r, 0, 4)[0] == 't';
    info->allowed_origins = json_loads(PQgetvalue(r, 0, 5), JSON_DECODE_ANY, NULL);
  }
  PQclear(r);
  return st;
}

enum fd_db_status fd_keys_active_prefixes(struct fd_db *db, uint64_t **out, size_t *n) {
  PGresult *r = fd_db_exec(db, &stmt_active_prefixes, 0, NULL);
  enum fd_db_status st = fd_db_result(db, r);
  if (!fd_db_failed(st)) {
    size_t rows = (size_t)PQntuples(r);
    uint64_t *v = malloc((rows ? rows : 1) * sizeof *v);
    if (v) {
      for (size_t i = 0; i < rows; i++) v[i] = (uint64_t)strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
      *out = v;
      *n = rows;
    } else {
      st = fd_db_bug("key prefixes: out of memory");
    }
  }
  PQclear(r);
  return st;
}

enum fd_db_status fd_keys_list(struct fd_db *db, int64_t project_id, json_t **list) {
  char pid[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  const char *p[1] = {pid};
  PGresult *r = fd_db_exec(db, &stmt_list, 1, p);
  enum fd_db_status st = fd_db_result(db, r);
  json_t *items = fd_db_failed(st) ? NULL : json_array();
  for (int i = 0; items && i < PQntuples(r); i++) {
    json_t *it = json_loads(PQgetvalue(r, i, 0), 0, NULL);
    if (it && project_id) json_object_del(it, "project");
    if (it) json_array_append_new(items, it);
  }
  PQclear(r);
  if (fd_db_failed(st)) return st;
  if (!items || !(*list = json_pack("{s:o}", "items", items))) return fd_db_bug("key list: out of memory");
  return st;
}

enum fd_db_status fd_keys_revoke(struct fd_db *db, int64_t project_id, const char *key_id, json_t **item) {
  char pid[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  const char *p[2] = {pid, key_id};
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_revoke, 2, p, &r);
  *item = NULL;
  if (st == FD_DB_ONE && !(*item = json_loads(PQgetvalue(r, 0, 0), 0, NULL)))
    st = fd_db_bug("key revoke: bad JSON");
  else if (st > FD_DB_ONE)
    st = fd_db_bug("key revoke: two keys with one id");
  if (*item && project_id) json_object_del(*item, "project");
  PQclear(r);
  return st;
}
