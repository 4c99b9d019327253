/* model.c — the conversation container of the export core: copying rows in, freeing them. */
#include "export/model.h"

#include <stdlib.h>
#include <string.h>

struct fd_conversation *fd_conversation_new(const char *id) {
  if (!id) return NULL;
  struct fd_conversation *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->id = strdup(id);
  if (!c->id) {
    free(c);
    return NULL;
  }
  return c;
}

/* The copied strings of a conversation live in chunks it owns, freed with it: one
 * allocation per ~16 KiB of text instead of one per string (an export copies a dozen strings
 * per message and event, millions per export; bench/README.md "export"). */
#define CHUNK_BYTES (16 * 1024)

struct chunk {
  struct chunk *next;
  size_t used, cap;
  char data[];
};

/* A copy of s in c's chunks; NULL maps to NULL, *ok turns false on allocation failure. */
static char *dup_opt(struct fd_conversation *c, const char *s, bool *ok) {
  if (!s) return NULL;
  size_t len = strlen(s) + 1;
  struct chunk *k = c->arena_;
  if (!k || k->cap - k->used < len) {
    size_t cap = len > CHUNK_BYTES ? len : CHUNK_BYTES;
    struct chunk *n = malloc(sizeof *n + cap);
    if (!n) {
      *ok = false;
      return NULL;
    }
    n->used = 0;
    n->cap = cap;
    /* A string larger than a chunk gets one of its own behind the current one, which keeps
     * its free room. */
    if (k && len > CHUNK_BYTES) {
      n->next = k->next;
      k->next = n;
    } else {
      n->next = k;
      c->arena_ = n;
    }
    k = n;
  }
  char *d = k->data + k->used;
  memcpy(d, s, len);
  k->used += len;
  return d;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem) {
  if (n < *cap) return true;
  size_t ncap = *cap ? *cap * 2 : 16;
  void *p = realloc(*arr, ncap * elem);
  if (!p) return false;
  *arr = p;
  *cap = ncap;
  return true;
}

bool fd_conversation_add_message(struct fd_conversation *c, const struct fd_message *m) {
  if (!c || !m || !m->id || !m->content) return false;
  void *arr = c->messages;
  if (!grow(&arr, &c->cap_messages_, c->n_messages, sizeof *c->messages)) return false;
  c->messages = arr;
  bool ok = true;
  struct fd_message copy = *m;
  copy.id = dup_opt(c, m->id, &ok);
  copy.conversation_id = m->conversation_id ? dup_opt(c, m->conversation_id, &ok) : c->id;
  copy.parent_id = dup_opt(c, m->parent_id, &ok);
  copy.content = dup_opt(c, m->content, &ok);
  copy.model = dup_opt(c, m->model, &ok);
  if (!ok) return false; /* what was copied is freed with the conversation */
  c->messages[c->n_messages++] = copy;
  return true;
}

bool fd_conversation_add_feedback(struct fd_conversation *c, const struct fd_feedback *f) {
  if (!c || !f || !f->id || !f->message_id) return false;
  void *arr = c->feedback;
  if (!grow(&arr, &c->cap_feedback_, c->n_feedback, sizeof *c->feedback)) return false;
  c->feedback = arr;
  bool ok = true;
  struct fd_feedback copy = *f;
  copy.id = dup_opt(c, f->id, &ok);
  copy.message_id = dup_opt(c, f->message_id, &ok);
  copy.other_message_id = dup_opt(c, f->other_message_id, &ok);
  copy.user = dup_opt(c, f->user, &ok);
  copy.edited_content = dup_opt(c, f->edited_content, &ok);
  copy.span_label = dup_opt(c, f->span_label, &ok);
  copy.reaction = dup_opt(c, f->reaction, &ok);
  if (!ok) return false;
  c->feedback[c->n_feedback++] = copy;
  return true;
}

void fd_conversation_free(struct fd_conversation *c) {
  if (!c) return;
  for (struct chunk *k = c->arena_, *next; k; k = next) {
    next = k->next;
    free(k);
  }
  free(c->messages);
  free(c->feedback);
  free(c->id);
  free(c);
}

static const char *const role_names[] = {"system", "user", "assistant", "tool"};
static const char *const signal_names[] = {
    "",      "copy",  "share",           "regenerate",         "continue",           "abandon",
    "dwell", "retry", "detected_praise", "detected_complaint", "detected_correction"};
static const char *const outcome_names[] = {"preferred", "tie", "both_bad"};

static bool parse_name(const char *s, const char *const *names, size_t n, int *out) {
  if (!s) return false;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(s, names[i]) == 0) {
      *out = (int)i;
      return true;
    }
  }
  return false;
}

bool fd_role_parse(const char *s, enum fd_role *out) {
  int v;
  if (!parse_name(s, role_names, 4, &v)) return false;
  *out = (enum fd_role)v;
  return true;
}

bool fd_outcome_parse(const char *s, enum fd_outcome *out) {
  int v;
  if (!parse_name(s, outcome_names, 3, &v)) return false;
  *out = (enum fd_outcome)v;
  return true;
}

const char *fd_role_name(enum fd_role role) { return (unsigned)role < 4 ? role_names[role] : "user"; }

enum fd_signal fd_signal_parse(const char *s) {
  int v;
  if (!parse_name(s, signal_names, sizeof signal_names / sizeof signal_names[0], &v)) return FD_SIGNAL_OTHER;
  return (enum fd_signal)v;
}

int fd_signal_sign(enum fd_signal s) {
  switch (s) {
    case FD_SIGNAL_COPY:
    case FD_SIGNAL_SHARE:
    case FD_SIGNAL_CONTINUE:
    case FD_SIGNAL_DETECTED_PRAISE: return 1;
    case FD_SIGNAL_REGENERATE:
    case FD_SIGNAL_ABANDON:
    case FD_SIGNAL_RETRY:
    case FD_SIGNAL_DETECTED_COMPLAINT:
    case FD_SIGNAL_DETECTED_CORRECTION: return -1;
    case FD_SIGNAL_DWELL:
    case FD_SIGNAL_OTHER: break;
  }
  return 0;
}
