/* slots.c — see slots.h. At most `total` keys hold slots at a time, so the per-key counts fit
 * a small array searched linearly. */
#include "util/slots.h"

#include <pthread.h>
#include <stdlib.h>

struct key_count {
  int64_t key;
  int n; /* 0: the entry is free */
};

struct fd_slots {
  pthread_mutex_t mu;
  int total, per_key, used;
  struct key_count *keys; /* `total` entries */
};

struct fd_slots *fd_slots_new(int total, int per_key) {
  if (total < 1) total = 1;
  if (per_key < 1) per_key = 1;
  struct fd_slots *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->keys = calloc((size_t)total, sizeof *s->keys);
  if (!s->keys) {
    free(s);
    return NULL;
  }
  s->total = total;
  s->per_key = per_key;
  pthread_mutex_init(&s->mu, NULL);
  return s;
}

void fd_slots_free(struct fd_slots *s) {
  if (!s) return;
  pthread_mutex_destroy(&s->mu);
  free(s->keys);
  free(s);
}

bool fd_slots_take(struct fd_slots *s, int64_t key) {
  bool ok = false;
  pthread_mutex_lock(&s->mu);
  struct key_count *mine = NULL, *free_entry = NULL;
  for (int i = 0; i < s->total; i++) {
    if (s->keys[i].n > 0 && s->keys[i].key == key) mine = &s->keys[i];
    if (s->keys[i].n == 0 && !free_entry) free_entry = &s->keys[i];
  }
  if (!mine && free_entry && s->used < s->total) {
    mine = free_entry;
    mine->key = key;
  }
  if (mine && s->used < s->total && mine->n < s->per_key) {
    mine->n++;
    s->used++;
    ok = true;
  }
  pthread_mutex_unlock(&s->mu);
  return ok;
}

void fd_slots_give(struct fd_slots *s, int64_t key) {
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < s->total; i++)
    if (s->keys[i].n > 0 && s->keys[i].key == key) {
      s->keys[i].n--;
      s->used--;
      break;
    }
  pthread_mutex_unlock(&s->mu);
}
