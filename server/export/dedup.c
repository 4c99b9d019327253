/* dedup.c — open-addressing digest set with per-record flags and evidence lists (dedup.h). */
#include "export/dedup.h"

#include <stdlib.h>
#include <string.h>

struct ev_node {
  char *id;
  uint32_t next; /* index + 1 of the next node, 0 = end */
};

struct fd_dedup {
  struct fd_dedup_entry *slots;
  size_t cap; /* power of two */
  size_t count;
  struct ev_node *nodes;
  size_t n_nodes, cap_nodes;
};

struct fd_dedup *fd_dedup_new(void) {
  struct fd_dedup *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->cap = 1024;
  d->slots = calloc(d->cap, sizeof *d->slots);
  if (!d->slots) {
    free(d);
    return NULL;
  }
  return d;
}

void fd_dedup_free(struct fd_dedup *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n_nodes; i++) free(d->nodes[i].id);
  free(d->nodes);
  free(d->slots);
  free(d);
}

/* The digest is already uniformly distributed: its first 8 bytes are the hash. */
static size_t slot_of(const unsigned char key[FD_DIGEST_LEN], size_t mask) {
  uint64_t h;
  memcpy(&h, key, sizeof h);
  return (size_t)h & mask;
}

static size_t probe(const struct fd_dedup_entry *slots, size_t cap, const unsigned char key[FD_DIGEST_LEN]) {
  size_t mask = cap - 1, i = slot_of(key, mask);
  while (slots[i].used && memcmp(slots[i].key, key, FD_DIGEST_LEN) != 0) i = (i + 1) & mask;
  return i;
}

static bool grow(struct fd_dedup *d) {
  size_t ncap = d->cap * 2;
  struct fd_dedup_entry *ns = calloc(ncap, sizeof *ns);
  if (!ns) return false;
  for (size_t i = 0; i < d->cap; i++)
    if (d->slots[i].used) ns[probe(ns, ncap, d->slots[i].key)] = d->slots[i];
  free(d->slots);
  d->slots = ns;
  d->cap = ncap;
  return true;
}

struct fd_dedup_entry *fd_dedup_upsert(struct fd_dedup *d, const unsigned char key[FD_DIGEST_LEN], bool *inserted) {
  size_t i = probe(d->slots, d->cap, key);
  if (d->slots[i].used) {
    *inserted = false;
    return &d->slots[i];
  }
  if ((d->count + 1) * 10 > d->cap * 7) {
    if (!grow(d)) return NULL;
    i = probe(d->slots, d->cap, key);
  }
  struct fd_dedup_entry *e = &d->slots[i];
  memset(e, 0, sizeof *e);
  memcpy(e->key, key, FD_DIGEST_LEN);
  e->used = 1;
  d->count++;
  *inserted = true;
  return e;
}

struct fd_dedup_entry *fd_dedup_find(struct fd_dedup *d, const unsigned char key[FD_DIGEST_LEN]) {
  size_t i = probe(d->slots, d->cap, key);
  return d->slots[i].used ? &d->slots[i] : NULL;
}

bool fd_dedup_add_evidence(struct fd_dedup *d, struct fd_dedup_entry *e, const char *id) {
  if (d->n_nodes >= UINT32_MAX - 1) return false;
  if (d->n_nodes == d->cap_nodes) {
    size_t ncap = d->cap_nodes ? d->cap_nodes * 2 : 64;
    struct ev_node *p = realloc(d->nodes, ncap * sizeof *p);
    if (!p) return false;
    d->nodes = p;
    d->cap_nodes = ncap;
  }
  char *copy = strdup(id);
  if (!copy) return false;
  d->nodes[d->n_nodes] = (struct ev_node){.id = copy, .next = e->evidence};
  e->evidence = (uint32_t)++d->n_nodes;
  return true;
}

uint32_t fd_dedup_evidence_first(const struct fd_dedup_entry *e) { return e->evidence; }

const char *fd_dedup_evidence_next(const struct fd_dedup *d, uint32_t *cur) {
  if (*cur == 0) return NULL;
  const struct ev_node *n = &d->nodes[*cur - 1];
  *cur = n->next;
  return n->id;
}

size_t fd_dedup_count(const struct fd_dedup *d) { return d->count; }
