/* format.c — record formats, meta and canonical JSON (see format.h). */
#include "export/format.h"

#include <stdlib.h>
#include <string.h>

#include "util/jdump.h"

static const char *const format_names[] = {"trl", "trl-text", "kto", "openai", "hh", "sft", "prm", "spans", "reward"};
#define N_FORMATS (sizeof format_names / sizeof format_names[0])

bool fd_export_format_parse(const char *s, enum fd_export_format *out) {
  if (!s) return false;
  for (size_t i = 0; i < N_FORMATS; i++) {
    if (strcmp(s, format_names[i]) == 0) {
      *out = (enum fd_export_format)i;
      return true;
    }
  }
  return false;
}

const char *fd_export_format_name(enum fd_export_format f) { return (unsigned)f < N_FORMATS ? format_names[f] : "trl"; }

enum fd_family fd_export_format_family(enum fd_export_format f) {
  switch (f) {
    case FD_FORMAT_KTO: return FD_FAMILY_UNPAIRED;
    case FD_FORMAT_SFT: return FD_FAMILY_SFT;
    case FD_FORMAT_PRM: return FD_FAMILY_STEPS;
    case FD_FORMAT_SPANS: return FD_FAMILY_SPANS;
    case FD_FORMAT_REWARD: return FD_FAMILY_REWARD;
    case FD_FORMAT_TRL:
    case FD_FORMAT_TRL_TEXT:
    case FD_FORMAT_OPENAI:
    case FD_FORMAT_HH: break;
  }
  return FD_FAMILY_PAIRS;
}

char *fd_canonical_json_alloc(const json_t *j) {
  struct fd_buf b = {0};
  if (!fd_jdump(j, true, &b)) {
    fd_buf_release(&b);
    return NULL;
  }
  return b.data ? b.data : strdup("");
}

bool fd_canonical_sha256(const json_t *j, struct fd_buf *scratch, unsigned char out[FD_SHA256_LEN]) {
  fd_buf_reset(scratch);
  if (!fd_jdump(j, true, scratch)) return false;
  fd_sha256(scratch->data, scratch->len, out);
  return true;
}

/* {"role": role, "content": content} as a new reference, or NULL. */
static json_t *turn_new(const char *role, const char *content) {
  return json_pack("{s:s, s:s}", "role", role, "content", content);
}

json_t *fd_prompt_json_new(const struct fd_conversation *conv, const size_t *turns, size_t n_turns) {
  json_t *arr = json_array();
  if (!arr) return NULL;
  for (size_t i = 0; i < n_turns; i++) {
    const struct fd_message *m = &conv->messages[turns[i]];
    if (json_array_append_new(arr, turn_new(fd_role_name(m->role), m->content)) != 0) {
      json_decref(arr);
      return NULL;
    }
  }
  return arr;
}

/* [{"role": "assistant", "content": text}] */
static json_t *assistant_list_new(const char *text) {
  return json_pack("[{s:s, s:s}]", "role", "assistant", "content", text);
}

/* A growable string for the hh transcript. */
struct sbuf {
  char *s;
  size_t len, cap;
  bool failed;
};

static void sb_add(struct sbuf *b, const char *s) {
  size_t n = strlen(s);
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + n + 1) ncap *= 2;
    char *p = realloc(b->s, ncap);
    if (!p) {
      b->failed = true;
      return;
    }
    b->s = p;
    b->cap = ncap;
  }
  memcpy(b->s + b->len, s, n + 1);
  b->len += n;
}

/* The hh transcript of the prompt: "\n\nHuman: ...\n\nAssistant: ..." with system turns folded
 * into the next human turn as "<system>\n\n<user>". Returns false with *unsupported set when a
 * tool turn makes the prompt inexpressible; false with b->failed on ENOMEM. */
static bool hh_prompt(struct sbuf *b, const struct fd_conversation *conv, const size_t *turns, size_t n_turns,
                      bool *unsupported) {
  struct sbuf sys = {0};
  for (size_t i = 0; i < n_turns; i++) {
    const struct fd_message *m = &conv->messages[turns[i]];
    switch (m->role) {
      case FD_ROLE_TOOL:
        *unsupported = true;
        free(sys.s);
        return false;
      case FD_ROLE_SYSTEM:
        /* Several system turns before one human turn are joined the same way. */
        if (sys.len) sb_add(&sys, "\n\n");
        sb_add(&sys, m->content);
        break;
      case FD_ROLE_USER:
        sb_add(b, "\n\nHuman: ");
        if (sys.len) {
          sb_add(b, sys.s);
          sb_add(b, "\n\n");
          sys.len = 0;
        }
        sb_add(b, m->content);
        break;
      case FD_ROLE_ASSISTANT:
        sb_add(b, "\n\nAssistant: ");
        sb_add(b, m->content);
        break;
    }
  }
  bool failed = sys.failed;
  free(sys.s);
  if (failed) b->failed = true;
  return !b->failed;
}

static json_t *hh_side_new(const struct sbuf *prompt, const char *text) {
  struct sbuf b = {0};
  sb_add(&b, prompt->s ? prompt->s : "");
  sb_add(&b, "\n\nAssistant: ");
  sb_add(&b, text);
  json_t *j = b.failed ? NULL : json_string(b.s);
  free(b.s);
  return j;
}

static json_t *hh_record_new(const struct fd_conversation *conv, const size_t *turns, size_t n_turns,
                             const struct fd_candidate *c, bool *unsupported) {
  struct sbuf p = {0};
  json_t *rec = NULL;
  if (!hh_prompt(&p, conv, turns, n_turns, unsupported)) goto out;
  json_t *chosen = hh_side_new(&p, c->chosen), *rejected = hh_side_new(&p, c->rejected);
  if (chosen && rejected) rec = json_pack("{s:O, s:O}", "chosen", chosen, "rejected", rejected);
  json_decref(chosen);
  json_decref(rejected);
out:
  free(p.s);
  return rec;
}

/* {name: count} of the reactions among c's evidence, over every name of the set, in set order. */
static json_t *reaction_counts_new(const struct fd_conversation *conv, const struct fd_candidate *c,
                                   const size_t *evidence, const struct fd_rules_opts *o) {
  json_t *obj = json_object();
  for (size_t i = 0; obj && i < o->n_set; i++) {
    json_int_t n = 0;
    for (size_t k = 0; k < c->n_ev; k++) {
      const struct fd_feedback *f = &conv->feedback[evidence[c->ev_off + k]];
      if (f->kind == FD_KIND_REACTION && f->reaction && strcmp(f->reaction, o->set[i].name) == 0) n++;
    }
    if (json_object_set_new(obj, o->set[i].name, json_integer(n)) != 0) {
      json_decref(obj);
      return NULL;
    }
  }
  return obj;
}

bool fd_format_record_new(enum fd_export_format f, const struct fd_conversation *conv, const size_t *turns,
                          size_t n_turns, const json_t *prompt, const struct fd_candidate *c, const size_t *evidence,
                          const struct fd_rules_opts *o, json_t **out, enum fd_skip_reason *skip) {
  json_t *rec = NULL, *a = NULL, *b = NULL;
  json_t *p = (json_t *)prompt; /* json_pack's "O" takes a non-const pointer; it only increfs */
  *out = NULL;
  *skip = FD_SKIP_NONE;
  switch (f) {
    case FD_FORMAT_TRL:
    case FD_FORMAT_OPENAI:
      a = assistant_list_new(c->chosen);
      b = assistant_list_new(c->rejected);
      if (!a || !b) break;
      if (f == FD_FORMAT_TRL)
        rec = json_pack("{s:O, s:O, s:O}", "prompt", p, "chosen", a, "rejected", b);
      else
        rec =
            json_pack("{s:{s:O}, s:O, s:O}", "input", "messages", p, "preferred_output", a, "non_preferred_output", b);
      break;
    case FD_FORMAT_TRL_TEXT:
      if (n_turns != 1 || conv->messages[turns[0]].role != FD_ROLE_USER) {
        *skip = FD_SKIP_NOT_SINGLE_TURN;
        return true;
      }
      rec = json_pack("{s:s, s:s, s:s}", "prompt", conv->messages[turns[0]].content, "chosen", c->chosen, "rejected",
                      c->rejected);
      break;
    case FD_FORMAT_HH: {
      bool unsupported = false;
      rec = hh_record_new(conv, turns, n_turns, c, &unsupported);
      if (unsupported) {
        *skip = FD_SKIP_UNSUPPORTED_ROLE;
        return true;
      }
      break;
    }
    case FD_FORMAT_KTO:
      a = assistant_list_new(c->chosen);
      if (!a) break;
      rec = json_pack("{s:O, s:O, s:b}", "prompt", p, "completion", a, "label", (int)c->label);
      break;
    case FD_FORMAT_REWARD:
      a = assistant_list_new(c->chosen);
      b = reaction_counts_new(conv, c, evidence, o);
      if (!a || !b) break;
      rec = json_pack("{s:O, s:O, s:f, s:I, s:O}", "prompt", p, "completion", a, "reward", c->reward, "n",
                      (json_int_t)c->n_scored, "reactions", b);
      break;
    case FD_FORMAT_PRM:
    case FD_FORMAT_SPANS: break; /* export/fine.c renders these */
    case FD_FORMAT_SFT:
      a = json_copy(p); /* shallow: shares the prompt's turn objects, which are never modified */
      if (!a || json_array_append_new(a, turn_new("assistant", c->chosen)) != 0) break;
      rec = json_pack("{s:O}", "messages", a);
      break;
  }
  json_decref(a);
  json_decref(b);
  *out = rec;
  return rec != NULL;
}

json_t *fd_format_meta_new(enum fd_family family, const struct fd_meta *m) {
  json_t *ids = json_array();
  json_t *meta = NULL;
  if (!ids) return NULL;
  for (size_t i = 0; i < m->n_feedback_ids; i++)
    if (json_array_append_new(ids, json_string(m->feedback_ids[i])) != 0) goto out;
  meta = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s}", "prompt_id", m->prompt_id, "conversation_id", m->conversation_id,
                   "parent_id", m->parent_id, "origin", fd_origin_name(m->origin), "feedback_ids", ids, "split",
                   fd_split_name(m->split));
  if (!meta) goto out;
  int rc = 0;
  if (family == FD_FAMILY_PAIRS) {
    rc |= json_object_set_new(meta, "pair_id", json_string(m->pair_id));
    rc |= json_object_set_new(meta, "margin", m->has_margin ? json_real(m->margin) : json_null());
    rc |= json_object_set_new(meta, "n_votes", json_integer((json_int_t)m->n_votes));
    rc |= json_object_set_new(meta, "agreement", m->has_agreement ? json_real(m->agreement) : json_null());
    rc |= json_object_set_new(meta, "models",
                              json_pack("{s:s?, s:s?}", "chosen", m->chosen_model, "rejected", m->rejected_model));
  } else if (family == FD_FAMILY_UNPAIRED || family == FD_FAMILY_STEPS || family == FD_FAMILY_SPANS ||
             family == FD_FAMILY_REWARD) {
    rc |= json_object_set_new(meta, "model", m->chosen_model ? json_string(m->chosen_model) : json_null());
  }
  if (rc != 0) {
    json_decref(meta);
    meta = NULL;
  }
out:
  json_decref(ids);
  return meta;
}
