/* feedback_db.c — SQL for listing, retracting and erasing feedback. */
#include "db/feedback_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/sql_time.h"
#include "db/txn.h"
#include "db/webhooks_sql.h"

static struct fd_stmt stmt_retract = {
    "feedback_retract",
    "WITH u AS (UPDATE feedback SET retracted_at = coalesce(retracted_at, now()),"
    " retracted_txid = CASE WHEN retracted_at IS NULL THEN pg_current_xact_id() ELSE retracted_txid END "
    "WHERE project_id = $1::bigint AND id = $2 "
    "RETURNING project_id, id, kind, message_id, retracted_at, retracted_txid = pg_current_xact_id() AS fresh), "
    /* feedback.retracted once, by the statement that retracted it (a repeated DELETE is not fresh) */
    "hook AS (" FD_WEBHOOK_ENQUEUE("feedback.retracted", "(SELECT * FROM u WHERE fresh)",
                                   "jsonb_build_object('id', r.id, 'kind', r.kind, 'message_id', r.message_id,"
                                   " 'retracted_at', " TS("r.retracted_at") ")") ") "
    "SELECT json_build_object('id', id, 'status', 'retracted', 'retracted_at', " TS("retracted_at") ") FROM u",
    0};

static struct fd_stmt stmt_erase = {
    "feedback_erase",
    /* the rater's events, and the feedback detected in the turns of their conversations
     * (docs/detection.md "Retraction and erasure"): the conversation is read before the
     * UPDATE below forgets its user (one snapshot for the whole statement) */
    "WITH d AS (DELETE FROM feedback WHERE project_id = $1::bigint AND (user_ref = $2"
    "   OR (user_ref IS NULL AND kind = 'signal'"
    "     AND signal IN ('detected_praise', 'detected_complaint', 'detected_correction')"
    "     AND conversation_id IN (SELECT id FROM conversations WHERE project_id = $1::bigint AND user_ref = $2)))"
    "   RETURNING message_id, other_message_id),"
    " touched AS (SELECT message_id AS m FROM d UNION SELECT other_message_id FROM d"
    "   WHERE other_message_id IS NOT NULL),"
    " e AS (INSERT INTO erasures (project_id, message_ids)"
    "   SELECT $1::bigint, array_agg(m) FROM touched HAVING count(*) > 0 RETURNING 1),"
    " c AS (UPDATE conversations SET user_ref = NULL WHERE project_id = $1::bigint AND user_ref = $2 RETURNING 1),"
    " k AS (DELETE FROM consents WHERE project_id = $1::bigint AND user_ref = $2 RETURNING 1)"
    "SELECT (SELECT count(*) FROM d)",
    0};

/* Event fields as the client knows them (nulls dropped), plus received_at, retracted_at and,
 * for edits, spans and steps, original_content: the judged message's text, which the edit
 * replaces and the offsets and step index point into (null while the message is unknown). Thumbs are
 * stored with scale 2 and shown without it, as they are sent. */
static struct fd_stmt stmt_list = {
    "feedback_list",
    "SELECT jsonb_strip_nulls(jsonb_build_object("
    "   'id', f.id, 'kind', f.kind, 'message_id', f.message_id, 'conversation_id', f.conversation_id,"
    "   'user', f.user_ref,"
    "   'value', CASE WHEN f.kind <> 'span' THEN coalesce(to_jsonb(f.value), to_jsonb(f.signal_value)) END,"
    "   'start', f.span_start, 'end', f.span_end, 'label', f.span_label, 'quote', f.quote, 'step', f.step_index,"
    "   'scale', CASE WHEN f.scale = 2 THEN NULL ELSE f.scale END,"
    "   'tags', CASE WHEN cardinality(f.tags) > 0 THEN to_jsonb(f.tags) END, 'comment', f.comment,"
    "   'edited_content', f.edited_content, 'edit_ratio', f.edit_ratio, 'other_message_id', f.other_message_id,"
    "   'outcome', f.outcome, 'strength', f.strength, 'emoji', f.reaction, 'signal', f.signal,"
    "   'created_at', " TS("f.created_at") ","
    "   'metadata', f.metadata, 'model', m.model))"
    " || jsonb_build_object('received_at', " TS("f.received_at") ", 'retracted_at', " TS("f.retracted_at") ")"
    " || CASE WHEN f.kind IN ('edit', 'span', 'step') THEN jsonb_build_object('original_content', m.content)"
    "    ELSE '{}'::jsonb END,"
    " (extract(epoch FROM f.received_at) * 1000000)::bigint, f.seq "
    "FROM feedback f LEFT JOIN messages m ON m.project_id = f.project_id AND m.id = f.message_id "
    "WHERE f.project_id = $1::bigint"
    " AND ($2::text IS NULL OR f.kind = $2)"
    " AND ($3::text IS NULL OR m.model = $3)"
    " AND ($4::text IS NULL OR $4 = ANY (f.tags))"
    " AND ($5::text IS NULL OR f.user_ref = $5)"
    " AND ($6::timestamptz IS NULL OR f.created_at >= $6)"
    " AND ($7::timestamptz IS NULL OR f.created_at < $7)"
    " AND ($8::bigint IS NULL OR (f.received_at, f.seq) < ('epoch'::timestamptz + $8::bigint * interval '1 microsecond', $9::bigint))"
    " ORDER BY f.received_at DESC, f.seq DESC LIMIT $10::int",
    0};

enum fd_db_status fd_feedback_retract(struct fd_db *db, int64_t project_id, const char *id, json_t **out) {
  char pid[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  const char *p[2] = {pid, id};
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_retract, 2, p, &r);
  if (st == FD_DB_ONE && !(*out = json_loads(PQgetvalue(r, 0, 0), 0, NULL))) st = fd_db_bug("retract: bad JSON");
  if (st == FD_DB_NONE) *out = NULL;
  PQclear(r);
  return st;
}

enum fd_db_status fd_feedback_erase_user(struct fd_db *db, int64_t project_id, const char *user, long *deleted) {
  char pid[24];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  const char *p[2] = {pid, user};
  PGresult *r;
  enum fd_db_status st = fd_db_exec_txn(db, &stmt_erase, 2, p, &r);
  if (st == FD_DB_ONE)
    *deleted = strtol(PQgetvalue(r, 0, 0), NULL, 10);
  else if (!fd_db_failed(st))
    st = fd_db_bug("erase: not one row");
  PQclear(r);
  return st;
}

enum fd_db_status fd_feedback_list(struct fd_db *db, int64_t project_id, const struct fd_feedback_filter *f,
                                   json_t **page) {
  char pid[24], cur_us[24], cur_seq[24], limit[16];
  snprintf(pid, sizeof pid, "%lld", (long long)project_id);
  snprintf(cur_us, sizeof cur_us, "%lld", (long long)f->cursor_received_us);
  snprintf(cur_seq, sizeof cur_seq, "%lld", (long long)f->cursor_seq);
  /* one more than asked, to know whether there is a next page */
  snprintf(limit, sizeof limit, "%d", f->limit + 1);
  const char *p[10] = {pid,
                       f->kind,
                       f->model,
                       f->tag,
                       f->user,
                       f->since,
                       f->until,
                       f->has_cursor ? cur_us : NULL,
                       f->has_cursor ? cur_seq : NULL,
                       limit};
  PGresult *r = fd_db_exec(db, &stmt_list, 10, p);
  enum fd_db_status st = fd_db_result(db, r);
  if (fd_db_failed(st)) {
    PQclear(r);
    return st;
  }
  json_t *items = json_array();
  int n = PQntuples(r);
  int shown = n > f->limit ? f->limit : n;
  for (int i = 0; i < shown; i++) {
    json_t *it = json_loads(PQgetvalue(r, i, 0), 0, NULL);
    if (it) json_array_append_new(items, it);
  }
  json_t *next = json_null();
  if (n > f->limit && shown > 0) {
    char cursor[64];
    snprintf(cursor, sizeof cursor, "%s.%s", PQgetvalue(r, shown - 1, 1), PQgetvalue(r, shown - 1, 2));
    next = json_string(cursor);
  }
  PQclear(r);
  size_t count = json_array_size(items);
  *page = json_pack("{s:o, s:o}", "items", items, "next_cursor", next);
  if (!*page) return fd_db_bug("feedback list: out of memory");
  return (enum fd_db_status)count;
}
