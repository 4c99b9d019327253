/* consent_db.c — SQL for raters' consent (see consent_db.h). */
#include "db/consent_db.h"

#include <stdio.h>

#include "db/sql_time.h"
#include "db/txn.h"

static struct fd_stmt stmt_put = {
    "consent_put",
    "INSERT INTO consents AS c (project_id, user_ref, train) VALUES ($1::bigint, $2, $3::boolean) "
    "ON CONFLICT (project_id, user_ref) DO UPDATE SET train = excluded.train, updated_at = now(),"
    /* txid: the last change of the value, which incremental exports look for (migrations/
     * 0010_consent_txid.sql); saying the same again changes nothing there */
    " txid = CASE WHEN c.train IS DISTINCT FROM excluded.train THEN pg_current_xact_id() ELSE c.txid END "
    "RETURNING json_build_object('user', user_ref, 'train', train, 'updated_at', " TS("updated_at") ")",
    0};

/* No row: the project's default (anything but "none" is "train", the default). */
static struct fd_stmt stmt_get = {
    "consent_get",
    "SELECT json_build_object('user', $2::text, 'train',"
    " coalesce(c.train, coalesce(p.settings->>'default_consent', 'train') <> 'none'),"
    " 'updated_at', " TS("c.updated_at") ") "
    "FROM projects p LEFT JOIN consents c ON c.project_id = p.id AND c.user_ref = $2 WHERE p.id = $1::bigint",
    0};

static enum fd_db_status one_json(enum fd_db_status st, PGresult *r, json_t **out) {
  *out = NULL;
  if (st == FD_DB_ONE && !(*out = json_loads(PQgetvalue(r, 0, 0), 0, NULL))) st = fd_db_bug("consent: bad JSON");
  PQclear(r);
  return st;
}

enum fd_db_status fd_consent_put(struct fd_db *db, int64_t project_id, const char *user, bool train, json_t **out) {
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)project_id);
  const char *p[3] = {id, user, train ? "true" : "false"};
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_put, 3, p, &r);
  return one_json(st, r, out);
}

enum fd_db_status fd_consent_get(struct fd_db *db, int64_t project_id, const char *user, json_t **out) {
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)project_id);
  const char *p[2] = {id, user};
  PGresult *r = fd_db_exec(db, &stmt_get, 2, p);
  return one_json(fd_db_result(db, r), r, out);
}
