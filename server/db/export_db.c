/* export_db.c — SQL of the preference export: the exports audit rows and the snapshot reader
 * (see export_db.h for the design). */
#include "db/export_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/txn.h"
#include "db/webhooks_sql.h"
#include "ingest/reactions.h"
#include "util/log.h"
#include "util/rfc3339.h"

/* Rows per FETCH: large enough that round trips do not dominate, small enough that a chunk
 * of long texts stays a few MiB. */
#define FETCH_ROWS "1000"

/* created_at in µs since the epoch. date_part is double precision (cheaper than numeric
 * extract); at today's epoch a double resolves 0.24 µs, so rounding to bigint is exact. */
#define US(col) "(date_part('epoch', " col ") * 1000000)::bigint"

/* The changes after watermark $2 (export_db.h "INCREMENTAL"): touch(c, mid, sub). The xmin
 * prefilter lets the txid indexes skip everything older than the watermark. A rater whose
 * consent changed touches every message their events name (feedback_user_idx). */
#define TOUCH_CTE                                                                                    \
  "WITH w AS (SELECT $2::pg_snapshot AS s, pg_snapshot_xmin($2::pg_snapshot) AS x),"                 \
  " named AS ("                                                                                      \
  "  SELECT f.message_id AS mid, f.other_message_id AS oid FROM feedback f, w"                       \
  "   WHERE f.project_id = $1::bigint AND f.txid >= w.x AND NOT pg_visible_in_snapshot(f.txid, w.s)" \
  "  UNION ALL"                                                                                      \
  "  SELECT f.message_id, f.other_message_id FROM feedback f, w"                                     \
  "   WHERE f.project_id = $1::bigint AND f.retracted_txid >= w.x"                                   \
  "     AND NOT pg_visible_in_snapshot(f.retracted_txid, w.s)"                                       \
  "  UNION ALL"                                                                                      \
  "  SELECT unnest(e.message_ids), NULL FROM erasures e, w"                                          \
  "   WHERE e.project_id = $1::bigint AND e.txid >= w.x AND NOT pg_visible_in_snapshot(e.txid, w.s)" \
  "  UNION ALL"                                                                                      \
  "  SELECT f.message_id, f.other_message_id FROM consents k, w, feedback f"                         \
  "   WHERE k.project_id = $1::bigint AND k.txid >= w.x AND NOT pg_visible_in_snapshot(k.txid, w.s)" \
  "     AND f.project_id = k.project_id AND f.user_ref = k.user_ref),"                               \
  " ids AS (SELECT mid FROM named UNION SELECT oid FROM named WHERE oid IS NOT NULL),"               \
  " touch AS ("                                                                                      \
  "  SELECT m.conversation_id AS c, m.id AS mid, false AS sub FROM messages m JOIN ids"              \
  "    ON m.project_id = $1::bigint AND m.id = ids.mid"                                              \
  "  UNION ALL"                                                                                      \
  "  SELECT m.conversation_id, m.id, true FROM messages m, w"                                        \
  "   WHERE m.project_id = $1::bigint AND m.txid >= w.x AND NOT pg_visible_in_snapshot(m.txid, w.s)) "

#define MESSAGES_SELECT \
  "SELECT m.conversation_id, m.id, m.parent_id, m.role, m.content, m.model, " US("m.created_at") ", m.seq" \
  " FROM messages m WHERE m.project_id = $1::bigint"

/* Each event under the conversation of each message it names (a comparison whose two
 * messages live in two conversations appears under both, once per conversation). Every kind
 * the export knows is loaded: comments are read by no rule but a counting one still names
 * its message for unknown_turn / invalid_prompt (docs/export.md "Manifest"). Reactions are
 * loaded when parameter R (a boolean) is true, signals when S is: only exports that read them
 * (reactions=true, format=reward, signals=true) pay for them. The last column is the rater's
 * consent (docs/export.md "Consent"): the consents row, else the project's default_consent;
 * joined here, in the same scan, so consent costs no query per row. */
#define FEEDBACK_SELECT(R, S) \
  "SELECT v.c, f.id, f.seq, f.kind, f.message_id, f.other_message_id, f.user_ref, f.value, f.scale,"      \
  "  f.edited_content, f.outcome, " US("f.created_at") ", f.retracted_at IS NOT NULL,"                    \
  "  f.span_start, f.span_end, f.span_label, f.step_index, f.reaction, f.signal,"                         \
  "  coalesce(cs.train, d.dflt)"                                                                          \
  " FROM feedback f"                                                                                      \
  " CROSS JOIN (SELECT coalesce(settings->>'default_consent', 'train') <> 'none' AS dflt FROM projects"  \
  "   WHERE id = $1::bigint) d"                                                                           \
  " LEFT JOIN consents cs ON cs.project_id = f.project_id AND cs.user_ref = f.user_ref"                   \
  " LEFT JOIN messages m1 ON m1.project_id = f.project_id AND m1.id = f.message_id"                        \
  " LEFT JOIN messages m2 ON f.other_message_id IS NOT NULL AND m2.project_id = f.project_id"             \
  "   AND m2.id = f.other_message_id"                                                                     \
  " CROSS JOIN LATERAL (VALUES (m1.conversation_id), (CASE WHEN m2.conversation_id IS DISTINCT FROM"      \
  "   m1.conversation_id THEN m2.conversation_id END)) v(c)"                                              \
  " WHERE f.project_id = $1::bigint AND (f.kind IN ('rating', 'comment', 'edit', 'comparison', 'span', 'step')" \
  "   OR (f.kind = 'reaction' AND " R "::boolean) OR (f.kind = 'signal' AND " S "::boolean))"            \
  "  AND v.c IS NOT NULL"

/* The project's settings the export reads, in the export's snapshot. */
static struct fd_stmt stmt_settings = {
    "export_settings",
    "SELECT coalesce(settings->>'default_consent', 'train'), settings->>'dataset_license',"
    " coalesce(settings->'reactions', '" FD_REACTIONS_DEFAULT_JSON
    "'::jsonb)::text"
    " FROM projects WHERE id = $1::bigint",
    0};

static struct fd_stmt stmt_check_after = {"export_check_after", "SELECT pg_snapshot_xmin($1::pg_snapshot)", 0};
static struct fd_stmt stmt_watermark = {"export_watermark", "SELECT pg_current_snapshot()::text", 0};
static struct fd_stmt stmt_export_snapshot = {"export_snapshot", "SELECT pg_export_snapshot()", 0};

static struct fd_stmt stmt_count_full = {
    "export_count_full", "SELECT count(DISTINCT conversation_id) FROM messages WHERE project_id = $1::bigint", 0};
static struct fd_stmt stmt_count_incr = {"export_count_incr", TOUCH_CTE "SELECT count(DISTINCT c) FROM touch", 0};

/* The queries: a full export's two, read as plain queries (export_db.h "PARALLEL") or, when
 * it cannot have its second connection, through cursors; an incremental export's three,
 * through cursors. */
#define M_FULL MESSAGES_SELECT " ORDER BY m.conversation_id COLLATE \"C\""
#define F_FULL FEEDBACK_SELECT("$2", "$3") " ORDER BY v.c COLLATE \"C\""
#define M_INCR                                          \
  TOUCH_CTE MESSAGES_SELECT                             \
      " AND m.conversation_id IN (SELECT c FROM touch)" \
      " ORDER BY m.conversation_id COLLATE \"C\""
#define F_INCR TOUCH_CTE FEEDBACK_SELECT("$3", "$4") " AND v.c IN (SELECT c FROM touch) ORDER BY v.c COLLATE \"C\""
#define T_INCR TOUCH_CTE "SELECT c, mid, sub FROM touch ORDER BY c COLLATE \"C\""
#define DECLARE(cursor, query) "DECLARE " cursor " NO SCROLL CURSOR FOR " query

static struct fd_stmt stmt_decl_m_full = {"export_decl_m_full", DECLARE("fd_export_m", M_FULL), 0};
static struct fd_stmt stmt_decl_f_full = {"export_decl_f_full", DECLARE("fd_export_f", F_FULL), 0};
static struct fd_stmt stmt_decl_m_incr = {"export_decl_m_incr", DECLARE("fd_export_m", M_INCR), 0};
static struct fd_stmt stmt_decl_f_incr = {"export_decl_f_incr", DECLARE("fd_export_f", F_INCR), 0};
static struct fd_stmt stmt_decl_t = {"export_decl_t", DECLARE("fd_export_t", T_INCR), 0};

static struct fd_stmt stmt_fetch_m = {"export_fetch_m", "FETCH FORWARD " FETCH_ROWS " FROM fd_export_m", 0};
static struct fd_stmt stmt_fetch_f = {"export_fetch_f", "FETCH FORWARD " FETCH_ROWS " FROM fd_export_f", 0};
static struct fd_stmt stmt_fetch_t = {"export_fetch_t", "FETCH FORWARD " FETCH_ROWS " FROM fd_export_t", 0};

static struct fd_stmt stmt_insert = {
    "export_insert",
    "INSERT INTO exports (project_id, format, params) VALUES ($1::bigint, $2, $3::jsonb)"
    " RETURNING id::text, " US("started_at"),
    0};
static struct fd_stmt stmt_finish = {
    "export_finish",
    "WITH u AS (UPDATE exports SET finished_at = $3::timestamptz, rows = $4::bigint, sha256 = $5, watermark = $6,"
    " manifest = $7::jsonb WHERE project_id = $1::bigint AND id = $2::uuid RETURNING *), "
    /* export.finished, committed with the finished row */
    "hook AS (" FD_WEBHOOK_ENQUEUE("export.finished", "u",
                                   "jsonb_build_object('id', r.id, 'format', r.format, 'records', r.rows,"
                                   " 'sha256', r.sha256, 'watermark', r.watermark, 'finished_at', " TS(
                                       "r.finished_at") ")") ") "
    "SELECT 1 FROM u",
    0};
static struct fd_stmt stmt_get = {
    "export_get",
    "SELECT manifest::text, id::text, format, params::text, " US("started_at") ", watermark, rows, sha256"
    " FROM exports WHERE project_id = $1::bigint AND id = $2::uuid",
    0};

/* ---- the exports table ----------------------------------------------------------------- */

enum fd_db_status fd_export_db_insert(struct fd_db *db, int64_t project_id, const char *format, const json_t *params,
                                      char id_out[37], char *started_at, size_t started_len) {
  char pid[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  char *params_text = json_dumps(params, JSON_COMPACT | JSON_REAL_PRECISION(15));
  if (!params_text) return fd_db_bug("export insert: out of memory");
  const char *p[3] = {pid, format, params_text};
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_insert, 3, p, &r);
  free(params_text);
  if (st == FD_DB_ONE) {
    snprintf(id_out, 37, "%s", PQgetvalue(r, 0, 0));
    char ts[FD_RFC3339_BUF];
    if (!fd_rfc3339_format(strtoll(PQgetvalue(r, 0, 1), NULL, 10), ts)) st = fd_db_bug("export insert: bad time");
    snprintf(started_at, started_len, "%s", ts);
  } else if (!fd_db_failed(st)) {
    st = fd_db_bug("export insert: not one row");
  }
  PQclear(r);
  return st;
}

enum fd_db_status fd_export_db_finish(struct fd_db *db, int64_t project_id, const char *id, const json_t *manifest) {
  char pid[24], rows[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  snprintf(rows, sizeof rows, "%lld", (long long)json_integer_value(json_object_get(manifest, "records")));
  char *text = json_dumps(manifest, JSON_COMPACT | JSON_REAL_PRECISION(15));
  if (!text) return fd_db_bug("export finish: out of memory");
  const char *p[7] = {pid,
                      id,
                      json_string_value(json_object_get(manifest, "finished_at")),
                      rows,
                      json_string_value(json_object_get(manifest, "sha256")),
                      json_string_value(json_object_get(manifest, "watermark")),
                      text};
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_finish, 7, p, &r);
  free(text);
  PQclear(r);
  return st;
}

/* A uuid in its canonical text form; anything else names no export (404, not a SQL error). */
static bool is_uuid(const char *s) {
  if (strlen(s) != 36) return false;
  for (int i = 0; i < 36; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

enum fd_db_status fd_export_db_get(struct fd_db *db, int64_t project_id, const char *id, json_t **manifest) {
  *manifest = NULL;
  if (!is_uuid(id)) return FD_DB_NONE;
  char pid[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  const char *p[2] = {pid, id};
  PGresult *r = fd_db_exec(db, &stmt_get, 2, p);
  enum fd_db_status st = fd_db_result(db, r);
  json_t *out = NULL;
  if (st != FD_DB_ONE) goto out; /* a failure, none, or (impossible: id is the key) several */
  if (!PQgetisnull(r, 0, 0)) {
    out = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    goto out;
  }
  /* Unfinished (running, aborted or failed): what is known so far. */
  char started[FD_RFC3339_BUF];
  if (!fd_rfc3339_format(strtoll(PQgetvalue(r, 0, 4), NULL, 10), started)) started[0] = '\0';
  json_t *params = json_loads(PQgetvalue(r, 0, 3), 0, NULL);
  out = json_pack("{s:s, s:s, s:o, s:s, s:n, s:o, s:n, s:n, s:n}", "id", PQgetvalue(r, 0, 1), "format",
                  PQgetvalue(r, 0, 2), "params", params ? params : json_object(), "started_at", started, "finished_at",
                  "watermark", PQgetisnull(r, 0, 5) ? json_null() : json_string(PQgetvalue(r, 0, 5)), "records",
                  "sha256", "exporter_version");
out:
  PQclear(r);
  if (st > FD_DB_ONE) st = fd_db_bug("export get: several rows");
  if (st == FD_DB_ONE && !(*manifest = out)) st = fd_db_bug("export get: bad manifest or out of memory");
  return st;
}

/* ---- the snapshot reader ---------------------------------------------------------------- */

/* The columns of MESSAGES_SELECT and FEEDBACK_SELECT. */
#define M_COLS 8
#define F_COLS 20
#define MAX_COLS F_COLS

/* A cursor is a server-side cursor FETCHed in chunks, or (stream set) a query read as
 * `COPY (query) TO STDOUT` on that connection, one text row at a time (line, split into
 * cols; NULL for SQL NULL). COPY rather than a plain query in single-row mode: libpq builds
 * a PGresult per row in single-row mode (its column descriptors copied each time), ~10 % of
 * an export's CPU in feedbackd, where a COPY row is one buffer (bench/README.md "export"). */
struct cursor {
  struct fd_stmt *fetch;
  struct fd_db *stream;
  PGresult *res;
  int row, n;
  bool open, eof, copying;
  char *line;
  const char *cols[MAX_COLS];
  int n_cols;
};

struct fd_export_reader {
  struct fd_db *db;
  char pid[24];
  char *after;
  char *watermark;
  bool in_tx;
  bool load_reactions, load_signals;
  bool default_train;
  char *license;
  struct fd_export_reaction set[FD_REACTIONS_MAX];
  size_t n_set;
  struct cursor m, f, t;
  struct fd_db *db2; /* the feedback query's connection of a streamed pass (export_db.h "PARALLEL") */
  struct fd_conversation *conv;
  struct fd_touch *touches;
  char **touch_ids;
  size_t n_touches, cap_touches;
  char error[256];
};

const char *fd_export_reader_watermark(const struct fd_export_reader *r) { return r->watermark; }
const char *fd_export_reader_license(const struct fd_export_reader *r) { return r->license; }
bool fd_export_reader_default_train(const struct fd_export_reader *r) { return r->default_train; }

const struct fd_export_reaction *fd_export_reader_reactions(const struct fd_export_reader *r, size_t *n) {
  *n = r->n_set;
  return r->set;
}

void fd_export_reader_load(struct fd_export_reader *r, bool reactions, bool signals) {
  r->load_reactions = reactions;
  r->load_signals = signals;
}
const char *fd_export_reader_error(const struct fd_export_reader *r) { return r->error; }

static void set_error_on(struct fd_export_reader *r, struct fd_db *db, const char *what) {
  const char *pg = PQerrorMessage(fd_db_conn(db));
  snprintf(r->error, sizeof r->error, "%s%s%s", what, pg && *pg ? ": " : "", pg ? pg : "");
  size_t len = strlen(r->error);
  while (len && (r->error[len - 1] == '\n' || r->error[len - 1] == ' ')) r->error[--len] = '\0';
}

static void set_error(struct fd_export_reader *r, const char *what) { set_error_on(r, r->db, what); }

/* Run a statement that returns no rows we need; a failure sets the error. */
static enum fd_db_status run(struct fd_export_reader *r, struct fd_stmt *stmt, int n, const char *const *p,
                             const char *what) {
  PGresult *res = fd_db_exec(r->db, stmt, n, p);
  enum fd_db_status st = fd_db_result(r->db, res);
  if (fd_db_failed(st)) set_error(r, what);
  PQclear(res);
  return st;
}

static void clear_touches(struct fd_export_reader *r) {
  for (size_t i = 0; i < r->n_touches; i++) free(r->touch_ids[i]);
  r->n_touches = 0;
}

/* End a streamed query that has not returned all its rows: cancel it and read what is left,
 * so that its connection is idle again (inside an aborted transaction, which ROLLBACK
 * ends). A connection that is gone returns no more results. */
static void stream_drain(struct cursor *c) {
  PGconn *conn = fd_db_conn(c->stream);
  PQfreemem(c->line);
  c->line = NULL;
  if (!c->eof && PQstatus(conn) == CONNECTION_OK) {
    PGcancel *cancel = PQgetCancel(conn);
    char err[128];
    /* A refused cancel only costs time: the rows are then read to the end below. */
    if (cancel && !PQcancel(cancel, err, sizeof err))
      fd_log(FD_LOG_WARN, "msg=\"export query not cancelled; reading it to its end\" error=\"%s\"", err);
    PQfreeCancel(cancel);
  }
  /* The rest of the COPY (up to the error the cancel causes) and its results; a COPY that
   * had not started yet starts with a PGRES_COPY_OUT result, whose rows the next turn reads. */
  for (;;) {
    char *row;
    if (c->copying)
      while (PQgetCopyData(conn, &row, 0) >= 0) PQfreemem(row);
    PGresult *res = PQgetResult(conn);
    if (!res) break;
    c->copying = PQresultStatus(res) == PGRES_COPY_OUT;
    PQclear(res);
    if (PQstatus(conn) != CONNECTION_OK) break;
  }
}

static void cursor_close(struct fd_export_reader *r, struct cursor *c, const char *close_sql) {
  PQclear(c->res);
  c->res = NULL;
  PQfreemem(c->line);
  c->line = NULL;
  c->row = c->n = 0;
  if (c->stream) {
    if (c->open) stream_drain(c);
    c->stream = NULL;
    c->open = c->eof = c->copying = false;
    return;
  }
  c->eof = false;
  if (c->open && r->in_tx) {
    char err[128];
    if (!fd_db_run(r->db, close_sql, err, sizeof err)) r->in_tx = PQstatus(fd_db_conn(r->db)) == CONNECTION_OK;
  }
  c->open = false;
}

static void close_all(struct fd_export_reader *r) {
  cursor_close(r, &r->m, "CLOSE fd_export_m");
  cursor_close(r, &r->f, "CLOSE fd_export_f");
  cursor_close(r, &r->t, "CLOSE fd_export_t");
}

void fd_export_reader_free(struct fd_export_reader *r) {
  if (!r) return;
  close_all(r);
  fd_db_close(r->db2); /* its transaction ends with it */
  if (r->in_tx) {
    char err[128];
    /* Read only: nothing to keep; ROLLBACK ends the snapshot. */
    if (!fd_db_run(r->db, "ROLLBACK", err, sizeof err)) { /* the connection is closed by its owner */
    }
  }
  fd_conversation_free(r->conv);
  clear_touches(r);
  free(r->touches);
  free(r->touch_ids);
  free(r->after);
  free(r->watermark);
  free(r->license);
  free(r);
}

/* Is `after` a snapshot? FD_DB_ONE yes, FD_DB_NONE no (the server rejects its text: SQLSTATE
 * class 22, data exception), else a failure. Outside the transaction: the rejection would
 * abort it. */
static enum fd_db_status check_after(struct fd_db *db, const char *after) {
  const char *p[1] = {after};
  PGresult *res = fd_db_exec(db, &stmt_check_after, 1, p);
  enum fd_db_status st =
      !fd_db_ok(res) && res && strncmp(fd_db_sqlstate(res), "22", 2) == 0 ? FD_DB_NONE : fd_db_result(db, res);
  PQclear(res);
  return st;
}

/* default_consent, dataset_license and the reaction set, as of the snapshot. */
static enum fd_db_status read_settings(struct fd_export_reader *r) {
  const char *p[1] = {r->pid};
  PGresult *res = fd_db_exec(r->db, &stmt_settings, 1, p);
  enum fd_db_status st = fd_db_result(r->db, res);
  if (st == FD_DB_ONE) {
    r->default_train = strcmp(PQgetvalue(res, 0, 0), "none") != 0;
    if (!PQgetisnull(res, 0, 1) && !(r->license = strdup(PQgetvalue(res, 0, 1))))
      st = fd_db_bug("export settings: out of memory");
    json_t *list = json_loads(PQgetvalue(res, 0, 2), 0, NULL);
    struct fd_reaction_set set;
    struct fd_error err;
    /* PATCH /v1/project validated the set; one that no longer parses counts no reaction. */
    if (!list || !fd_reaction_set_parse(list, &set, &err)) set.n = 0;
    json_decref(list);
    for (size_t i = 0; i < set.n; i++) {
      snprintf(r->set[i].name, sizeof r->set[i].name, "%s", set.r[i].name);
      r->set[i].value = set.r[i].value;
    }
    r->n_set = set.n;
  } else if (!fd_db_failed(st)) {
    st = fd_db_bug("export settings: no project");
  }
  PQclear(res);
  return st;
}

enum fd_db_status fd_export_reader_new(struct fd_db *db, int64_t project_id, const char *after,
                                       struct fd_export_reader **reader) {
  enum fd_db_status st = after ? check_after(db, after) : FD_DB_ONE;
  if (st != FD_DB_ONE) return st;
  struct fd_export_reader *r = calloc(1, sizeof *r);
  if (!r) return fd_db_bug("export reader: out of memory");
  r->db = db;
  snprintf(r->pid, sizeof r->pid, "%lld", (long long)project_id);
  r->m.fetch = &stmt_fetch_m;
  r->f.fetch = &stmt_fetch_f;
  r->t.fetch = &stmt_fetch_t;
  if (after && !(r->after = strdup(after))) goto oom;
  if (!fd_db_run(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, 0)) {
    st = fd_db_failure(db, "export BEGIN");
    goto fail;
  }
  r->in_tx = true;
  /* No JIT for the export's cursors: at 1M events their cost passes jit_inline_above_cost and
   * the compilation (inlining, optimisation) cost more than it saved: ~12% more cluster CPU
   * for the two cursors of a 100,000-conversation project (bench/README.md "export"). */
  if (!fd_db_run(db, "SET LOCAL jit = off", NULL, 0)) {
    st = fd_db_failure(db, "export SET jit");
    goto fail;
  }
  PGresult *res = fd_db_exec(db, &stmt_watermark, 0, NULL);
  st = fd_db_result(db, res);
  if (st == FD_DB_ONE) r->watermark = strdup(PQgetvalue(res, 0, 0));
  PQclear(res);
  if (st != FD_DB_ONE) {
    if (!fd_db_failed(st)) st = fd_db_bug("export watermark: not one row");
    goto fail;
  }
  if (!r->watermark) goto oom;
  if ((st = read_settings(r)) != FD_DB_ONE) goto fail;
  *reader = r;
  return FD_DB_ONE;
oom:
  st = fd_db_bug("export reader: out of memory");
fail:
  fd_export_reader_free(r);
  return st;
}

enum fd_db_status fd_export_reader_count(struct fd_export_reader *r, long *count) {
  const char *p[2] = {r->pid, r->after};
  PGresult *res = fd_db_exec(r->db, r->after ? &stmt_count_incr : &stmt_count_full, r->after ? 2 : 1, p);
  enum fd_db_status st = fd_db_result(r->db, res);
  if (st == FD_DB_ONE)
    *count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
  else if (!fd_db_failed(st))
    st = fd_db_bug("export count: not one row");
  if (fd_db_failed(st)) set_error(r, "counting conversations");
  PQclear(res);
  return st;
}

/* The value of conninfo keyword `kw` for a second connection that must reach the very server
 * db is connected to: a multi-host conninfo ("host=a,b", a DNS name with several addresses,
 * load_balance_hosts) could otherwise land it on another server, where the snapshot it
 * imports does not exist. So host, hostaddr and port are those of the live connection. */
static const char *same_server_value(PGconn *conn, const char *kw, const char *val) {
  const char *live = NULL;
  if (!strcmp(kw, "host"))
    live = PQhost(conn);
  else if (!strcmp(kw, "hostaddr"))
    live = PQhostaddr(conn);
  else if (!strcmp(kw, "port"))
    live = PQport(conn);
  else
    return val;
  return live && *live ? live : val;
}

/* A copy of db's connection parameters as a conninfo string (values quoted, ' and \\
 * escaped), for a second connection to the same server as the same user. The caller frees. */
static char *conninfo_of(struct fd_db *db) {
  PGconn *conn = fd_db_conn(db);
  PQconninfoOption *opts = PQconninfo(conn);
  if (!opts) return NULL;
  size_t cap = 1;
  for (PQconninfoOption *o = opts; o->keyword; o++) {
    const char *v = same_server_value(conn, o->keyword, o->val);
    if (v) cap += strlen(o->keyword) + 2 * strlen(v) + 5;
  }
  char *out = malloc(cap), *p = out;
  if (out) {
    for (PQconninfoOption *o = opts; o->keyword; o++) {
      const char *val = same_server_value(conn, o->keyword, o->val);
      if (!val) continue;
      p += sprintf(p, "%s='", o->keyword);
      for (const char *v = val; *v; v++) {
        if (*v == '\'' || *v == '\\') *p++ = '\\';
        *p++ = *v;
      }
      p += sprintf(p, "' ");
    }
    *p = '\0';
  }
  PQconninfoFree(opts);
  return out;
}

/* `COPY (sql) TO STDOUT` with $1..$n of sql replaced by p[0..n) (COPY takes no bind
 * parameters: the callers' values are a project id and booleans, spliced as literals). NULL
 * when out of memory. */
static char *copy_sql(const char *sql, int n, const char *const *p) {
  static const char head[] = "COPY (", tail[] = ") TO STDOUT";
  size_t cap = sizeof head + strlen(sql) + sizeof tail;
  for (const char *q = sql; (q = strchr(q, '$')); q++)
    if (q[1] >= '1' && q[1] < '1' + n) cap += strlen(p[q[1] - '1']);
  char *out = malloc(cap), *w = out;
  if (!out) return NULL;
  w = stpcpy(w, head);
  for (const char *q = sql; *q; q++) {
    if (q[0] == '$' && q[1] >= '1' && q[1] < '1' + n) {
      w = stpcpy(w, p[q[1] - '1']);
      q++;
    } else {
      *w++ = *q;
    }
  }
  strcpy(w, tail);
  return out;
}

/* Send `sql` on db as a COPY: c streams its rows. */
static enum fd_db_status stream_send(struct fd_export_reader *r, struct fd_db *db, struct cursor *c, const char *sql,
                                     int n_cols, int n, const char *const *p, const char *what) {
  char *copy = copy_sql(sql, n, p);
  if (!copy) return fd_db_bug("export reader: out of memory");
  PGconn *conn = fd_db_conn(db);
  bool sent = PQsendQuery(conn, copy);
  free(copy);
  if (!sent) {
    set_error_on(r, db, what);
    return fd_db_failure(db, "export stream send");
  }
  c->stream = db;
  c->n_cols = n_cols;
  c->open = true;
  return FD_DB_ONE;
}

/* A full export (export_db.h "PARALLEL"): the messages query on the reader's
 * connection and the feedback query on a second one that imports the transaction's snapshot,
 * both sent at once as COPYs read row by row. FD_DB_NONE: no second connection could
 * be had, the caller declares cursors instead. */
static enum fd_db_status stream_start(struct fd_export_reader *r) {
  PGresult *res = fd_db_exec(r->db, &stmt_export_snapshot, 0, NULL);
  enum fd_db_status st = fd_db_result(r->db, res);
  char snap[96] = "";
  if (st == FD_DB_ONE) snprintf(snap, sizeof snap, "%s", PQgetvalue(res, 0, 0));
  PQclear(res);
  if (st != FD_DB_ONE) {
    set_error(r, "exporting the snapshot");
    return fd_db_failed(st) ? st : fd_db_bug("export snapshot: not one row");
  }
  /* A snapshot id is hex digits and dashes (it is spliced into SQL below). */
  if (!*snap || strspn(snap, "0123456789ABCDEFabcdef-") != strlen(snap)) return fd_db_bug("export snapshot: odd id");
  char *ci = conninfo_of(r->db), cerr[160];
  if (!ci) return fd_db_bug("export reader: out of memory");
  r->db2 = fd_db_connect(ci, false, cerr, sizeof cerr);
  free(ci);
  char sql[256];
  snprintf(sql, sizeof sql,
           "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '%s'; SET LOCAL jit = off", snap);
  if (r->db2 && !fd_db_run(r->db2, sql, cerr, sizeof cerr)) {
    fd_db_close(r->db2);
    r->db2 = NULL;
  }
  if (!r->db2) {
    /* The second connection is a speed-up, not a need: with the server at its connection
     * limit the export reads through cursors on its one connection (docs/operations.md). */
    fd_log(FD_LOG_WARN, "msg=\"export reads on one connection: no second connection\" error=\"%s\"", cerr);
    return FD_DB_NONE;
  }
  const char *re = r->load_reactions ? "true" : "false", *si = r->load_signals ? "true" : "false";
  const char *pm[1] = {r->pid}, *pf[3] = {r->pid, re, si};
  st = stream_send(r, r->db2, &r->f, F_FULL, F_COLS, 3, pf, "sending the feedback query");
  if (st == FD_DB_ONE) st = stream_send(r, r->db, &r->m, M_FULL, M_COLS, 1, pm, "sending the messages query");
  return st;
}

PGcancel *fd_export_reader_cancel_second(struct fd_export_reader *r) {
  return r->db2 ? PQgetCancel(fd_db_conn(r->db2)) : NULL;
}

/* Split a COPY text row (PostgreSQL's COPY "Text Format": fields separated by tabs, \N for
 * NULL, backslash escapes; the row ends with a newline) into c->cols in place, unescaped, each
 * NUL-terminated: the same strings PQgetvalue gives for a plain query. False when the row does
 * not have c->n_cols fields. */
static bool copy_split(struct cursor *c, char *s, int len) {
  char *p = s, *w = s, *end = s + len;
  if (len > 0 && end[-1] == '\n') end--;
  for (int k = 0;; k++) {
    if (k == c->n_cols) return false;
    if (p[0] == '\\' && p[1] == 'N' && (p + 2 == end || p[2] == '\t')) {
      c->cols[k] = NULL;
      p += 2;
    } else {
      c->cols[k] = w;
      /* A raw tab is always a delimiter (a tab in the data is written \t). Pieces without
       * a backslash move as a whole, and not at all before the row's first escape. */
      char *tab = memchr(p, '\t', (size_t)(end - p));
      if (!tab) tab = end;
      for (;;) {
        char *bs = memchr(p, '\\', (size_t)(tab - p)), *stop = bs ? bs : tab;
        if (w != p) memmove(w, p, (size_t)(stop - p));
        w += stop - p;
        p = stop;
        if (!bs) break;
        if (++p == tab) return false;
        /* COPY TO writes these escapes and "\\" for a backslash (and the delimiter, a tab,
         * as \t); any other escaped character stands for itself. */
        switch (*p) {
          case 'b': *w++ = '\b'; break;
          case 'f': *w++ = '\f'; break;
          case 'n': *w++ = '\n'; break;
          case 'r': *w++ = '\r'; break;
          case 't': *w++ = '\t'; break;
          case 'v': *w++ = '\v'; break;
          default: *w++ = *p; break;
        }
        p++;
      }
      *w++ = '\0'; /* w <= p: at most the tab or the end is overwritten */
    }
    if (p == end) return k + 1 == c->n_cols;
    p++; /* the tab */
  }
}

/* The next row of a streamed query into c: FD_DB_ONE, FD_DB_NONE (no more rows) or a failure. */
static enum fd_db_status stream_peek(struct fd_export_reader *r, struct cursor *c) {
  PGconn *conn = fd_db_conn(c->stream);
  PQfreemem(c->line);
  c->line = NULL;
  c->row = c->n = 0;
  if (!c->copying) { /* the first row: the COPY's start, or the query's error */
    PGresult *res = PQgetResult(conn);
    if (!res || PQresultStatus(res) != PGRES_COPY_OUT) {
      set_error_on(r, c->stream, "reading a query");
      enum fd_db_status st = res ? fd_db_result(c->stream, res) : fd_db_failure(c->stream, "export stream read");
      PQclear(res);
      return fd_db_failed(st) ? st : fd_db_bug("export stream: odd result");
    }
    PQclear(res);
    c->copying = true;
  }
  int len = PQgetCopyData(conn, &c->line, 0);
  if (len >= 0) {
    if (!copy_split(c, c->line, len)) {
      snprintf(r->error, sizeof r->error, "a row of the export's COPY has not %d fields", c->n_cols);
      return fd_db_bug(r->error);
    }
    c->n = 1;
    return FD_DB_ONE;
  }
  /* -1: the COPY is over, its result says how; -2: the connection failed. */
  PGresult *res = len == -1 ? PQgetResult(conn) : NULL;
  if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
    PQclear(res);
    c->eof = true;
    PGresult *more;
    while ((more = PQgetResult(conn))) PQclear(more); /* the end of the query */
    c->open = false;
    return FD_DB_NONE;
  }
  set_error_on(r, c->stream, "reading a query");
  enum fd_db_status st = res ? fd_db_result(c->stream, res) : fd_db_failure(c->stream, "export stream read");
  PQclear(res);
  return fd_db_failed(st) ? st : fd_db_bug("export stream: odd result");
}

enum fd_db_status fd_export_reader_rewind(struct fd_export_reader *r) {
  close_all(r);
  if (!r->in_tx) {
    snprintf(r->error, sizeof r->error, "the export transaction is gone");
    return fd_db_failure(r->db, "export rewind without a transaction");
  }
  if (!r->after && r->db2) return fd_db_bug("export reader: a second pass");
  if (!r->after) {
    enum fd_db_status st = stream_start(r);
    if (st != FD_DB_NONE) return st;
  }
  const char *re = r->load_reactions ? "true" : "false", *si = r->load_signals ? "true" : "false";
  const char *p[2] = {r->pid, r->after};
  const char *pf_full[3] = {r->pid, re, si}, *pf_incr[4] = {r->pid, r->after, re, si};
  enum fd_db_status st =
      run(r, r->after ? &stmt_decl_m_incr : &stmt_decl_m_full, r->after ? 2 : 1, p, "declaring the messages cursor");
  if (fd_db_failed(st)) return st;
  r->m.open = true;
  st = r->after ? run(r, &stmt_decl_f_incr, 4, pf_incr, "declaring the feedback cursor")
                : run(r, &stmt_decl_f_full, 3, pf_full, "declaring the feedback cursor");
  if (fd_db_failed(st)) return st;
  r->f.open = true;
  if (r->after) {
    st = run(r, &stmt_decl_t, 2, p, "declaring the changes cursor");
    if (fd_db_failed(st)) return st;
    r->t.open = true;
  }
  return FD_DB_ONE;
}

/* Make c's current row available: FD_DB_ONE yes, FD_DB_NONE cursor exhausted, or a failure. */
static enum fd_db_status cursor_peek(struct fd_export_reader *r, struct cursor *c) {
  if (c->row < c->n) return FD_DB_ONE;
  if (c->eof || !c->open) return FD_DB_NONE;
  if (c->stream) return stream_peek(r, c);
  PQclear(c->res);
  c->res = fd_db_exec(r->db, c->fetch, 0, NULL);
  c->row = 0;
  c->n = 0;
  enum fd_db_status st = fd_db_result(r->db, c->res);
  if (fd_db_failed(st)) {
    set_error(r, "fetching from a cursor");
    return st;
  }
  c->n = PQntuples(c->res);
  if (c->n == 0) c->eof = true;
  return c->n > 0 ? FD_DB_ONE : FD_DB_NONE;
}

/* Column col of c's current row: NULL for SQL NULL. */
static const char *val(const struct cursor *c, int col) {
  if (c->stream) return col < c->n_cols ? c->cols[col] : NULL;
  return PQgetisnull(c->res, c->row, col) ? NULL : PQgetvalue(c->res, c->row, col);
}

/* The same, "" for SQL NULL (as PQgetvalue). */
static const char *cell(const struct cursor *c, int col) {
  const char *v = val(c, col);
  return v ? v : "";
}

static bool add_message(struct fd_export_reader *r, const struct cursor *c) {
  struct fd_message m = {
      .id = val(c, 1),
      .conversation_id = NULL,
      .parent_id = val(c, 2),
      .content = val(c, 4),
      .model = val(c, 5),
      .created_at = strtoll(cell(c, 6), NULL, 10),
      .seq = strtoll(cell(c, 7), NULL, 10),
  };
  if (!fd_role_parse(val(c, 3), &m.role)) {
    snprintf(r->error, sizeof r->error, "message %s has an unknown role", m.id);
    return false;
  }
  if (!fd_conversation_add_message(r->conv, &m)) {
    snprintf(r->error, sizeof r->error, "out of memory");
    return false;
  }
  return true;
}

static bool add_feedback(struct fd_export_reader *r, const struct cursor *c) {
  const char *value = val(c, 7), *scale = val(c, 8), *outcome = val(c, 10);
  struct fd_feedback f = {
      .id = val(c, 1),
      .seq = strtoll(cell(c, 2), NULL, 10),
      .message_id = val(c, 4),
      .other_message_id = val(c, 5),
      .user = val(c, 6),
      .value = value ? atoi(value) : 0,
      .scale = scale ? atoi(scale) : 0,
      .edited_content = val(c, 9),
      .created_at = strtoll(cell(c, 11), NULL, 10),
      .retracted = cell(c, 12)[0] == 't',
      .span_start = val(c, 13) ? atoi(val(c, 13)) : 0,
      .span_end = val(c, 14) ? atoi(val(c, 14)) : 0,
      .span_label = val(c, 15),
      .step_index = val(c, 16) ? atoi(val(c, 16)) : 0,
      .reaction = val(c, 17),
      .signal = fd_signal_parse(val(c, 18)),
      .no_consent = cell(c, 19)[0] != 't',
  };
  if (!fd_feedback_kind_parse(val(c, 3), &f.kind) || (outcome && !fd_outcome_parse(outcome, &f.outcome))) {
    snprintf(r->error, sizeof r->error, "event %s has an unknown kind or outcome", f.id);
    return false;
  }
  if (!fd_conversation_add_feedback(r->conv, &f)) {
    snprintf(r->error, sizeof r->error, "out of memory");
    return false;
  }
  return true;
}

static bool add_touch(struct fd_export_reader *r, const struct cursor *c) {
  if (r->n_touches == r->cap_touches) {
    size_t cap = r->cap_touches ? 2 * r->cap_touches : 16;
    struct fd_touch *t = realloc(r->touches, cap * sizeof *t);
    if (t) r->touches = t;
    char **ids = t ? realloc(r->touch_ids, cap * sizeof *ids) : NULL;
    if (ids) r->touch_ids = ids;
    if (!t || !ids) goto oom;
    r->cap_touches = cap;
  }
  char *id = strdup(cell(c, 1));
  if (!id) goto oom;
  r->touch_ids[r->n_touches] = id;
  r->touches[r->n_touches].message_id = id;
  r->touches[r->n_touches].subtree = cell(c, 2)[0] == 't';
  r->n_touches++;
  return true;
oom:
  snprintf(r->error, sizeof r->error, "out of memory");
  return false;
}

/* Consume the rows of cursor c (conversation id in column 0) up to conversation `id`: rows
 * before it are skipped (they name no streamed conversation), rows of it are added.
 * A failure (add() failing is HARD: out of memory or a row the export core rejects) or not. */
static enum fd_db_status consume(struct fd_export_reader *r, struct cursor *c, const char *id,
                                 bool (*add)(struct fd_export_reader *, const struct cursor *)) {
  for (;;) {
    enum fd_db_status st = cursor_peek(r, c);
    if (st != FD_DB_ONE) return st;
    int cmp = strcmp(cell(c, 0), id);
    if (cmp > 0) return FD_DB_ONE;
    if (cmp == 0 && !add(r, c)) return fd_db_bug(r->error);
    c->row++;
  }
}

enum fd_db_status fd_export_reader_next(struct fd_export_reader *r, const struct fd_conversation **conv,
                                        const struct fd_touch **touches, size_t *n_touches) {
  fd_conversation_free(r->conv);
  r->conv = NULL;
  clear_touches(r);
  enum fd_db_status st = cursor_peek(r, &r->m);
  if (st != FD_DB_ONE) return st;
  r->conv = fd_conversation_new(cell(&r->m, 0));
  if (!r->conv) {
    snprintf(r->error, sizeof r->error, "out of memory");
    return fd_db_bug(r->error);
  }
  /* The id is owned by the conversation, so it outlives the chunk it came from. */
  const char *id = r->conv->id;
  if (fd_db_failed(st = consume(r, &r->m, id, add_message))) return st;
  if (fd_db_failed(st = consume(r, &r->f, id, add_feedback))) return st;
  if (r->after && fd_db_failed(st = consume(r, &r->t, id, add_touch))) return st;
  *conv = r->conv;
  *touches = r->after ? r->touches : NULL;
  *n_touches = r->n_touches;
  return FD_DB_ONE;
}
