/* ingest_db.c — batch INSERTs of the ingest writer (see ingest_db.h). */
#include "db/ingest_db.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/copy_binary.h"
#include "db/webhooks_sql.h"
#include "util/buf.h"
#include "util/metrics.h"
#include "util/rfc3339.h"

static struct fd_stmt stmt_messages = {
    "ingest_messages",
    "INSERT INTO messages (project_id, id, conversation_id, parent_id, role, content, model, content_sha256,"
    " created_at, metadata) "
    "SELECT u.p, u.id, u.c, u.parent, u.role, u.content, u.model, decode(u.h, 'hex'), u.ca, u.md::jsonb "
    "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
    " $8::text[], $9::timestamptz[], $10::text[]) WITH ORDINALITY "
    " AS u(p, id, c, parent, role, content, model, h, ca, md, ord) ORDER BY u.ord "
    "ON CONFLICT (project_id, id) DO NOTHING RETURNING id, project_id",
    0};

static struct fd_stmt stmt_conversations = {
    "ingest_conversations",
    "INSERT INTO conversations (project_id, id, user_ref, created_at) "
    "SELECT DISTINCT ON (p, c) p, c, u, ca FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[]) "
    " AS x(p, c, u, ca) ORDER BY p, c, ca "
    "ON CONFLICT (project_id, id) DO UPDATE SET user_ref = EXCLUDED.user_ref WHERE conversations.user_ref IS NULL",
    0};

/* The data of a feedback.stored webhook (docs/api.md "Webhooks"): what identifies the event
 * and its judgement, with the fields of its kind as GET /v1/feedback names them (a span's
 * value is its label's, so it is left out there too; a dwell signal's milliseconds are its
 * value) — not the rater's texts (comment, edited content: fetch them with GET /v1/feedback).
 * A span's quote is a copy of the judged answer's text, so it is part of the judgement. */
#define FEEDBACK_STORED_DATA                                                                                   \
  "jsonb_strip_nulls(jsonb_build_object('id', r.id, 'kind', r.kind, 'message_id', r.message_id,"               \
  " 'conversation_id', r.conversation_id, 'value', CASE WHEN r.kind <> 'span' THEN"                            \
  " coalesce(to_jsonb(r.value), to_jsonb(r.signal_value)) END, 'scale', CASE WHEN r.scale = 2 THEN NULL ELSE"  \
  " r.scale END, 'tags', CASE WHEN cardinality(r.tags) > 0 THEN to_jsonb(r.tags) END, 'other_message_id',"     \
  " r.other_message_id, 'outcome', r.outcome, 'emoji', r.reaction, 'signal', r.signal, 'start', r.span_start," \
  " 'end', r.span_end, 'label', r.span_label, 'quote', r.quote, 'step', r.step_index, 'created_at', " TS(      \
      "r.created_at") ", 'received_at', " TS("r.received_at") "))"

/* What FEEDBACK_STORED_DATA reads of the inserted rows: RETURNING * (texts, metadata) would
 * cost ~15 % per batch. */
#define FEEDBACK_STORED_COLUMNS                                                                                 \
  "RETURNING id, project_id, kind, message_id, conversation_id, value, scale, tags, other_message_id, outcome," \
  " created_at, received_at, reaction, signal, signal_value, span_start, span_end, span_label, quote, step_index"

/* The inserted rows as FEEDBACK_STORED_DATA reads them, taken from the statement's input u
 * (the values the INSERT stored; received_at is its default, now()) rather than from a
 * RETURNING of every column: that, and a probe of webhook_endpoints per row, cost ~6 µs per
 * stored event (bench/README.md "ingest: where PostgreSQL's CPU goes"). The EXISTS does not
 * depend on the rows, so it is evaluated once: a batch of projects without a feedback.stored
 * endpoint joins nothing and reads no row. */
#define FEEDBACK_STORED_FROM_INPUT                                                                           \
  "(SELECT u.p AS project_id, u.id, u.kind, u.mid AS message_id, u.cid AS conversation_id, u.val AS value,"  \
  " u.sc AS scale, u.tags::text[] AS tags, u.omid AS other_message_id, u.oc AS outcome, u.ca AS created_at," \
  " now() AS received_at, u.rx AS reaction, u.sg AS signal, u.sv AS signal_value, u.ss AS span_start,"       \
  " u.se AS span_end, u.sl AS span_label, u.q AS quote, u.si AS step_index"                                  \
  " FROM u JOIN ins ON ins.project_id = u.p AND ins.id = u.id WHERE EXISTS (SELECT FROM webhook_endpoints w" \
  " WHERE w.project_id = ANY ($1::bigint[]) AND 'feedback.stored' = ANY (w.events)))"

/* The batch's events. feedback is partitioned by month of receipt (migration 0011), so its own
 * key includes received_at; the idempotency key (project_id, id) is feedback_ids': the ids
 * that registry takes (ON CONFLICT there, whatever month the first post went to) are the rows
 * inserted, in the same statement and transaction (docs/architecture.md "Partitions and
 * retention"). */
static struct fd_stmt stmt_feedback = {
    "ingest_feedback",
    "WITH u AS MATERIALIZED (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],"
    " $6::text[], $7::int[], $8::int[], $9::text[], $10::text[], $11::text[], $12::float8[], $13::text[],"
    " $14::text[], $15::int[], $16::timestamptz[], $17::text[], $18::text[], $19::int[], $20::int[], $21::text[],"
    " $22::text[], $23::int[], $24::text[], $25::text[], $26::float8[])"
    " WITH ORDINALITY AS u(p, id, kind, mid, cid, usr, val, sc, tags, cm, ec, er, omid, oc, st, ca, md, h,"
    " ss, se, sl, q, si, rx, sg, sv, ord)), "
    "k AS (INSERT INTO feedback_ids (project_id, id, received_at) SELECT u.p, u.id, now() FROM u ORDER BY u.ord "
    " ON CONFLICT (project_id, id) DO NOTHING RETURNING project_id, id), "
    "ins AS (INSERT INTO feedback (project_id, id, kind, message_id, conversation_id, user_ref, value, scale,"
    " tags, comment, edited_content, edit_ratio, other_message_id, outcome, strength, created_at, metadata,"
    " content_sha256, span_start, span_end, span_label, quote, step_index, reaction, signal, signal_value) "
    "SELECT u.p, u.id, u.kind, u.mid, u.cid, u.usr, u.val, u.sc,"
    " u.tags::text[], u.cm, u.ec, u.er, u.omid, u.oc, u.st, u.ca,"
    " u.md::jsonb, decode(u.h, 'hex'), u.ss, u.se, u.sl, u.q, u.si, u.rx, u.sg, u.sv "
    "FROM u JOIN k ON k.project_id = u.p AND k.id = u.id ORDER BY u.ord RETURNING id, project_id), "
    /* feedback.stored for the rows this statement inserted (not duplicates), same commit */
    "hook AS (" FD_WEBHOOK_ENQUEUE("feedback.stored", FEEDBACK_STORED_FROM_INPUT, FEEDBACK_STORED_DATA) ") "
    "SELECT id, project_id FROM ins",
    0};

/* Detected feedback: the turn must have been stored by this very transaction (a turn is
 * read once, when it is first logged: a retry, or a turn logged again after its event was
 * retracted or erased, brings nothing back) with the row's content, and have a stored
 * assistant parent, which the event judges. The event's created_at is the turn's;
 * content_sha256 covers what it says. */
static struct fd_stmt stmt_detected = {
    "ingest_detected",
    "WITH s AS MATERIALIZED (SELECT u.p, u.id, u.sg, u.mt, u.rl, u.ord, t.id AS tid, t.created_at AS tca,"
    " m.id AS mid, m.conversation_id AS cid "
    "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])"
    " WITH ORDINALITY AS u(p, id, turn, th, sg, mt, rl, ord) "
    "JOIN messages t ON t.project_id = u.p AND t.id = u.turn AND t.role = 'user' AND t.content_sha256 = decode(u.th, 'hex')"
    " AND t.txid = pg_current_xact_id() "
    "JOIN messages m ON m.project_id = u.p AND m.id = t.parent_id AND m.role = 'assistant'), "
    /* the idempotency registry first, as for stmt_feedback */
    "k AS (INSERT INTO feedback_ids (project_id, id, received_at) SELECT s.p, s.id, now() FROM s ORDER BY s.ord "
    " ON CONFLICT (project_id, id) DO NOTHING RETURNING project_id, id), "
    "ins AS (INSERT INTO feedback (project_id, id, kind, message_id, conversation_id, created_at, metadata,"
    " content_sha256, signal) "
    "SELECT s.p, s.id, 'signal', s.mid, s.cid, s.tca,"
    " jsonb_build_object('detected', jsonb_build_object('turn_id', s.tid, 'match', s.mt, 'rule', s.rl)),"
    " sha256(convert_to(s.sg || E'\\n' || s.tid || E'\\n' || s.rl || E'\\n' || s.mt, 'UTF8')), s.sg "
    "FROM s JOIN k ON k.project_id = s.p AND k.id = s.id ORDER BY s.ord "
    FEEDBACK_STORED_COLUMNS "), "
    "hook AS (" FD_WEBHOOK_ENQUEUE("feedback.stored", "ins", FEEDBACK_STORED_DATA) ") "
    "SELECT id, project_id FROM ins",
    0};

static struct fd_stmt stmt_message_hashes = {
    "ingest_message_hashes",
    "SELECT u.ord, encode(m.content_sha256, 'hex') FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY "
    " AS u(p, id, ord) JOIN messages m ON m.project_id = u.p AND m.id = u.id",
    0};

static struct fd_stmt stmt_feedback_hashes = {
    "ingest_feedback_hashes",
    "SELECT u.ord, encode(f.content_sha256, 'hex') FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY "
    " AS u(p, id, ord) JOIN feedback f ON f.project_id = u.p AND f.id = u.id",
    0};

enum { MAX_COLS = 26 };

struct cols {
  struct fd_buf b[MAX_COLS];
  int n;
};

static void cols_begin(struct cols *c, int n) {
  memset(c, 0, sizeof *c);
  c->n = n;
  for (int i = 0; i < n; i++) fd_pgarray_begin(&c->b[i]);
}

/* end the arrays; false on out of memory */
static bool cols_end(struct cols *c, const char **params) {
  bool ok = true;
  for (int i = 0; i < c->n; i++) {
    fd_pgarray_end(&c->b[i]);
    ok = ok && !c->b[i].oom;
    params[i] = c->b[i].data;
  }
  return ok;
}

static void cols_free(struct cols *c) {
  for (int i = 0; i < c->n; i++) fd_buf_release(&c->b[i]);
}

static void num(struct fd_buf *b, long long v) {
  char s[24];
  snprintf(s, sizeof s, "%lld", v);
  fd_pgarray_raw(b, s);
}

/* 0 is SQL NULL (a column where 0 is never a value) */
static void num_or_null(struct fd_buf *b, long long v) {
  if (v)
    num(b, v);
  else
    fd_pgarray_raw(b, NULL);
}

static void ts(struct fd_buf *b, int64_t us) {
  char s[FD_RFC3339_BUF];
  if (!fd_rfc3339_format(us, s)) {
    fd_pgarray_raw(b, NULL);
    return;
  }
  fd_pgarray_text(b, s);
}

static void hex(struct fd_buf *b, const unsigned char *h) {
  char s[FD_SHA256_HEX_LEN + 1];
  fd_hex_encode(h, FD_SHA256_LEN, s);
  fd_pgarray_text(b, s);
}

static const char *nz(const char *s) { return s && *s ? s : NULL; }

/* Mark inserted[i] for the rows whose (project_id, id) came back from RETURNING. The keys
 * of one statement are distinct, so a match is unambiguous. */
static void mark_returned(PGresult *r, size_t n, bool *inserted, const char *(*id_of)(const void *, size_t),
                          int64_t (*project_of)(const void *, size_t), const void *refs) {
  memset(inserted, 0, n * sizeof *inserted);
  int rows = PQntuples(r);
  /* RETURNING usually comes back in insertion order: try the cursor first, search on a miss */
  size_t cursor = 0;
  for (int k = 0; k < rows; k++) {
    const char *id = PQgetvalue(r, k, 0);
    int64_t p = strtoll(PQgetvalue(r, k, 1), NULL, 10);
    for (size_t tries = 0; tries < n; tries++, cursor = (cursor + 1) % n) {
      if (!inserted[cursor] && project_of(refs, cursor) == p && strcmp(id_of(refs, cursor), id) == 0) {
        inserted[cursor] = true;
        break;
      }
    }
  }
}

static const char *msg_id(const void *refs, size_t i) { return ((const struct fd_msg_ref *)refs)[i].row->id; }
static int64_t msg_project(const void *refs, size_t i) { return ((const struct fd_msg_ref *)refs)[i].project_id; }
static const char *fb_id(const void *refs, size_t i) { return ((const struct fd_fb_ref *)refs)[i].row->id; }
static int64_t fb_project(const void *refs, size_t i) { return ((const struct fd_fb_ref *)refs)[i].project_id; }

/* Run an INSERT ... RETURNING id, project_id over the columns c (freed here) and mark the
 * rows it inserted. Returns their number. */
static enum fd_db_status insert_rows(struct fd_db *db, struct fd_stmt *stmt, struct cols *c, const char **params,
                                     size_t n, bool *inserted, const char *(*id_of)(const void *, size_t),
                                     int64_t (*project_of)(const void *, size_t), const void *refs) {
  enum fd_db_status st = cols_end(c, params) ? FD_DB_NONE : fd_db_bug("insert: out of memory");
  if (st == FD_DB_NONE) {
    PGresult *r = fd_db_exec(db, stmt, c->n, params);
    st = fd_db_result(db, r);
    if (!fd_db_failed(st)) mark_returned(r, n, inserted, id_of, project_of, refs);
    PQclear(r);
  }
  cols_free(c);
  return st;
}

/* FD_DB_NONE or a failure: the caller counts messages, not conversations. */
static enum fd_db_status insert_conversations(struct fd_db *db, const struct fd_msg_ref *refs, size_t n) {
  struct cols c;
  cols_begin(&c, 4);
  size_t users = 0;
  for (size_t i = 0; i < n; i++) {
    if (!refs[i].row->user) continue;
    users++;
    num(&c.b[0], refs[i].project_id);
    fd_pgarray_text(&c.b[1], refs[i].row->conversation_id);
    fd_pgarray_text(&c.b[2], refs[i].row->user);
    ts(&c.b[3], refs[i].created_at_us);
  }
  const char *params[4];
  enum fd_db_status st = cols_end(&c, params) ? FD_DB_NONE : fd_db_bug("conversations: out of memory");
  if (st == FD_DB_NONE && users) {
    PGresult *r = fd_db_exec(db, &stmt_conversations, 4, params);
    st = fd_db_result(db, r);
    if (!fd_db_failed(st)) st = FD_DB_NONE;
    PQclear(r);
  }
  cols_free(&c);
  return st;
}

enum fd_db_status fd_db_insert_messages(struct fd_db *db, const struct fd_msg_ref *refs, size_t n, bool *inserted) {
  if (n == 0) return FD_DB_NONE;
  struct cols c;
  cols_begin(&c, 10);
  for (size_t i = 0; i < n; i++) {
    const struct fd_message_row *m = refs[i].row;
    num(&c.b[0], refs[i].project_id);
    fd_pgarray_text(&c.b[1], m->id);
    fd_pgarray_text(&c.b[2], m->conversation_id);
    fd_pgarray_text(&c.b[3], nz(m->parent_id));
    fd_pgarray_text(&c.b[4], m->role);
    fd_pgarray_textn(&c.b[5], m->content, m->content_len);
    fd_pgarray_text(&c.b[6], m->model);
    hex(&c.b[7], m->content_sha256);
    ts(&c.b[8], refs[i].created_at_us);
    fd_pgarray_text(&c.b[9], m->metadata_json);
  }
  const char *params[10];
  enum fd_db_status st = insert_rows(db, &stmt_messages, &c, params, n, inserted, msg_id, msg_project, refs);
  if (fd_db_failed(st)) return st;
  enum fd_db_status conv = insert_conversations(db, refs, n);
  return fd_db_failed(conv) ? conv : st;
}

enum fd_db_status fd_db_insert_feedback(struct fd_db *db, const struct fd_fb_ref *refs, size_t n, bool *inserted) {
  if (n == 0) return FD_DB_NONE;
  struct cols c;
  cols_begin(&c, 26);
  struct fd_buf tags = {0};
  for (size_t i = 0; i < n; i++) {
    const struct fd_feedback_row *f = refs[i].row;
    num(&c.b[0], refs[i].project_id);
    fd_pgarray_text(&c.b[1], f->id);
    fd_pgarray_text(&c.b[2], f->kind_name);
    fd_pgarray_text(&c.b[3], f->message_id);
    fd_pgarray_text(&c.b[4], f->conversation_id);
    fd_pgarray_text(&c.b[5], f->user);
    if (f->has_value) {
      num(&c.b[6], f->value);
      num_or_null(&c.b[7], f->scale); /* 0: a step's or span's value has no scale */
    } else {
      fd_pgarray_raw(&c.b[6], NULL);
      fd_pgarray_raw(&c.b[7], NULL);
    }
    /* tags: each row's text[] literal, an element of the text[] parameter (no per-row JSON
     * encoding here nor jsonb parsing and a subquery per row in the server) */
    fd_buf_reset(&tags);
    fd_pgarray_begin(&tags);
    for (size_t t = 0; t < f->n_tags; t++) fd_pgarray_text(&tags, f->tags[t]);
    fd_pgarray_end(&tags);
    if (tags.oom) c.b[8].oom = true;
    fd_pgarray_text(&c.b[8], tags.oom ? "{}" : tags.data);
    fd_pgarray_text(&c.b[9], f->comment);
    fd_pgarray_text(&c.b[10], f->edited_content);
    fd_pgarray_raw(&c.b[11], NULL); /* edit_ratio: filled after COMMIT (pipeline/edit_ratios.c) */
    fd_pgarray_text(&c.b[12], f->other_message_id);
    fd_pgarray_text(&c.b[13], f->outcome);
    num_or_null(&c.b[14], f->strength);
    ts(&c.b[15], refs[i].created_at_us);
    fd_pgarray_text(&c.b[16], f->metadata_json);
    hex(&c.b[17], f->content_sha256);
    bool span = f->kind == FD_KIND_SPAN, step = f->kind == FD_KIND_STEP;
    span ? num(&c.b[18], f->span_start) : fd_pgarray_raw(&c.b[18], NULL);
    span ? num(&c.b[19], f->span_end) : fd_pgarray_raw(&c.b[19], NULL);
    fd_pgarray_text(&c.b[20], f->span_label);
    fd_pgarray_text(&c.b[21], f->quote);
    step ? num(&c.b[22], f->step_index) : fd_pgarray_raw(&c.b[22], NULL);
    fd_pgarray_text(&c.b[23], nz(f->reaction));
    fd_pgarray_text(&c.b[24], f->signal);
    if (f->has_signal_value) {
      char v[40];
      snprintf(v, sizeof v, "%.17g", f->signal_value);
      fd_pgarray_raw(&c.b[25], v);
    } else {
      fd_pgarray_raw(&c.b[25], NULL);
    }
  }
  fd_buf_release(&tags);
  const char *params[26];
  return insert_rows(db, &stmt_feedback, &c, params, n, inserted, fb_id, fb_project, refs);
}

/* The COPY path (docs/architecture.md "The writer's COPY"): the batch's rows go into
 * feedback_ids and feedback by binary COPY in one transaction, without ON CONFLICT: when an
 * id is already stored, its unique key fails the COPY, everything rolls back, and the batch
 * is written by stmt_feedback instead. feedback_ids.received_at defaults to now() (migration
 * 0022), the transaction's timestamp, as feedback.received_at does: the same value as
 * stmt_feedback writes. A batch of a project with a feedback.stored endpoint is written by
 * stmt_feedback from the start: its webhook CTE builds the payloads. */
static struct fd_stmt stmt_stored_endpoints = {
    "ingest_stored_endpoints",
    "SELECT FROM webhook_endpoints w WHERE w.project_id = $1::bigint AND 'feedback.stored' = ANY (w.events) LIMIT 1",
    0};

/* received_at, seq and txid are their defaults, edit_ratio is NULL (filled after COMMIT by
 * pipeline/edit_ratios.c) */
#define COPY_FEEDBACK_COLUMNS                                                                                     \
  "project_id, id, kind, message_id, conversation_id, user_ref, value, scale, tags, comment, edited_content,"     \
  " other_message_id, outcome, strength, created_at, metadata, content_sha256, span_start, span_end, span_label," \
  " quote, step_index, reaction, signal, signal_value"
enum { COPY_FEEDBACK_FIELDS = 25 };
/* PQputCopyData takes an int length: a large batch goes in pieces */
#define COPY_CHUNK ((size_t)1 << 20)

/* One row as stmt_feedback's arrays carry it: the same NULLs (0 scale or strength, an empty
 * reaction, an instant fd_rfc3339_format refuses). */
static void copy_feedback_row(struct fd_buf *b, const struct fd_fb_ref *r) {
  const struct fd_feedback_row *f = r->row;
  fd_copy_row(b, COPY_FEEDBACK_FIELDS);
  fd_copy_int8(b, r->project_id);
  fd_copy_text(b, f->id);
  fd_copy_text(b, f->kind_name);
  fd_copy_text(b, f->message_id);
  fd_copy_text(b, f->conversation_id);
  fd_copy_text(b, f->user);
  if (f->has_value) {
    fd_copy_int4(b, (int32_t)f->value);
    f->scale ? fd_copy_int4(b, (int32_t)f->scale) : fd_copy_null(b);
  } else {
    fd_copy_null(b);
    fd_copy_null(b);
  }
  fd_copy_text_array(b, f->tags, f->n_tags);
  fd_copy_text(b, f->comment);
  fd_copy_text(b, f->edited_content);
  fd_copy_text(b, f->other_message_id);
  fd_copy_text(b, f->outcome);
  f->strength ? fd_copy_int4(b, (int32_t)f->strength) : fd_copy_null(b);
  char s[FD_RFC3339_BUF];
  fd_rfc3339_format(r->created_at_us, s) ? fd_copy_timestamptz(b, r->created_at_us) : fd_copy_null(b);
  fd_copy_jsonb(b, f->metadata_json);
  fd_copy_bytea(b, f->content_sha256, FD_SHA256_LEN);
  bool span = f->kind == FD_KIND_SPAN, step = f->kind == FD_KIND_STEP;
  span ? fd_copy_int4(b, (int32_t)f->span_start) : fd_copy_null(b);
  span ? fd_copy_int4(b, (int32_t)f->span_end) : fd_copy_null(b);
  fd_copy_text(b, f->span_label);
  fd_copy_text(b, f->quote);
  step ? fd_copy_int4(b, (int32_t)f->step_index) : fd_copy_null(b);
  fd_copy_text(b, nz(f->reaction));
  fd_copy_text(b, f->signal);
  f->has_signal_value ? fd_copy_float8(b, f->signal_value) : fd_copy_null(b);
}

/* Whether a project of the batch has a feedback.stored endpoint (FD_DB_ONE) or none: one
 * lookup per project (a batch's rows come in runs of one project), by one key so that its
 * generic plan is as cheap as a custom one and PostgreSQL stops planning it after five calls
 * (with an array of keys it estimated ten and planned every call: ~5 µs per stored event). */
static enum fd_db_status stored_endpoints(struct fd_db *db, const struct fd_fb_ref *refs, size_t n) {
  enum fd_db_status st = FD_DB_NONE;
  for (size_t i = 0; i < n && st == FD_DB_NONE; i++) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++) seen = refs[j].project_id == refs[i].project_id;
    if (seen) continue;
    char project[24];
    snprintf(project, sizeof project, "%lld", (long long)refs[i].project_id);
    const char *params[1] = {project};
    PGresult *r = fd_db_exec(db, &stmt_stored_endpoints, 1, params);
    st = fd_db_result(db, r);
    PQclear(r);
  }
  return st;
}

/* Run the COPY transaction. FD_DB_ONE when it committed, FD_DB_NONE when it did not (rolled
 * back: an id already stored, or anything else the INSERT path will meet again and report),
 * FD_DB_UNAVAILABLE when the connection is gone. */
static enum fd_db_status copy_transaction(struct fd_db *db, const struct fd_buf *ids, const struct fd_buf *rows) {
  PGconn *conn = fd_db_conn(db);
  if (!conn || !PQsendQuery(conn,
                            "BEGIN; COPY feedback_ids (project_id, id) FROM STDIN (FORMAT binary); "
                            "COPY feedback (" COPY_FEEDBACK_COLUMNS ") FROM STDIN (FORMAT binary); COMMIT"))
    return fd_db_failure(db, "copy: send");
  const struct fd_buf *data[2] = {ids, rows};
  int copies = 0;
  bool failed = false;
  PGresult *r;
  while ((r = PQgetResult(conn))) {
    ExecStatusType s = PQresultStatus(r);
    PQclear(r);
    if (s == PGRES_COPY_IN) {
      const struct fd_buf *d = copies < 2 ? data[copies] : NULL;
      copies++;
      bool sent = d != NULL;
      for (size_t off = 0; sent && off < d->len; off += COPY_CHUNK)
        sent = PQputCopyData(conn, d->data + off, (int)(d->len - off < COPY_CHUNK ? d->len - off : COPY_CHUNK)) == 1;
      if (PQputCopyEnd(conn, sent ? NULL : "not sent") != 1) failed = true;
    } else if (s != PGRES_COMMAND_OK) {
      failed = true; /* the server skips the rest of the string: a COMMIT after an error is not run */
    }
  }
  if (PQstatus(conn) != CONNECTION_OK) return fd_db_failure(db, "copy");
  if (!failed && PQtransactionStatus(conn) == PQTRANS_IDLE) return FD_DB_ONE;
  if (PQtransactionStatus(conn) != PQTRANS_IDLE && !fd_db_run(db, "ROLLBACK", NULL, 0))
    return fd_db_failure(db, "copy: rollback");
  return FD_DB_NONE;
}

enum fd_db_status fd_db_store_feedback(struct fd_db *db, const struct fd_fb_ref *refs, size_t n, bool *inserted) {
  if (n == 0) return FD_DB_NONE;
  enum fd_db_status st = stored_endpoints(db, refs, n);
  if (fd_db_failed(st)) return st;
  if (st != FD_DB_NONE) {
    FD_METRIC_ADD(fd_metrics.copy_batches[FD_COPY_WEBHOOK], 1);
    return fd_db_insert_feedback(db, refs, n, inserted);
  }
  struct fd_buf ids = {0}, rows = {0};
  fd_copy_begin(&ids);
  fd_copy_begin(&rows);
  for (size_t i = 0; i < n; i++) {
    fd_copy_row(&ids, 2);
    fd_copy_int8(&ids, refs[i].project_id);
    fd_copy_text(&ids, refs[i].row->id);
    copy_feedback_row(&rows, &refs[i]);
  }
  fd_copy_end(&ids);
  fd_copy_end(&rows);
  st = ids.oom || rows.oom ? fd_db_bug("copy: out of memory") : copy_transaction(db, &ids, &rows);
  fd_buf_release(&ids);
  fd_buf_release(&rows);
  if (fd_db_failed(st)) return st;
  if (st == FD_DB_NONE) {
    FD_METRIC_ADD(fd_metrics.copy_batches[FD_COPY_FALLBACK], 1);
    return fd_db_insert_feedback(db, refs, n, inserted);
  }
  FD_METRIC_ADD(fd_metrics.copy_batches[FD_COPY_STORED], 1);
  for (size_t i = 0; i < n; i++) inserted[i] = true;
  return n > INT_MAX ? INT_MAX : (enum fd_db_status)n;
}

static const char *det_id(const void *refs, size_t i) { return ((const struct fd_det_ref *)refs)[i].row->id; }
static int64_t det_project(const void *refs, size_t i) { return ((const struct fd_det_ref *)refs)[i].project_id; }

enum fd_db_status fd_db_insert_detected(struct fd_db *db, const struct fd_det_ref *refs, size_t n, bool *inserted) {
  if (n == 0) return FD_DB_NONE;
  struct cols c;
  cols_begin(&c, 7);
  for (size_t i = 0; i < n; i++) {
    const struct fd_detected_row *d = refs[i].row;
    num(&c.b[0], refs[i].project_id);
    fd_pgarray_text(&c.b[1], d->id);
    fd_pgarray_text(&c.b[2], d->turn->id);
    hex(&c.b[3], d->turn->content_sha256);
    fd_pgarray_text(&c.b[4], d->signal);
    fd_pgarray_textn(&c.b[5], d->turn->content + d->match_offset, d->match_length);
    fd_pgarray_text(&c.b[6], d->rule);
  }
  const char *params[7];
  return insert_rows(db, &stmt_detected, &c, params, n, inserted, det_id, det_project, refs);
}

/* Look up rows by (project, key): take() receives each found value. Returns their number. */
static enum fd_db_status lookup(struct fd_db *db, struct fd_stmt *stmt, size_t n,
                                int64_t (*project_of)(const void *, size_t),
                                const char *(*key_of)(const void *, size_t), const void *refs,
                                void (*take)(void *out, size_t i, const char *value), void *out) {
  if (n == 0) return FD_DB_NONE;
  struct cols c;
  cols_begin(&c, 2);
  for (size_t i = 0; i < n; i++) {
    num(&c.b[0], project_of(refs, i));
    fd_pgarray_text(&c.b[1], key_of(refs, i));
  }
  const char *params[2];
  enum fd_db_status st = cols_end(&c, params) ? FD_DB_NONE : fd_db_bug("lookup: out of memory");
  if (st == FD_DB_NONE) {
    PGresult *r = fd_db_exec(db, stmt, 2, params);
    st = fd_db_result(db, r);
    for (int k = 0; !fd_db_failed(st) && k < PQntuples(r); k++) {
      size_t ord = (size_t)strtoull(PQgetvalue(r, k, 0), NULL, 10);
      if (ord >= 1 && ord <= n) take(out, ord - 1, PQgetvalue(r, k, 1));
    }
    PQclear(r);
  }
  cols_free(&c);
  return st;
}

struct hash_out {
  unsigned char (*hashes)[FD_SHA256_LEN];
  bool *found;
};

static void take_hash(void *out, size_t i, const char *value) {
  struct hash_out *h = out;
  for (size_t k = 0; k < FD_SHA256_LEN && value[2 * k] && value[2 * k + 1]; k++) {
    char byte[3] = {value[2 * k], value[2 * k + 1], 0};
    h->hashes[i][k] = (unsigned char)strtoul(byte, NULL, 16);
  }
  h->found[i] = true;
}

enum fd_db_status fd_db_message_hashes(struct fd_db *db, const struct fd_msg_ref *refs, size_t n,
                                       unsigned char (*hashes)[FD_SHA256_LEN], bool *found) {
  memset(found, 0, n * sizeof *found);
  struct hash_out out = {hashes, found};
  return lookup(db, &stmt_message_hashes, n, msg_project, msg_id, refs, take_hash, &out);
}

enum fd_db_status fd_db_feedback_hashes(struct fd_db *db, const struct fd_fb_ref *refs, size_t n,
                                        unsigned char (*hashes)[FD_SHA256_LEN], bool *found) {
  memset(found, 0, n * sizeof *found);
  struct hash_out out = {hashes, found};
  return lookup(db, &stmt_feedback_hashes, n, fb_project, fb_id, refs, take_hash, &out);
}
