/* edit_ratio_db.c — reads and updates of the edit-ratio worker (see edit_ratio_db.h). */
#include "db/edit_ratio_db.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* Rows with an id are edits (original NULL); rows without are the distinct originals. */
static struct fd_stmt stmt_pairs = {"edit_ratio_pairs",
                                    "WITH e AS (SELECT f.project_id, f.id, f.message_id, f.edited_content"
                                    "  FROM unnest($1::bigint[], $2::text[]) AS u(p, id)"
                                    "  JOIN feedback f ON f.project_id = u.p AND f.id = u.id"
                                    "  WHERE f.kind = 'edit' AND f.edit_ratio IS NULL) "
                                    "SELECT project_id, id, message_id, edited_content, NULL FROM e "
                                    "UNION ALL "
                                    "SELECT m.project_id, NULL, m.id, NULL, m.content FROM messages m"
                                    " WHERE (m.project_id, m.id) IN (SELECT DISTINCT project_id, message_id FROM e)",
                                    0};

static struct fd_stmt stmt_set = {"edit_ratio_set",
                                  "UPDATE feedback f SET edit_ratio = u.r"
                                  " FROM unnest($1::bigint[], $2::text[], $3::float8[]) AS u(p, id, r)"
                                  " WHERE f.project_id = u.p AND f.id = u.id AND f.edit_ratio IS NULL",
                                  0};

static void num(struct fd_buf *b, long long v) {
  char s[24];
  snprintf(s, sizeof s, "%lld", v);
  fd_pgarray_raw(b, s);
}

void fd_edit_pairs_free(struct fd_edit_pairs *p) {
  free(p->pairs);
  PQclear(p->res);
  memset(p, 0, sizeof *p);
}

/* The original of edit row k among the message rows (few: a worker round is small). */
static void match_original(PGresult *r, int k, struct fd_edit_pair *pair) {
  const char *mid = PQgetvalue(r, k, 2);
  for (int j = 0; j < PQntuples(r); j++) {
    if (!PQgetisnull(r, j, 1) || strcmp(PQgetvalue(r, j, 2), mid) != 0 ||
        strcmp(PQgetvalue(r, j, 0), PQgetvalue(r, k, 0)) != 0)
      continue;
    pair->original = PQgetvalue(r, j, 4);
    pair->original_len = (size_t)PQgetlength(r, j, 4);
    return;
  }
}

enum fd_db_status fd_db_edit_pairs(struct fd_db *db, const struct fd_edit_key *keys, size_t n,
                                   struct fd_edit_pairs *out) {
  memset(out, 0, sizeof *out);
  if (n == 0) return FD_DB_NONE;
  struct fd_buf p = {0}, id = {0};
  fd_pgarray_begin(&p);
  fd_pgarray_begin(&id);
  for (size_t i = 0; i < n; i++) {
    num(&p, keys[i].project_id);
    fd_pgarray_text(&id, keys[i].id);
  }
  fd_pgarray_end(&p);
  fd_pgarray_end(&id);
  enum fd_db_status st;
  if (p.oom || id.oom) {
    st = fd_db_bug("out of memory building the edit keys");
  } else {
    const char *params[2] = {p.data, id.data};
    PGresult *r = fd_db_exec_replanned(db, &stmt_pairs, 2, params); /* see pool.h */
    st = fd_db_result(db, r);
    if (!fd_db_failed(st) && !(out->pairs = calloc((size_t)PQntuples(r) + 1, sizeof *out->pairs)))
      st = fd_db_bug("out of memory reading edits");
    if (fd_db_failed(st)) {
      PQclear(r);
    } else {
      out->res = r;
      for (int k = 0; k < PQntuples(r); k++) {
        if (PQgetisnull(r, k, 1)) continue;
        struct fd_edit_pair *e = &out->pairs[out->n++];
        e->project_id = strtoll(PQgetvalue(r, k, 0), NULL, 10);
        e->id = PQgetvalue(r, k, 1);
        e->edited = PQgetvalue(r, k, 3);
        e->edited_len = (size_t)PQgetlength(r, k, 3);
        match_original(r, k, e);
      }
      st = (enum fd_db_status)(out->n > INT_MAX ? INT_MAX : (int)out->n);
    }
  }
  fd_buf_release(&p);
  fd_buf_release(&id);
  return st;
}

enum fd_db_status fd_db_set_edit_ratios(struct fd_db *db, const struct fd_edit_pair *pairs, const double *ratios,
                                        size_t n) {
  if (n == 0) return FD_DB_NONE;
  struct fd_buf p = {0}, id = {0}, r = {0};
  fd_pgarray_begin(&p);
  fd_pgarray_begin(&id);
  fd_pgarray_begin(&r);
  for (size_t i = 0; i < n; i++) {
    char v[32];
    snprintf(v, sizeof v, "%.17g", ratios[i]);
    num(&p, pairs[i].project_id);
    fd_pgarray_text(&id, pairs[i].id);
    fd_pgarray_raw(&r, v);
  }
  fd_pgarray_end(&p);
  fd_pgarray_end(&id);
  fd_pgarray_end(&r);
  enum fd_db_status st;
  if (p.oom || id.oom || r.oom) {
    st = fd_db_bug("out of memory building the edit ratios");
  } else {
    const char *params[3] = {p.data, id.data, r.data};
    PGresult *res = fd_db_exec_replanned(db, &stmt_set, 3, params);
    st = fd_db_result(db, res);
    PQclear(res);
  }
  fd_buf_release(&p);
  fd_buf_release(&id);
  fd_buf_release(&r);
  return st;
}
