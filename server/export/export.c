/* export.c — the export driver: per conversation, group by parent, derive candidates
 * (rules.c), filter, render (format.c), dedup (dedup.c) and write (see export.h). */
#include "export/export.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/dedup.h"
#include "export/exclude.h"
#include "export/fine.h"
#include "export/rules.h"
#include "export/tree.h"
#include "export/votes.h"
#include "util/crypto.h"
#include "util/jdump.h"
#include "util/spill.h"
#include "util/utf8.h"

/* Bytes of spilled lines one fd_export_flush call writes at most (plus one line): the HTTP
 * export fills 64 KiB chunks from them. */
#define FLUSH_BYTES (16 * 1024)

struct fd_export {
  struct fd_export_params p;
  char *slug, *model;
  struct fd_user_set excluded;
  struct fd_export_reaction *set; /* the copy of p.reaction_set */
  struct fd_rules_opts opts;
  enum fd_family family;
  fd_export_write_fn write;
  void *cls;

  bool failed, finished;
  char error[256];
  char *last_id; /* the previous conversation, for the order check */

  struct fd_dedup *dedup;
  struct fd_candidates cands;
  EVP_MD_CTX *body_hash;
  struct fd_buf scratch;                   /* canonical JSON being hashed */
  struct fd_buf line;                      /* the line being written */
  struct fd_buf prompt_line, prompt_canon; /* TEXT: the group's prompt as a line and canonically */
  struct fd_spill *spill;                  /* include_meta: the body until every duplicate is known (SPILL) */
  bool flushing, flushed;

  uint64_t records;
  uint64_t by_split[2];
  uint64_t by_origin[FD_ORIGIN_COUNT];
  uint64_t by_label[2]; /* [0] false, [1] true */
  uint64_t skipped[FD_SKIP_COUNT];
};

static bool fail(struct fd_export *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(struct fd_export *x, const char *fmt, ...) {
  if (!x->failed) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->error, sizeof x->error, fmt, ap);
    va_end(ap);
    x->failed = true;
  }
  return false;
}

bool fd_split_select_parse(const char *s, enum fd_split_select *out) {
  static const char *const names[] = {"all", "train", "test"};
  for (int i = 0; s && i < 3; i++) {
    if (strcmp(s, names[i]) == 0) {
      *out = (enum fd_split_select)i;
      return true;
    }
  }
  return false;
}

bool fd_export_reactions_allowed(enum fd_export_format f) {
  return f != FD_FORMAT_SFT && f != FD_FORMAT_PRM && f != FD_FORMAT_SPANS;
}

bool fd_export_signals_allowed(enum fd_export_format f) { return f == FD_FORMAT_KTO || f == FD_FORMAT_REWARD; }

void fd_export_params_default(struct fd_export_params *p) {
  memset(p, 0, sizeof *p);
  p->format = FD_FORMAT_TRL;
  p->split = FD_SPLIT_SELECT_ALL;
  p->test_fraction = 0.1;
  p->min_margin = 1.0;
}

struct fd_export *fd_export_new(const struct fd_export_params *p, fd_export_write_fn write, void *cls,
                                struct fd_error *err) {
  struct fd_error dummy;
  if (!err) err = &dummy;
  if ((unsigned)p->format > (unsigned)FD_FORMAT_REWARD) {
    fd_error_set(err, FD_ERR_INVALID_PARAMETER, "format", "unknown format");
    return NULL;
  }
  if (!(p->test_fraction >= 0 && p->test_fraction <= 1)) {
    fd_error_set(err, FD_ERR_INVALID_PARAMETER, "test_fraction", "test_fraction must be between 0 and 1");
    return NULL;
  }
  if (!(p->min_margin >= 0 && isfinite(p->min_margin))) {
    fd_error_set(err, FD_ERR_INVALID_PARAMETER, "min_margin", "min_margin must be a finite number >= 0");
    return NULL;
  }
  if (p->split != FD_SPLIT_SELECT_ALL && p->split != FD_SPLIT_SELECT_TRAIN && p->split != FD_SPLIT_SELECT_TEST) {
    fd_error_set(err, FD_ERR_INVALID_PARAMETER, "split", "split must be all, train or test");
    return NULL;
  }
  if (p->reactions && !fd_export_reactions_allowed(p->format)) {
    fd_error_set(err, FD_ERR_INVALID_PARAMETER, "reactions",
                 "reactions=true goes with format trl, trl-text, openai, hh, kto or reward");
    return NULL;
  }
  if (p->signals && !fd_export_signals_allowed(p->format)) {
    fd_error_set(err, FD_ERR_INVALID_PARAMETER, "signals", "signals=true goes with format kto or reward");
    return NULL;
  }
  if (!p->project_slug || !*p->project_slug || !write) {
    fd_error_set(err, FD_ERR_INTERNAL, NULL, "export without a project or an output");
    return NULL;
  }
  struct fd_export *x = calloc(1, sizeof *x);
  if (!x) goto oom;
  x->p = *p;
  x->slug = strdup(p->project_slug);
  x->model = p->model ? strdup(p->model) : NULL;
  x->dedup = fd_dedup_new();
  x->body_hash = EVP_MD_CTX_new();
  x->set = calloc(p->n_reaction_set ? p->n_reaction_set : 1, sizeof *x->set);
  if (!x->slug || (p->model && !x->model) || !x->dedup || !x->body_hash || !x->set) goto oom;
  if (p->include_meta && !(x->spill = fd_spill_new())) {
    fd_export_free(x);
    fd_error_set(err, FD_ERR_INTERNAL, NULL, "cannot create the temporary file of an include_meta export");
    return NULL;
  }
  if (p->n_reaction_set) memcpy(x->set, p->reaction_set, p->n_reaction_set * sizeof *x->set);
  x->p.reaction_set = x->set;
  x->opts = (struct fd_rules_opts){.min_margin = p->min_margin,
                                   .reactions = p->reactions || p->format == FD_FORMAT_REWARD,
                                   .signals = p->signals,
                                   .set = x->set,
                                   .n_set = p->n_reaction_set};
  if (EVP_DigestInit_ex(x->body_hash, EVP_sha256(), NULL) != 1) goto oom;
  bool oom = false;
  if (!fd_user_set_parse(p->exclude_users, &x->excluded, &oom)) {
    if (oom) goto oom;
    fd_export_free(x);
    fd_error_set(err, FD_ERR_INVALID_PARAMETER, "exclude_users", "exclude_users must be user ids separated by commas");
    return NULL;
  }
  x->p.project_slug = x->slug;
  x->p.model = x->model;
  x->p.exclude_users = NULL; /* the set holds the copy */
  x->family = fd_export_format_family(p->format);
  x->write = write;
  x->cls = cls;
  return x;
oom:
  fd_export_free(x);
  fd_error_set(err, FD_ERR_INTERNAL, NULL, "out of memory");
  return NULL;
}

void fd_export_free(struct fd_export *x) {
  if (!x) return;
  free(x->slug);
  free(x->model);
  fd_user_set_free(&x->excluded);
  free(x->set);
  free(x->last_id);
  fd_dedup_free(x->dedup);
  fd_candidates_clear(&x->cands);
  EVP_MD_CTX_free(x->body_hash);
  fd_buf_release(&x->scratch);
  fd_buf_release(&x->line);
  fd_buf_release(&x->prompt_line);
  fd_buf_release(&x->prompt_canon);
  fd_spill_free(x->spill);
  free(x);
}

const char *fd_export_error(const struct fd_export *x) { return x->failed ? x->error : ""; }

/* ---- one conversation ------------------------------------------------------------------ */

/* Everything derived from one conversation; freed at the end of fd_export_add_conversation. */
struct conv_state {
  const struct fd_conversation *conv;
  enum fd_split split;
  bool selected; /* the conversation's split is exported */
  struct fd_tree tree;
  bool tree_ok;
  bool *counting;
  size_t *ev_msg, *ev_other;
  size_t *members; /* assistant messages, by (parent id, created_at, id) */
  size_t n_members;
  size_t *msg_local; /* per message: position within its group */
  size_t *msg_group; /* per message: its group number */
  size_t *group_ev;  /* (group, event) pairs, sorted by group then (created_at, seq) */
  size_t n_group_ev;
  size_t *turns;
};

static void conv_state_clear(struct conv_state *s) {
  if (s->tree_ok) fd_tree_clear(&s->tree);
  free(s->counting);
  free(s->ev_msg);
  free(s->ev_other);
  free(s->members);
  free(s->msg_local);
  free(s->msg_group);
  free(s->group_ev);
  free(s->turns);
}

static int cmp_parent(const char *a, const char *b) {
  if (!a || !b) return a ? 1 : (b ? -1 : 0); /* root messages (no parent) first */
  return strcmp(a, b);
}

static int cmp_member(const void *pa, const void *pb, void *ctx) {
  const struct fd_conversation *conv = ctx;
  const struct fd_message *a = &conv->messages[*(const size_t *)pa], *b = &conv->messages[*(const size_t *)pb];
  int c = cmp_parent(a->parent_id, b->parent_id);
  if (c) return c;
  if (a->created_at != b->created_at) return a->created_at < b->created_at ? -1 : 1;
  return strcmp(a->id, b->id);
}

static int cmp_group_ev(const void *pa, const void *pb, void *ctx) {
  const struct conv_state *s = ctx;
  const size_t *a = pa, *b = pb; /* [group, event] */
  if (a[0] != b[0]) return a[0] < b[0] ? -1 : 1;
  const struct fd_feedback *fa = &s->conv->feedback[a[1]], *fb = &s->conv->feedback[b[1]];
  if (fa->created_at != fb->created_at) return fa->created_at < fb->created_at ? -1 : 1;
  if (fa->seq != fb->seq) return fa->seq < fb->seq ? -1 : 1;
  return a[1] < b[1] ? -1 : (a[1] > b[1]);
}

static bool is_assistant(const struct conv_state *s, size_t msg) {
  return msg != SIZE_MAX && s->conv->messages[msg].role == FD_ROLE_ASSISTANT;
}

/* Index the conversation: votes, event -> message, sibling groups, events per group. */
static bool conv_state_init(struct fd_export *x, struct conv_state *s, const struct fd_conversation *conv) {
  size_t nm = conv->n_messages, nf = conv->n_feedback;
  s->conv = conv;
  if (!fd_split_of(x->slug, conv->id, x->p.test_fraction, &s->split)) return false;
  s->selected = x->p.split == FD_SPLIT_SELECT_ALL ||
                (x->p.split == FD_SPLIT_SELECT_TRAIN && s->split == FD_SPLIT_TRAIN) ||
                (x->p.split == FD_SPLIT_SELECT_TEST && s->split == FD_SPLIT_TEST);
  if (!fd_tree_init(&s->tree, conv)) return false;
  s->tree_ok = true;
  size_t nm1 = nm ? nm : 1, nf1 = nf ? nf : 1;
  s->counting = calloc(nf1, sizeof *s->counting);
  s->ev_msg = malloc(nf1 * sizeof *s->ev_msg);
  s->ev_other = malloc(nf1 * sizeof *s->ev_other);
  s->members = malloc(nm1 * sizeof *s->members);
  s->msg_local = malloc(nm1 * sizeof *s->msg_local);
  s->msg_group = malloc(nm1 * sizeof *s->msg_group);
  s->group_ev = malloc(2 * 2 * nf1 * sizeof *s->group_ev);
  s->turns = malloc(nm1 * sizeof *s->turns);
  if (!s->counting || !s->ev_msg || !s->ev_other || !s->members || !s->msg_local || !s->msg_group || !s->group_ev ||
      !s->turns)
    return false;
  if (!fd_votes_select(conv, s->counting)) return false;
  for (size_t i = 0; i < nf && x->excluded.n; i++) /* excluded raters' events count nowhere */
    if (fd_user_set_has(&x->excluded, conv->feedback[i].user)) s->counting[i] = false;
  for (size_t i = 0; i < nf; i++) {
    const struct fd_feedback *f = &conv->feedback[i];
    if (!fd_tree_find(&s->tree, f->message_id, &s->ev_msg[i])) s->ev_msg[i] = SIZE_MAX;
    if (f->kind != FD_KIND_COMPARISON || !fd_tree_find(&s->tree, f->other_message_id, &s->ev_other[i]))
      s->ev_other[i] = SIZE_MAX;
  }
  for (size_t i = 0; i < nm; i++) {
    s->msg_local[i] = s->msg_group[i] = SIZE_MAX;
    if (conv->messages[i].role == FD_ROLE_ASSISTANT) s->members[s->n_members++] = i;
  }
  qsort_r(s->members, s->n_members, sizeof *s->members, cmp_member, (void *)conv);
  size_t group = 0;
  for (size_t i = 0, local = 0; i < s->n_members; i++, local++) {
    if (i > 0 && cmp_parent(conv->messages[s->members[i - 1]].parent_id, conv->messages[s->members[i]].parent_id)) {
      group++;
      local = 0;
    }
    s->msg_group[s->members[i]] = group;
    s->msg_local[s->members[i]] = local;
  }
  /* Attach every counting event to the groups of the assistant messages it names. Feedback
   * on a message never logged counts nowhere; a comparison counts only when both of its
   * messages are logged in this conversation. */
  for (size_t i = 0; i < nf; i++) {
    if (!s->counting[i] || s->ev_msg[i] == SIZE_MAX) continue;
    const struct fd_feedback *f = &conv->feedback[i];
    if (f->kind == FD_KIND_COMPARISON && s->ev_other[i] == SIZE_MAX) continue;
    size_t g1 = is_assistant(s, s->ev_msg[i]) ? s->msg_group[s->ev_msg[i]] : SIZE_MAX;
    size_t g2 =
        f->kind == FD_KIND_COMPARISON && is_assistant(s, s->ev_other[i]) ? s->msg_group[s->ev_other[i]] : SIZE_MAX;
    if (g1 != SIZE_MAX) {
      s->group_ev[2 * s->n_group_ev] = g1;
      s->group_ev[2 * s->n_group_ev++ + 1] = i;
    }
    if (g2 != SIZE_MAX && g2 != g1) {
      s->group_ev[2 * s->n_group_ev] = g2;
      s->group_ev[2 * s->n_group_ev++ + 1] = i;
    }
  }
  qsort_r(s->group_ev, s->n_group_ev, 2 * sizeof *s->group_ev, cmp_group_ev, s);
  return true;
}

/* ---- one candidate ----------------------------------------------------------------------- */

static bool passes_filters(const struct fd_export *x, const struct conv_state *s, const struct fd_candidate *c) {
  if (x->model) {
    bool match = (c->chosen_model && strcmp(c->chosen_model, x->model) == 0) ||
                 (c->rejected_model && strcmp(c->rejected_model, x->model) == 0);
    if (!match) return false;
  }
  if (x->p.has_since || x->p.has_until) {
    for (size_t k = 0; k < c->n_ev; k++) {
      int64_t t = s->conv->feedback[x->cands.evidence[c->ev_off + k]].created_at;
      if ((!x->p.has_since || t >= x->p.since) && (!x->p.has_until || t < x->p.until)) return true;
    }
    return false;
  }
  return true;
}

static int cmp_str_ptr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Per-group rendering context: the prompt, built once and only when a record needs it. */
struct group_ctx {
  const char *parent_id;
  const size_t *turns;
  size_t n_turns;
  json_t *prompt;
  bool prompt_text; /* x->prompt_line / prompt_canon hold this group's prompt (TEXT) */
  char prompt_id[FD_SHA256_HEX_LEN + 1];
};

/* A finished line out: into the body's hash and the write callback. */
static bool put_line(struct fd_export *x, enum fd_split split, const char *data, size_t len) {
  if (EVP_DigestUpdate(x->body_hash, data, len) != 1) return fail(x, "out of memory");
  if (!x->write(x->cls, split, data, len)) return fail(x, "output closed");
  return true;
}

/* SPILL (export.h): a line of an include_meta export waits in the spill file behind its
 * header: split (1 byte), dedup key (FD_DIGEST_LEN bytes), length (4 bytes, host order). */
#define SPILL_HEADER (1 + FD_DIGEST_LEN + 4)

static bool spill_line(struct fd_export *x, enum fd_split split, const unsigned char digest[FD_SHA256_LEN],
                       const struct fd_buf *line) {
  unsigned char h[SPILL_HEADER];
  uint32_t len = (uint32_t)line->len;
  if (line->len > UINT32_MAX) return fail(x, "a record of more than 4 GiB");
  h[0] = (unsigned char)split;
  memcpy(h + 1, digest, FD_DIGEST_LEN);
  memcpy(h + 1 + FD_DIGEST_LEN, &len, 4);
  if (!fd_spill_write(x->spill, h, sizeof h) || !fd_spill_write(x->spill, line->data, line->len))
    return fail(x, "cannot write the temporary file of an include_meta export (disk full?)");
  return true;
}

/* Write rec (+ meta) as one line. rec NULL: x->line holds the record's text but its closing
 * brace (TEXT), meta goes after it as the record's last key, where jansson would put it. */
static bool emit(struct fd_export *x, const struct conv_state *s, struct group_ctx *gc, const struct fd_candidate *c,
                 const struct fd_dedup_entry *e, json_t *rec, const unsigned char digest[FD_SHA256_LEN]) {
  bool ok = false;
  const char **ids = NULL;
  if (x->p.include_meta) {
    size_t n_extra = 0;
    for (uint32_t cur = fd_dedup_evidence_first(e); fd_dedup_evidence_next(x->dedup, &cur);) n_extra++;
    ids = malloc((c->n_ev + n_extra + 1) * sizeof *ids);
    if (!ids) goto out;
    size_t n = 0;
    for (size_t k = 0; k < c->n_ev; k++) ids[n++] = s->conv->feedback[x->cands.evidence[c->ev_off + k]].id;
    const char *id;
    for (uint32_t cur = fd_dedup_evidence_first(e); (id = fd_dedup_evidence_next(x->dedup, &cur));) ids[n++] = id;
    qsort(ids, n, sizeof *ids, cmp_str_ptr);
    size_t u = 0;
    for (size_t k = 0; k < n; k++)
      if (u == 0 || strcmp(ids[u - 1], ids[k]) != 0) ids[u++] = ids[k];
    char pair_id[FD_SHA256_HEX_LEN + 1];
    fd_hex_encode(digest, FD_SHA256_LEN, pair_id);
    struct fd_meta m = {
        .prompt_id = gc->prompt_id,
        .conversation_id = s->conv->id,
        .parent_id = gc->parent_id,
        .origin = c->origin,
        .feedback_ids = ids,
        .n_feedback_ids = u,
        .split = s->split,
        .pair_id = pair_id,
        .has_margin = c->has_margin,
        .margin = c->margin,
        .has_agreement = c->has_agreement,
        .agreement = c->agreement,
        .n_votes = u,
        .chosen_model = c->chosen_model,
        .rejected_model = c->rejected_model,
    };
    json_t *meta = fd_format_meta_new(x->family, &m);
    if (!meta || (rec && json_object_set_new(rec, "meta", meta) != 0)) {
      if (!rec) json_decref(meta);
      fail(x, "cannot build meta (out of memory or invalid UTF-8)");
      goto out;
    }
    if (!rec) {
      fd_buf_append(&x->line, ",\"meta\":", 8);
      bool dumped = fd_jdump(meta, false, &x->line);
      json_decref(meta);
      if (!dumped) goto out;
    }
  }
  struct fd_buf *line = &x->line;
  if (rec) {
    fd_buf_reset(line);
    if (!fd_jdump(rec, false, line)) goto out;
  } else {
    fd_buf_append(line, "}", 1);
  }
  fd_buf_append(line, "\n", 1);
  if (line->oom) goto out;
  ok = x->spill ? spill_line(x, s->split, digest, line) : put_line(x, s->split, line->data, line->len);
out:
  if (!ok) fail(x, "out of memory");
  free(ids);
  return ok;
}

static void count_skip(struct fd_export *x, const struct conv_state *s, enum fd_skip_reason r) {
  if (s->selected) x->skipped[r]++;
}

/* The group's prompt, rendered when a record first needs it, and hashed into prompt_id when
 * records carry meta (nothing else reads prompt_id). */
static bool ensure_prompt(struct fd_export *x, const struct conv_state *s, struct group_ctx *gc) {
  if (gc->prompt) return true;
  gc->prompt = fd_prompt_json_new(s->conv, gc->turns, gc->n_turns);
  if (gc->prompt && !x->p.include_meta) return true;
  unsigned char pd[FD_SHA256_LEN];
  if (!gc->prompt || !fd_canonical_sha256(gc->prompt, &x->scratch, pd))
    return fail(x, "cannot render the prompt of %s/%s (out of memory or invalid UTF-8)", s->conv->id, gc->parent_id);
  fd_hex_encode(pd, sizeof pd, gc->prompt_id);
  return true;
}

/* The dedup entry of a record (*inserted: first seen now), keeping the earliest origin seen
 * (edit < comparison < ratings). NULL after fail(). */
static struct fd_dedup_entry *dedup_entry(struct fd_export *x, const struct fd_candidate *c,
                                          const unsigned char digest[FD_SHA256_LEN], bool *inserted) {
  struct fd_dedup_entry *e = fd_dedup_upsert(x->dedup, digest, inserted);
  if (!e) {
    fail(x, "out of memory");
    return NULL;
  }
  if (*inserted || c->origin < e->origin) e->origin = c->origin;
  return e;
}

/* include_meta (export.h "SPILL"): remember the evidence of every occurrence after the first,
 * for the kept record's line when the spill is flushed. */
static bool remember_evidence(struct fd_export *x, const struct conv_state *s, const struct fd_candidate *c,
                              struct fd_dedup_entry *e) {
  e->dup = 1;
  for (size_t k = 0; k < c->n_ev; k++)
    if (!fd_dedup_add_evidence(x->dedup, e, s->conv->feedback[x->cands.evidence[c->ev_off + k]].id))
      return fail(x, "out of memory");
  return true;
}

/* A later occurrence of an emitted record is skipped as a duplicate. It may reveal an
 * earlier origin than the one counted (edit < comparison < ratings). */
static void count_duplicate(struct fd_export *x, const struct conv_state *s, struct fd_dedup_entry *e) {
  count_skip(x, s, FD_SKIP_DUPLICATE);
  if (e->counted && e->origin < e->counted_origin) {
    x->by_origin[e->counted_origin]--;
    x->by_origin[e->origin]++;
    e->counted_origin = e->origin;
  }
}

/* The first occurrence of a record: written and counted when its split is selected. */
static bool emit_first(struct fd_export *x, const struct conv_state *s, struct group_ctx *gc,
                       const struct fd_candidate *c, struct fd_dedup_entry *e, json_t *rec,
                       const unsigned char digest[FD_SHA256_LEN]) {
  e->emitted = 1;
  if (!s->selected) return true; /* kept in a split this export does not write */
  if (!emit(x, s, gc, c, e, rec, digest)) return false;
  x->records++;
  x->by_split[s->split]++;
  x->by_origin[e->origin]++;
  if (x->family == FD_FAMILY_UNPAIRED) x->by_label[c->label ? 1 : 0]++;
  e->counted = 1;
  e->counted_origin = e->origin;
  return true;
}

/* The dedup key of a record: its canonical JSON's SHA-256; for reward only prompt and
 * completion count (docs/export.md "Reactions and signals"). */
static bool record_digest(struct fd_export *x, json_t *rec, unsigned char digest[FD_SHA256_LEN]) {
  if (x->family != FD_FAMILY_REWARD) return fd_canonical_sha256(rec, &x->scratch, digest);
  json_t *key = json_pack("{s:O, s:O}", "prompt", json_object_get(rec, "prompt"), "completion",
                          json_object_get(rec, "completion"));
  bool ok = key && fd_canonical_sha256(key, &x->scratch, digest);
  json_decref(key);
  return ok;
}

/* A rendered record (rec, or its text in x->line when NULL: TEXT) with its dedup key. */
static bool handle_record(struct fd_export *x, const struct conv_state *s, struct group_ctx *gc,
                          const struct fd_candidate *c, json_t *rec, const unsigned char digest[FD_SHA256_LEN]) {
  bool inserted;
  struct fd_dedup_entry *e = dedup_entry(x, c, digest, &inserted);
  if (!e) return false;
  /* A record is emitted (or kept in an unselected split) when first seen: every later one is a
   * duplicate, whose evidence joins the kept line when the spill is flushed. */
  if (!inserted && x->spill && !remember_evidence(x, s, c, e)) return false;
  if (e->emitted) {
    count_duplicate(x, s, e);
    return true;
  }
  return emit_first(x, s, gc, c, e, rec, digest);
}

/* TEXT: trl and kto records are written here as JSON text, byte for byte what fd_jdump writes
 * for the tree fd_format_record_new builds (keys in its order for the line, sorted for the
 * canonical text whose SHA-256 is the dedup key), without building that tree per record; the
 * group's prompt is dumped once in both orders for all its records. Turn objects are
 * {"role","content"} ("content" sorts first); the record keys are in fd_format_record_new's
 * order. tests/unit/test_export_text.c holds them against jansson. */
static bool text_format(enum fd_export_format f) { return f == FD_FORMAT_TRL || f == FD_FORMAT_KTO; }

#define LIT(b, s) fd_buf_append((b), (s), sizeof(s) - 1)

/* [{"role":"assistant","content":t}], its keys in line order or sorted (canon). */
static void assistant_text(struct fd_buf *b, const char *t, size_t len, bool canon) {
  if (canon) {
    LIT(b, "[{\"content\":");
    fd_jdump_string(t, len, b);
    LIT(b, ",\"role\":\"assistant\"}]");
  } else {
    LIT(b, "[{\"role\":\"assistant\",\"content\":");
    fd_jdump_string(t, len, b);
    LIT(b, "}]");
  }
}

/* Render candidate c of a TEXT format into x->line (no closing brace) and its dedup key. */
static bool text_record(struct fd_export *x, const struct conv_state *s, struct group_ctx *gc,
                        const struct fd_candidate *c, unsigned char digest[FD_SHA256_LEN]) {
  bool kto = x->p.format == FD_FORMAT_KTO;
  const char *a = c->chosen, *b = kto ? "" : c->rejected;
  size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;
  /* What json_string would refuse, fd_format_record_new refuses too. */
  if (!a || !b || !fd_utf8_valid(a, la) || !fd_utf8_valid(b, lb))
    return fail(x, "cannot render a record of %s/%s (out of memory or invalid UTF-8)", s->conv->id, gc->parent_id);
  if (!gc->prompt_text) {
    fd_buf_reset(&x->prompt_line);
    fd_buf_reset(&x->prompt_canon);
    if (!fd_jdump(gc->prompt, false, &x->prompt_line) || !fd_jdump(gc->prompt, true, &x->prompt_canon))
      return fail(x, "out of memory");
    gc->prompt_text = true;
  }
  struct fd_buf *k = &x->scratch, *l = &x->line;
  fd_buf_reset(k);
  fd_buf_reset(l);
  if (kto) {
    const char *label = c->label ? "true" : "false";
    LIT(k, "{\"completion\":");
    assistant_text(k, a, la, true);
    LIT(k, ",\"label\":");
    fd_buf_puts(k, label);
    LIT(k, ",\"prompt\":");
    fd_buf_append(k, x->prompt_canon.data, x->prompt_canon.len);
    LIT(k, "}");
    LIT(l, "{\"prompt\":");
    fd_buf_append(l, x->prompt_line.data, x->prompt_line.len);
    LIT(l, ",\"completion\":");
    assistant_text(l, a, la, false);
    LIT(l, ",\"label\":");
    fd_buf_puts(l, label);
  } else {
    LIT(k, "{\"chosen\":");
    assistant_text(k, a, la, true);
    LIT(k, ",\"prompt\":");
    fd_buf_append(k, x->prompt_canon.data, x->prompt_canon.len);
    LIT(k, ",\"rejected\":");
    assistant_text(k, b, lb, true);
    LIT(k, "}");
    LIT(l, "{\"prompt\":");
    fd_buf_append(l, x->prompt_line.data, x->prompt_line.len);
    LIT(l, ",\"chosen\":");
    assistant_text(l, a, la, false);
    LIT(l, ",\"rejected\":");
    assistant_text(l, b, lb, false);
  }
  if (k->oom || l->oom) return fail(x, "out of memory");
  fd_sha256(k->data, k->len, digest);
  return true;
}

/* One derived candidate: filtered, counted as skipped, or rendered and handled. */
static bool handle_candidate(struct fd_export *x, const struct conv_state *s, struct group_ctx *gc,
                             const struct fd_candidate *c) {
  if (!passes_filters(x, s, c)) return true;
  if (c->skip != FD_SKIP_NONE) {
    count_skip(x, s, c->skip);
    return true;
  }
  if (!ensure_prompt(x, s, gc)) return false;
  unsigned char digest[FD_SHA256_LEN];
  if (text_format(x->p.format)) return text_record(x, s, gc, c, digest) && handle_record(x, s, gc, c, NULL, digest);
  json_t *rec = NULL;
  enum fd_skip_reason skip;
  bool fine = x->family == FD_FAMILY_STEPS || x->family == FD_FAMILY_SPANS;
  bool rendered = fine ? fd_fine_record_new(x->family, s->conv, gc->turns, gc->n_turns, gc->prompt, c,
                                            x->cands.evidence, &rec, &skip)
                       : fd_format_record_new(x->p.format, s->conv, gc->turns, gc->n_turns, gc->prompt, c,
                                              x->cands.evidence, &x->opts, &rec, &skip);
  if (!rendered)
    return fail(x, "cannot render a record of %s/%s (out of memory or invalid UTF-8)", s->conv->id, gc->parent_id);
  if (!rec) {
    count_skip(x, s, skip);
    return true;
  }
  bool ok = record_digest(x, rec, digest) ? handle_record(x, s, gc, c, rec, digest) : fail(x, "out of memory");
  json_decref(rec);
  return ok;
}

/* Whether the sibling group under parent_id is touched (see struct fd_touch). */
static bool group_touched(const struct conv_state *s, const char *parent_id, const struct fd_touch *touches, size_t n) {
  const struct fd_conversation *conv = s->conv;
  for (size_t i = 0; i < n; i++) {
    const struct fd_touch *t = &touches[i];
    if (!t->message_id) continue;
    size_t mi;
    bool logged = fd_tree_find(&s->tree, t->message_id, &mi);
    if (logged && cmp_parent(conv->messages[mi].parent_id, parent_id) == 0) return true; /* its own group */
    if (!t->subtree) continue;
    /* Below the new turn: the group's prompt chain passes through it. The walk compares ids,
     * so a turn that had not been logged before (children waiting for it) is found too. */
    const char *cur = parent_id;
    for (size_t steps = 0; cur && steps <= conv->n_messages; steps++) {
      if (strcmp(cur, t->message_id) == 0) return true;
      size_t k;
      if (!fd_tree_find(&s->tree, cur, &k)) break;
      cur = conv->messages[k].parent_id;
    }
  }
  return false;
}

static bool add_conversation(struct fd_export *x, const struct fd_conversation *conv, const struct fd_touch *touches,
                             size_t n_touches, bool all_groups);

bool fd_export_add_conversation(struct fd_export *x, const struct fd_conversation *conv) {
  return add_conversation(x, conv, NULL, 0, true);
}

bool fd_export_add_conversation_touched(struct fd_export *x, const struct fd_conversation *conv,
                                        const struct fd_touch *touches, size_t n_touches) {
  return add_conversation(x, conv, touches, n_touches, false);
}

/* Whether every evidence event of c lacks the rater's consent. */
static bool all_without_consent(const struct fd_export *x, const struct conv_state *s, const struct fd_candidate *c) {
  for (size_t k = 0; k < c->n_ev; k++)
    if (!s->conv->feedback[x->cands.evidence[c->ev_off + k]].no_consent) return false;
  return c->n_ev > 0;
}

/* The sibling group of members[start, end) with its counting events[0..n_ev) (compacted in
 * place to the consented ones when some lack consent): derive its candidates (rules.h) and
 * handle each; see export.h "Consent" for the two derivations. */
static bool derive_group(struct fd_export *x, const struct conv_state *s, size_t start, size_t end, size_t *events,
                         size_t n_ev) {
  const char *parent_id = s->conv->messages[s->members[start]].parent_id;
  struct group_ctx gc = {.parent_id = parent_id, .turns = s->turns};
  struct fd_group g = {
      .conv = s->conv,
      .status = fd_tree_prompt(&s->tree, parent_id, s->turns, &gc.n_turns),
      .members = s->members + start,
      .n_members = end - start,
      .events = events,
      .n_events = n_ev,
      .ev_msg = s->ev_msg,
      .ev_other = s->ev_other,
      .msg_local = s->msg_local,
  };
  size_t n_ok = 0;
  for (size_t k = 0; k < n_ev; k++) n_ok += !s->conv->feedback[events[k]].no_consent;
  bool ok = true;
  if (n_ok < n_ev) {
    fd_candidates_reset(&x->cands);
    ok = fd_rules_derive(&g, x->family, &x->opts, &x->cands) || fail(x, "out of memory");
    for (size_t k = 0; ok && k < x->cands.n; k++) {
      const struct fd_candidate *c = &x->cands.items[k];
      if (all_without_consent(x, s, c) && passes_filters(x, s, c)) count_skip(x, s, FD_SKIP_NO_CONSENT);
    }
    size_t u = 0;
    for (size_t k = 0; k < n_ev; k++)
      if (!s->conv->feedback[events[k]].no_consent) events[u++] = events[k];
    g.n_events = n_ok;
  }
  if (ok && n_ok) {
    fd_candidates_reset(&x->cands);
    ok = fd_rules_derive(&g, x->family, &x->opts, &x->cands) || fail(x, "out of memory");
    for (size_t k = 0; ok && k < x->cands.n; k++) ok = handle_candidate(x, s, &gc, &x->cands.items[k]);
  }
  json_decref(gc.prompt);
  return ok;
}

static bool add_conversation(struct fd_export *x, const struct fd_conversation *conv, const struct fd_touch *touches,
                             size_t n_touches, bool all_groups) {
  if (x->failed) return false;
  if (x->finished || x->flushing) return fail(x, "conversation added after the export finished");
  if (!conv || !conv->id) return fail(x, "conversation without an id");
  if (x->last_id && strcmp(x->last_id, conv->id) >= 0)
    return fail(x, "conversation %s comes after %s: conversations must be fed in increasing bytewise id order",
                conv->id, x->last_id);
  char *id = strdup(conv->id);
  if (!id) return fail(x, "out of memory");
  free(x->last_id);
  x->last_id = id;

  bool ok = false;
  struct conv_state s = {0};
  if (!conv_state_init(x, &s, conv)) {
    fail(x, "out of memory");
    goto out;
  }
  size_t gi = 0; /* cursor in group_ev */
  for (size_t start = 0, group = 0; start < s.n_members; group++) {
    size_t end = start;
    while (end < s.n_members && s.msg_group[s.members[end]] == group) end++;
    size_t ev_start = gi;
    while (gi < s.n_group_ev && s.group_ev[2 * gi] == group) gi++;
    size_t n_ev = gi - ev_start;
    size_t *events = NULL;
    if (n_ev) {
      events = malloc(n_ev * sizeof *events);
      if (!events) {
        fail(x, "out of memory");
        goto out;
      }
      for (size_t k = 0; k < n_ev; k++) events[k] = s.group_ev[2 * (ev_start + k) + 1];
    }
    const char *parent_id = conv->messages[s.members[start]].parent_id;
    bool group_ok = true;
    /* A group nobody gave feedback on yields nothing; an incremental export looks only at
     * the groups a change touched. */
    if (n_ev && (all_groups || group_touched(&s, parent_id, touches, n_touches)))
      group_ok = derive_group(x, &s, start, end, events, n_ev);
    free(events);
    if (!group_ok) goto out;
    start = end;
  }
  ok = true;
out:
  conv_state_clear(&s);
  return ok;
}

/* A spilled line whose record was seen again: its meta with the merged evidence. The line
 * is this export's own jdump output, so reading it back and writing it again changes
 * nothing but feedback_ids and n_votes (keys keep their order, reals round-trip). */
static bool merge_line(struct fd_export *x, const struct fd_dedup_entry *e) {
  json_t *rec = json_loadb(x->line.data, x->line.len - 1, 0, NULL);
  json_t *meta = json_object_get(rec, "meta");
  json_t *own = json_object_get(meta, "feedback_ids");
  bool ok = false;
  const char **ids = NULL;
  json_t *merged = NULL;
  if (!json_is_array(own)) goto out;
  size_t n_extra = 0, n = 0;
  for (uint32_t cur = fd_dedup_evidence_first(e); fd_dedup_evidence_next(x->dedup, &cur);) n_extra++;
  if (!(ids = malloc((json_array_size(own) + n_extra + 1) * sizeof *ids))) goto out;
  for (size_t k = 0; k < json_array_size(own); k++) ids[n++] = json_string_value(json_array_get(own, k));
  const char *id;
  for (uint32_t cur = fd_dedup_evidence_first(e); (id = fd_dedup_evidence_next(x->dedup, &cur));) ids[n++] = id;
  qsort(ids, n, sizeof *ids, cmp_str_ptr);
  if (!(merged = json_array())) goto out;
  size_t u = 0;
  for (size_t k = 0; k < n; k++) {
    if (!ids[k] || (k > 0 && strcmp(ids[k - 1], ids[k]) == 0)) continue;
    if (json_array_append_new(merged, json_string(ids[k])) != 0) goto out;
    u++;
  }
  if (json_object_set(meta, "feedback_ids", merged) != 0) goto out;
  if (json_object_get(meta, "n_votes") && json_object_set_new(meta, "n_votes", json_integer((json_int_t)u)) != 0)
    goto out;
  fd_buf_reset(&x->line);
  ok = fd_jdump(rec, false, &x->line);
  fd_buf_append(&x->line, "\n", 1);
  ok = ok && !x->line.oom;
out:
  free(ids);
  json_decref(merged);
  json_decref(rec);
  return ok || fail(x, "cannot merge the evidence of a duplicated record (out of memory)");
}

/* One spilled line out: 1 written, 0 the spill is exhausted, -1 failed. */
static int flush_line(struct fd_export *x) {
  unsigned char h[SPILL_HEADER];
  int r = fd_spill_read(x->spill, h, sizeof h);
  if (r == 0) return 0;
  uint32_t len;
  memcpy(&len, h + 1 + FD_DIGEST_LEN, 4);
  fd_buf_reset(&x->line);
  char chunk[16 * 1024];
  for (size_t left = r > 0 ? len : 0; left && r > 0;) {
    size_t k = left < sizeof chunk ? left : sizeof chunk;
    if ((r = fd_spill_read(x->spill, chunk, k)) > 0) fd_buf_append(&x->line, chunk, k);
    left -= k;
  }
  if (r <= 0 || len == 0) return fail(x, "cannot read the temporary file of an include_meta export"), -1;
  if (x->line.oom) return fail(x, "out of memory"), -1;
  const struct fd_dedup_entry *e = fd_dedup_find(x->dedup, h + 1);
  if (!e) return fail(x, "a spilled record is missing from the dedup set"), -1;
  if (e->dup && !merge_line(x, e)) return -1;
  return put_line(x, (enum fd_split)h[0], x->line.data, x->line.len) ? 1 : -1;
}

int fd_export_flush(struct fd_export *x) {
  if (x->failed) return -1;
  if (!x->spill || x->flushed) return 0;
  if (!x->flushing) {
    if (!fd_spill_rewind(x->spill)) return fail(x, "cannot read the temporary file of an include_meta export"), -1;
    x->flushing = true;
  }
  for (size_t bytes = 0; bytes < FLUSH_BYTES;) {
    int r = flush_line(x);
    if (r < 0) return -1;
    if (r == 0) {
      x->flushed = true;
      fd_spill_free(x->spill); /* the file goes now, not with the export */
      x->spill = NULL;
      return 0;
    }
    bytes += x->line.len;
  }
  return 1;
}

bool fd_export_finish(struct fd_export *x) {
  if (x->failed) return false;
  for (int r; (r = fd_export_flush(x)) != 0;)
    if (r < 0) return false;
  x->finished = true;
  return true;
}

json_t *fd_export_counts_new(const struct fd_export *x) {
  json_t *skipped = json_object();
  json_t *out = NULL;
  if (!skipped) return NULL;
  for (int r = 0; r < FD_SKIP_COUNT; r++)
    if (json_object_set_new(skipped, fd_skip_name((enum fd_skip_reason)r), json_integer((json_int_t)x->skipped[r])))
      goto out;
  unsigned char digest[FD_SHA256_LEN];
  char hex[FD_SHA256_HEX_LEN + 1];
  unsigned int dlen = 0;
  EVP_MD_CTX *copy = EVP_MD_CTX_new();
  bool hashed = copy && EVP_MD_CTX_copy_ex(copy, x->body_hash) == 1 && EVP_DigestFinal_ex(copy, digest, &dlen) == 1;
  EVP_MD_CTX_free(copy);
  if (!hashed) goto out;
  fd_hex_encode(digest, sizeof digest, hex);
  out = json_pack("{s:I, s:{s:I, s:I}}", "records", (json_int_t)x->records, "by_split", "train",
                  (json_int_t)x->by_split[FD_SPLIT_TRAIN], "test", (json_int_t)x->by_split[FD_SPLIT_TEST]);
  if (!out) goto out;
  int rc = 0;
  if (x->family == FD_FAMILY_PAIRS)
    rc |= json_object_set_new(out, "by_origin",
                              json_pack("{s:I, s:I, s:I}", "edit", (json_int_t)x->by_origin[FD_ORIGIN_EDIT],
                                        "comparison", (json_int_t)x->by_origin[FD_ORIGIN_COMPARISON], "ratings",
                                        (json_int_t)x->by_origin[FD_ORIGIN_RATINGS]));
  if (x->family == FD_FAMILY_UNPAIRED)
    rc |= json_object_set_new(
        out, "by_label",
        json_pack("{s:I, s:I}", "true", (json_int_t)x->by_label[1], "false", (json_int_t)x->by_label[0]));
  rc |= json_object_set(out, "skipped", skipped);
  rc |= json_object_set_new(out, "sha256", json_string(hex));
  if (rc) {
    json_decref(out);
    out = NULL;
  }
out:
  json_decref(skipped);
  return out;
}
