/* stmt_bench.c — the ingest writer's statement alone (bench/ingest/stmt_ab.sh runs it): CLIENTS
 * processes (2, like the 2 writers) each writing batches of ROWS feedback rows of post.lua's mix
 * to project 1 for SECONDS, in one of these modes:
 *   insert     the ingest_feedback statement (SQLFILE; prepared, 26 text arrays, autocommit)
 *   insertg    the same with plan_cache_mode = force_generic_plan
 *   copy       BEGIN; COPY feedback_ids (project_id, id) binary; COPY feedback binary; COMMIT
 *              (no webhook check: the bound)
 *   copycheck  BEGIN; SELECT of a feedback.stored endpoint; the two COPYs; COMMIT, one string
 *   copyhook   the two COPYs, then (pipeline mode) a prepared INSERT of feedback.stored
 *              deliveries reading the rows back by txid (HOOKFILE) and COMMIT
 *   stage      BEGIN; COPY into a temp staging table (ON COMMIT DELETE ROWS) binary; the
 *              INSERT statement reading the stage instead of unnest; COMMIT
 * The COPY modes need feedback_ids.received_at to default to now() (migration 0022). Prints
 * the rows each client wrote; the caller measures the cluster's CPU. */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *CONN;
static const char *HOOK_FILE = "hook.sql";
static int ROWS = 25;

struct buf {
  char *d;
  size_t n, cap;
};
static void put(struct buf *b, const void *p, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 1024;
    b->d = realloc(b->d, b->cap);
  }
  memcpy(b->d + b->n, p, n);
  b->n += n;
}
static void putc1(struct buf *b, char c) { put(b, &c, 1); }
static void puts0(struct buf *b, const char *s) { put(b, s, strlen(s)); }
static void be16(struct buf *b, int v) {
  unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
  put(b, x, 2);
}
static void be32(struct buf *b, int32_t v) {
  uint32_t u = (uint32_t)v;
  unsigned char x[4] = {u >> 24, u >> 16, u >> 8, u};
  put(b, x, 4);
}
static void be64(struct buf *b, int64_t v) {
  uint64_t u = (uint64_t)v;
  for (int i = 7; i >= 0; i--) putc1(b, (char)(u >> (8 * i)));
}
/* binary COPY fields */
static void f_null(struct buf *b) { be32(b, -1); }
static void f_text(struct buf *b, const char *s) {
  if (!s) return f_null(b);
  be32(b, (int32_t)strlen(s));
  puts0(b, s);
}
static void f_i8(struct buf *b, int64_t v) {
  be32(b, 8);
  be64(b, v);
}
static void f_i4(struct buf *b, int v) {
  be32(b, 4);
  be32(b, v);
}
static void f_bytes(struct buf *b, const unsigned char *p, int n) {
  be32(b, n);
  put(b, p, (size_t)n);
}
static void f_jsonb(struct buf *b, const char *s) {
  if (!s) return f_null(b);
  be32(b, (int32_t)strlen(s) + 1);
  putc1(b, 1);
  puts0(b, s);
}
static void f_textarr(struct buf *b, const char **el, int n) {
  struct buf a = {0};
  be32(&a, n ? 1 : 0);
  be32(&a, 0);
  be32(&a, 25);
  if (n) {
    be32(&a, n);
    be32(&a, 1);
  }
  for (int i = 0; i < n; i++) f_text(&a, el[i]);
  be32(b, (int32_t)a.n);
  put(b, a.d, a.n);
  free(a.d);
}

/* one row, post.lua's mix */
struct row {
  char id[64], mid[32], omid[32], usr[16], cid[32];
  const char *kind, *cm, *ec, *oc, *md;
  int val, sc, st, has_val;
  const char *tags[2];
  int ntags;
  int64_t ca_us; /* since 2000-01-01 */
  unsigned char h[32];
  char ecbuf[64];
};
static const char *TAGS[] = {"inaccurate", "helpful",    "too_long", "off_topic",
                             "unsafe",     "formatting", "outdated", "great"};
static const char *COMMENTS[] = {"The capital is wrong, it should be Paris.", "Great answer, exactly what I needed!",
                                 "Too verbose; the first paragraph repeats the question.",
                                 "Code does not compile: missing semicolon on line 3."};
static long seqno;
static void mkrow(struct row *r, int tid) {
  memset(r, 0, sizeof *r);
  int conv = rand() % 5000 + 1;
  snprintf(r->id, sizeof r->id, "b%ld-%d-%ld-%d", (long)getpid(), tid, ++seqno, rand() % 1000000);
  snprintf(r->mid, sizeof r->mid, "m-%d-%d", conv, rand() % 4 + 1);
  snprintf(r->usr, sizeof r->usr, "u%d", rand() % 20000 + 1);
  snprintf(r->cid, sizeof r->cid, "c-%d", conv);
  r->ntags = rand() % 3;
  for (int i = 0; i < r->ntags; i++) r->tags[i] = TAGS[rand() % 8];
  int x = rand() % 100 + 1;
  if (x <= 45) {
    r->kind = "rating", r->has_val = 1, r->val = rand() % 2 ? 1 : -1, r->sc = 2;
  } else if (x <= 60) {
    r->kind = "rating", r->has_val = 1, r->val = rand() % 5 + 1, r->sc = 5;
    r->md = "{\"model\": \"chat-v7\", \"page\": \"chat\"}";
  } else if (x <= 80) {
    r->kind = "comment", r->cm = COMMENTS[rand() % 4];
  } else if (x <= 90) {
    r->kind = "edit";
    snprintf(r->ecbuf, sizeof r->ecbuf, "Paris is the capital of France (edit %d).", rand() % 1000);
    r->ec = r->ecbuf;
  } else {
    r->kind = "comparison", r->oc = "preferred", r->st = rand() % 3 + 1;
    snprintf(r->omid, sizeof r->omid, "m-%d-%d", conv, rand() % 4 + 5);
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  r->ca_us = ((int64_t)ts.tv_sec - 946684800) * 1000000 + ts.tv_nsec / 1000;
  for (int i = 0; i < 32; i++) r->h[i] = (unsigned char)rand();
}

/* text-array literals for the insert mode */
static void a_begin(struct buf *b) { putc1(b, '{'); }
static void a_sep(struct buf *b) {
  if (b->n > 1) putc1(b, ',');
}
static void a_text(struct buf *b, const char *s) {
  a_sep(b);
  if (!s) return puts0(b, "NULL");
  putc1(b, '"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') putc1(b, '\\');
    putc1(b, *s);
  }
  putc1(b, '"');
}
static void a_raw(struct buf *b, const char *s) {
  a_sep(b);
  puts0(b, s ? s : "NULL");
}
static void a_num(struct buf *b, long v, int null) {
  char s[24];
  snprintf(s, sizeof s, "%ld", v);
  a_raw(b, null ? NULL : s);
}

static char *sql_insert;

static void die(PGconn *c, const char *what) {
  fprintf(stderr, "%s: %s\n", what, PQerrorMessage(c));
  exit(1);
}
static void ok(PGconn *c, PGresult *r, const char *what) {
  ExecStatusType s = PQresultStatus(r);
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
    fprintf(stderr, "%s: %s", what, PQresultErrorMessage(r));
    exit(1);
  }
  PQclear(r);
  (void)c;
}

static void run_insert(PGconn *c, struct row *rs, int n) {
  struct buf a[26] = {{0}};
  for (int k = 0; k < 26; k++) a_begin(&a[k]);
  char tmp[128];
  for (int i = 0; i < n; i++) {
    struct row *r = &rs[i];
    a_num(&a[0], 1, 0);
    a_text(&a[1], r->id);
    a_text(&a[2], r->kind);
    a_text(&a[3], r->mid);
    a_text(&a[4], r->cid);
    a_text(&a[5], r->usr);
    a_num(&a[6], r->val, !r->has_val);
    a_num(&a[7], r->sc, !r->has_val);
    struct buf t = {0};
    a_begin(&t);
    for (int k = 0; k < r->ntags; k++) a_text(&t, r->tags[k]);
    putc1(&t, '}');
    putc1(&t, 0);
    a_text(&a[8], t.d);
    free(t.d);
    a_text(&a[9], r->cm);
    a_text(&a[10], r->ec);
    a_raw(&a[11], NULL);
    a_text(&a[12], r->omid[0] ? r->omid : NULL);
    a_text(&a[13], r->oc);
    a_num(&a[14], r->st, !r->st);
    {
      time_t s = (time_t)(r->ca_us / 1000000 + 946684800);
      struct tm tm;
      gmtime_r(&s, &tm);
      snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
               tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(r->ca_us % 1000000));
      a_text(&a[15], tmp);
    }
    a_text(&a[16], r->md);
    for (int k = 0; k < 32; k++) sprintf(tmp + 2 * k, "%02x", r->h[k]);
    a_text(&a[17], tmp);
    for (int k = 18; k < 26; k++) a_raw(&a[k], NULL);
  }
  const char *params[26];
  for (int k = 0; k < 26; k++) {
    putc1(&a[k], '}');
    putc1(&a[k], 0);
    params[k] = a[k].d;
  }
  ok(c, PQexecPrepared(c, "ins", 26, params, NULL, NULL, 0), "insert");
  for (int k = 0; k < 26; k++) free(a[k].d);
}

static void copy_header(struct buf *b) {
  put(b, "PGCOPY\n\377\r\n\0", 11);
  be32(b, 0);
  be32(b, 0);
}

/* the feedback columns as COPY sends them (stage: + ord) */
static void copy_row(struct buf *b, struct row *r, int stage, int ord) {
  be16(b, 25 + stage);
  f_i8(b, 1);
  f_text(b, r->id);
  f_text(b, r->kind);
  f_text(b, r->mid);
  f_text(b, r->cid);
  f_text(b, r->usr);
  r->has_val ? f_i4(b, r->val) : f_null(b);
  r->has_val ? f_i4(b, r->sc) : f_null(b);
  f_textarr(b, r->tags, r->ntags);
  f_text(b, r->cm);
  f_text(b, r->ec);
  f_text(b, r->omid[0] ? r->omid : NULL);
  f_text(b, r->oc);
  r->st ? f_i4(b, r->st) : f_null(b);
  f_i8(b, r->ca_us);
  f_jsonb(b, r->md);
  f_bytes(b, r->h, 32);
  for (int k = 0; k < 8; k++) f_null(b); /* span_start .. signal_value */
  if (stage) f_i8(b, ord);
}

/* the batch's rows for COPY feedback_ids (project_id, id) and COPY feedback */
static void copy_both(struct buf *ids, struct buf *fb, struct row *rs, int n) {
  copy_header(ids);
  copy_header(fb);
  for (int i = 0; i < n; i++) {
    be16(ids, 2);
    f_i8(ids, 1);
    f_text(ids, rs[i].id);
    copy_row(fb, &rs[i], 0, 0);
  }
}

static void copy_in(PGconn *c, struct buf *b) {
  PGresult *r;
  while ((r = PQgetResult(c)) && PQresultStatus(r) != PGRES_COPY_IN) ok(c, r, "before copy");
  if (!r) die(c, "no copy");
  PQclear(r);
  be16(b, -1);
  if (PQputCopyData(c, b->d, (int)b->n) != 1 || PQputCopyEnd(c, NULL) != 1) die(c, "copy data");
}
static void drain(PGconn *c, const char *what) {
  PGresult *r;
  while ((r = PQgetResult(c))) {
    if (PQresultStatus(r) == PGRES_COPY_IN) {
      fprintf(stderr, "%s: unexpected copy\n", what);
      exit(1);
    }
    ok(c, r, what);
  }
}

static void run_copy(PGconn *c, struct row *rs, int n) {
  struct buf ids = {0}, fb = {0};
  copy_both(&ids, &fb, rs, n);
  if (!PQsendQuery(c, "BEGIN; COPY feedback_ids (project_id, id) FROM STDIN (FORMAT binary)")) die(c, "send");
  copy_in(c, &ids);
  drain(c, "copy ids");
  if (!PQsendQuery(c,
                   "COPY feedback (project_id, id, kind, message_id, conversation_id, user_ref, value, scale, tags,"
                   " comment, edited_content, other_message_id, outcome, strength, created_at, metadata,"
                   " content_sha256, span_start, span_end, span_label, quote, step_index, reaction, signal,"
                   " signal_value) FROM STDIN (FORMAT binary); COMMIT"))
    die(c, "send");
  copy_in(c, &fb);
  drain(c, "copy fb");
  free(ids.d);
  free(fb.d);
}

static void run_stage(PGconn *c, struct row *rs, int n) {
  struct buf fb = {0};
  copy_header(&fb);
  for (int i = 0; i < n; i++) copy_row(&fb, &rs[i], 1, i + 1);
  if (!PQsendQuery(c,
                   "BEGIN; COPY fd_stage (p, id, kind, mid, cid, usr, val, sc, tags, cm, ec, omid, oc, st, ca, md, h, "
                   "ss, se, sl, q, si, rx, sg, sv, ord) FROM STDIN (FORMAT binary)"))
    die(c, "send");
  copy_in(c, &fb);
  drain(c, "copy stage");
  PGresult *r = PQexecPrepared(c, "ins", 0, NULL, NULL, NULL, 0);
  ok(c, r, "stage insert");
  ok(c, PQexec(c, "COMMIT"), "commit");
  free(fb.d);
}

static void run_copyhook(PGconn *c, struct row *rs, int n) {
  struct buf ids = {0}, fb = {0};
  copy_both(&ids, &fb, rs, n);
  if (!PQsendQuery(c,
                   "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; COPY feedback_ids (project_id, id) FROM "
                   "STDIN (FORMAT binary);"
                   "COPY feedback (project_id, id, kind, message_id, conversation_id, user_ref, value, scale, tags,"
                   " comment, edited_content, other_message_id, outcome, strength, created_at, metadata,"
                   " content_sha256, span_start, span_end, span_label, quote, step_index, reaction, signal,"
                   " signal_value) FROM STDIN (FORMAT binary)"))
    die(c, "send");
  copy_in(c, &ids);
  copy_in(c, &fb);
  drain(c, "copy fb");
  if (!PQenterPipelineMode(c)) die(c, "pipeline");
  const char *p[1] = {"{1}"};
  if (!PQsendQueryPrepared(c, "hook", 1, p, NULL, NULL, 0)) die(c, "hook");
  if (!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0)) die(c, "commit");
  if (!PQpipelineSync(c)) die(c, "sync");
  PGresult *r;
  for (int k = 0; k < 2; k++) {
    r = PQgetResult(c);
    ok(c, r, "hook/commit");
    if ((r = PQgetResult(c))) die(c, "extra");
  }
  r = PQgetResult(c);
  if (PQresultStatus(r) != PGRES_PIPELINE_SYNC) die(c, "sync result");
  PQclear(r);
  if (!PQexitPipelineMode(c)) die(c, "exit pipeline");
  free(ids.d);
  free(fb.d);
}

static void run_copycheck(PGconn *c, struct row *rs, int n) {
  struct buf ids = {0}, fb = {0};
  copy_both(&ids, &fb, rs, n);
  if (!PQsendQuery(c,
                   "BEGIN; SELECT FROM webhook_endpoints WHERE project_id = ANY ('{1}') AND 'feedback.stored' = ANY "
                   "(events) LIMIT 1;"
                   " COPY feedback_ids (project_id, id) FROM STDIN (FORMAT binary);"
                   "COPY feedback (project_id, id, kind, message_id, conversation_id, user_ref, value, scale, tags,"
                   " comment, edited_content, other_message_id, outcome, strength, created_at, metadata,"
                   " content_sha256, span_start, span_end, span_label, quote, step_index, reaction, signal,"
                   " signal_value) FROM STDIN (FORMAT binary); COMMIT"))
    die(c, "send");
  PGresult *r = PQgetResult(c);
  ok(c, r, "begin");
  r = PQgetResult(c);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 0) die(c, "check");
  PQclear(r);
  copy_in(c, &ids);
  copy_in(c, &fb);
  drain(c, "copy fb");
  free(ids.d);
  free(fb.d);
}

static char *read_file(const char *p) {
  FILE *f = fopen(p, "r");
  if (!f) {
    perror(p);
    exit(2);
  }
  char *s = malloc(65536);
  size_t n = fread(s, 1, 65535, f);
  s[n] = 0;
  fclose(f);
  while (n && s[n - 1] == '\n') s[--n] = 0;
  return s;
}

/* the CTE statement over fd_stage instead of the arrays */
static char *stage_sql(const char *ins) {
  const char *from = strstr(ins, "(SELECT * FROM unnest(");
  const char *to = strstr(ins, " ord)), k AS");
  size_t cap = strlen(ins) + 1024;
  char *s = malloc(cap);
  snprintf(s, cap,
           "%.*s(SELECT p, id, kind, mid, cid, usr, val, sc, tags, cm, ec, er, omid, oc, st, ca, md, h, ss, se,"
           " sl, q, si, rx, sg, sv, ord FROM fd_stage)%s",
           (int)(from - ins), ins, to + strlen(" ord))"));
  /* md is jsonb, h is bytea already: cast away the text conversions */
  char *p;
  while ((p = strstr(s, "u.md::jsonb"))) memcpy(p, "u.md       ", 11);
  if ((p = strstr(s, "decode(u.h, 'hex')"))) memcpy(p, "u.h               ", 18);
  if ((p = strstr(s, "w.project_id = ANY ($1::bigint[])"))) {
    const char *rep = "w.project_id IN (SELECT p FROM u)";
    size_t ln = strlen("w.project_id = ANY ($1::bigint[])");
    memmove(p + strlen(rep), p + ln, strlen(p + ln) + 1);
    memcpy(p, rep, strlen(rep));
  }
  return s;
}

static void client(const char *mode, double seconds, int tid) {
  srand((unsigned)(getpid() * 7919 + tid));
  PGconn *c = PQconnectdb(CONN);
  if (PQstatus(c) != CONNECTION_OK) die(c, "connect");
  if (!strcmp(mode, "insertg")) {
    ok(c, PQexec(c, "SET plan_cache_mode = force_generic_plan"), "set");
    mode = "insert";
  }
  if (!strcmp(mode, "insert")) {
    ok(c, PQprepare(c, "ins", sql_insert, 0, NULL), "prepare");
  } else if (!strcmp(mode, "copyhook")) {
    ok(c, PQprepare(c, "hook", read_file(HOOK_FILE), 0, NULL), "prepare hook");
  } else if (!strcmp(mode, "stage")) {
    ok(c,
       PQexec(c,
              "CREATE TEMP TABLE fd_stage (p bigint, id text, kind text, mid text, cid text, usr text, val int,"
              " sc int, tags text[], cm text, ec text, omid text, oc text, st int, ca timestamptz, md jsonb,"
              " h bytea, ss int, se int, sl text, q text, si int, rx text, sg text, sv float8, ord bigint,"
              " er float8) ON COMMIT DELETE ROWS"),
       "temp");
    ok(c, PQprepare(c, "ins", stage_sql(sql_insert), 0, NULL), "prepare stage");
  }
  struct row *rs = calloc((size_t)ROWS, sizeof *rs);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long total = 0;
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= seconds) break;
    for (int i = 0; i < ROWS; i++) mkrow(&rs[i], tid);
    if (!strcmp(mode, "insert"))
      run_insert(c, rs, ROWS);
    else if (!strcmp(mode, "copy"))
      run_copy(c, rs, ROWS);
    else if (!strcmp(mode, "copycheck"))
      run_copycheck(c, rs, ROWS);
    else if (!strcmp(mode, "copyhook"))
      run_copyhook(c, rs, ROWS);
    else
      run_stage(c, rs, ROWS);
    total += ROWS;
  }
  PQfinish(c);
  printf("%ld\n", total);
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: stmt_bench MODE CONNINFO SECONDS ROWS SQLFILE [CLIENTS [HOOKFILE]]\n");
    return 2;
  }
  CONN = argv[2];
  ROWS = atoi(argv[4]);
  sql_insert = read_file(argv[5]);
  if (argc > 7) HOOK_FILE = argv[7];
  int clients = argc > 6 ? atoi(argv[6]) : 2;
  for (int i = 0; i < clients; i++)
    if (fork() == 0) {
      client(argv[1], atof(argv[3]), i + 1);
      _exit(0);
    }
  for (int i = 0; i < clients; i++) wait(NULL);
  return 0;
}
