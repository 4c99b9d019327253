/* turns.h — the turn order of a queue that is fair between its owners (projects): the owners
 * that have something waiting, the next turn first. An owner joins at the end when it gets
 * its first waiting item; after its turn it leaves and, if it still has items, joins again at
 * the end, so every waiting owner is served once per round whatever its backlog. Used by the
 * ingest queue (pipeline/queue.c) and the edit-ratio worker (pipeline/edit_ratios.c).
 *
 * Intrusive: an owner embeds a struct fd_turn and FD_TURN_OWNER finds it again; no memory of
 * its own, no lock of its own (callers hold theirs). */
#ifndef FD_UTIL_TURNS_H
#define FD_UTIL_TURNS_H

#include <stddef.h>

struct fd_turn {
  struct fd_turn *next; /* the owner after this one in the order */
};

struct fd_turns {
  struct fd_turn *head, *tail; /* the next turn first; both NULL when nobody waits */
};

/* The owner of type `type` whose member `member` is the turn t (t not NULL). */
#define FD_TURN_OWNER(t, type, member) ((type *)(void *)((char *)(t)-offsetof(type, member)))

/* e joins at the end: its turn comes after those already waiting. */
static inline void fd_turns_join(struct fd_turns *o, struct fd_turn *e) {
  e->next = NULL;
  if (o->tail)
    o->tail->next = e;
  else
    o->head = e;
  o->tail = e;
}

/* e leaves the order; prev is the turn before it (NULL when e is the first). The owners
 * passed over keep their places. */
static inline void fd_turns_leave(struct fd_turns *o, struct fd_turn *prev, struct fd_turn *e) {
  if (prev)
    prev->next = e->next;
  else
    o->head = e->next;
  if (o->tail == e) o->tail = prev;
  e->next = NULL;
}

#endif
