/* test_export_fixture.h — hand-built conversations and a capturing export run, shared by the
 * test_export_*.c unit tests. Everything here is test scaffolding: the expectations live in
 * the test files, written out by hand from docs/export.md. */
#ifndef FD_TESTS_EXPORT_FIXTURE_H
#define FD_TESTS_EXPORT_FIXTURE_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "export/export.h"
#include "export/model.h"
#include "unit.h"

/* Not every test file uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

/* Arrival order of every event/message the fixtures create. */
static int64_t fx_seq;

static struct fd_conversation *fx_conv(const char *id) {
  struct fd_conversation *c = fd_conversation_new(id);
  if (!c) abort();
  return c;
}

static void fx_msg(struct fd_conversation *c, const char *id, const char *parent, enum fd_role role,
                   const char *content, const char *model, int64_t t) {
  struct fd_message m = {.id = id,
                         .parent_id = parent,
                         .role = role,
                         .content = content,
                         .model = model,
                         .created_at = t,
                         .seq = ++fx_seq};
  if (!fd_conversation_add_message(c, &m)) abort();
}

static void fx_add(struct fd_conversation *c, struct fd_feedback f) {
  f.seq = ++fx_seq;
  if (!fd_conversation_add_feedback(c, &f)) abort();
}

/* A rating; scale 2 means thumbs. */
static void fx_rate(struct fd_conversation *c, const char *id, const char *msg, const char *user, int value, int scale,
                    int64_t t) {
  fx_add(c, (struct fd_feedback){.id = id,
                                 .kind = FD_KIND_RATING,
                                 .message_id = msg,
                                 .user = user,
                                 .value = value,
                                 .scale = scale,
                                 .created_at = t});
}

static void fx_edit(struct fd_conversation *c, const char *id, const char *msg, const char *user, const char *text,
                    int64_t t) {
  fx_add(c,
         (struct fd_feedback){
             .id = id, .kind = FD_KIND_EDIT, .message_id = msg, .user = user, .edited_content = text, .created_at = t});
}

/* A comparison: `msg` is the preferred one for outcome preferred. */
static void fx_cmp(struct fd_conversation *c, const char *id, const char *msg, const char *other, const char *user,
                   enum fd_outcome outcome, int64_t t) {
  fx_add(c, (struct fd_feedback){.id = id,
                                 .kind = FD_KIND_COMPARISON,
                                 .message_id = msg,
                                 .other_message_id = other,
                                 .user = user,
                                 .outcome = outcome,
                                 .created_at = t});
}

/* Mark the last event added as retracted. */
static void fx_retract_last(struct fd_conversation *c) { c->feedback[c->n_feedback - 1].retracted = true; }

/* The running example of docs/export.md: system + user prompt, two assistant answers. */
static struct fd_conversation *fx_france(const char *id) {
  struct fd_conversation *c = fx_conv(id);
  fx_msg(c, "m1", NULL, FD_ROLE_SYSTEM, "Be terse.", NULL, 1);
  fx_msg(c, "m2", "m1", FD_ROLE_USER, "Capital of France?", NULL, 2);
  fx_msg(c, "m3", "m2", FD_ROLE_ASSISTANT, "Lyon.", "chat-v7", 3);
  fx_msg(c, "m4", "m2", FD_ROLE_ASSISTANT, "Paris.", "chat-v7", 4);
  return c;
}

#define FX_MAX_LINES 64

struct fx_out {
  char *lines[FX_MAX_LINES];
  enum fd_split split[FX_MAX_LINES];
  int n;
  json_t *counts;
  bool ok;
  char error[320];
};

static bool fx_capture(void *cls, enum fd_split split, const char *line, size_t len) {
  struct fx_out *o = cls;
  if (o->n == FX_MAX_LINES) return false;
  o->lines[o->n] = strndup(line, len);
  o->split[o->n++] = split;
  return true;
}

static void fx_out_clear(struct fx_out *o) {
  for (int i = 0; i < o->n; i++) free(o->lines[i]);
  json_decref(o->counts);
  memset(o, 0, sizeof *o);
}

static struct fd_export_params fx_params(enum fd_export_format format, bool meta) {
  struct fd_export_params p;
  fd_export_params_default(&p);
  p.format = format;
  p.include_meta = meta;
  p.project_slug = "proj";
  p.test_fraction = 0; /* everything in train unless a test says otherwise */
  return p;
}

/* Run a whole export over convs (already in id order). */
static void fx_run(const struct fd_export_params *p, struct fd_conversation **convs, int n, struct fx_out *o) {
  memset(o, 0, sizeof *o);
  struct fd_error err;
  struct fd_export *x = fd_export_new(p, fx_capture, o, &err);
  if (!x) {
    snprintf(o->error, sizeof o->error, "fd_export_new: %s", err.message);
    return;
  }
  bool ok = true;
  for (int i = 0; ok && i < n; i++) ok = fd_export_add_conversation(x, convs[i]);
  ok = ok && fd_export_finish(x);
  o->ok = ok;
  snprintf(o->error, sizeof o->error, "%s", fd_export_error(x));
  o->counts = fd_export_counts_new(x);
  fd_export_free(x);
  if (!ok) fprintf(stderr, "export failed: %s\n", o->error);
}

/* counts[group][key] (group NULL: top level) as an integer; -1 when absent. */
static long long fx_count(const struct fx_out *o, const char *group, const char *key) {
  json_t *g = group ? json_object_get(o->counts, group) : o->counts;
  json_t *v = json_object_get(g, key);
  return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* The sum of all skipped counters: lets a test say "and nothing else was skipped". */
static long long fx_skipped_total(const struct fx_out *o) {
  long long sum = 0;
  const char *k;
  json_t *v;
  json_object_foreach(json_object_get(o->counts, "skipped"), k, v) sum += json_integer_value(v);
  return sum;
}

/* Line i parsed; the caller decrefs. */
static json_t *fx_parse(const struct fx_out *o, int i) {
  if (i >= o->n) return NULL;
  return json_loads(o->lines[i], 0, NULL);
}

/* Line i's meta.<key> as a string (borrowed from a cache that lives until the next call). */
static json_t *fx_meta_cache;
static json_t *fx_meta(const struct fx_out *o, int i, const char *key) {
  json_decref(fx_meta_cache);
  fx_meta_cache = fx_parse(o, i);
  return json_object_get(json_object_get(fx_meta_cache, "meta"), key);
}

/* meta.feedback_ids of line i joined with ',' into buf. */
static const char *fx_ids(const struct fx_out *o, int i, char *buf, size_t size) {
  json_t *ids = fx_meta(o, i, "feedback_ids");
  size_t idx, used = 0;
  json_t *v;
  buf[0] = '\0';
  json_array_foreach(ids, idx, v) {
    int w = snprintf(buf + used, size - used, "%s%s", idx ? "," : "", json_string_value(v));
    if (w < 0 || (size_t)w >= size - used) break;
    used += (size_t)w;
  }
  return buf;
}

static void fx_free_convs(struct fd_conversation **convs, int n) {
  for (int i = 0; i < n; i++) fd_conversation_free(convs[i]);
  json_decref(fx_meta_cache);
  fx_meta_cache = NULL;
}

#endif
