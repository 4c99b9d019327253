/* wait_room.c — see wait_room.h. One thread looks at the waiting requests every few
 * milliseconds while there are any (sleeping otherwise): the checks are a lock and a
 * comparison each, and polling keeps the room independent of what it waits for. */
#include "http/wait_room.h"

#include <pthread.h>
#include <stdlib.h>

#include "util/clock.h"
#include "util/workers.h" /* fd_thread_name */

#define POLL_MS 5

struct waiter {
  struct fd_request *req;
  int64_t key;
  uint64_t deadline_us;
  bool (*ready)(struct fd_request *req);
};

struct fd_wait_room {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  bool stopping;
  int n;
  struct waiter waiting[FD_WAIT_ROOM_MAX];
};

/* Resume the requests whose wait is over, outside the lock (MHD_resume_connection takes
 * MHD's own lock). Returns with the lock held. */
static void release_due(struct fd_wait_room *w) {
  struct fd_request *due[FD_WAIT_ROOM_MAX];
  int n_due = 0;
  uint64_t now = fd_now_us();
  for (int i = 0; i < w->n;) {
    struct waiter *x = &w->waiting[i];
    if (w->stopping || now >= x->deadline_us || x->ready(x->req)) {
      due[n_due++] = x->req;
      *x = w->waiting[--w->n];
    } else {
      i++;
    }
  }
  pthread_mutex_unlock(&w->mu);
  for (int i = 0; i < n_due; i++) fd_request_resume(due[i]);
  pthread_mutex_lock(&w->mu);
}

static void *room_main(void *arg) {
  struct fd_wait_room *w = arg;
  fd_thread_name("fd-waitroom");
  pthread_mutex_lock(&w->mu);
  for (;;) {
    if (w->n) release_due(w);
    if (w->stopping && !w->n) break; /* closed: nothing waits, nothing can enter */
    if (!w->n) {
      pthread_cond_wait(&w->cv, &w->mu);
      continue;
    }
    struct timespec until = fd_deadline_ms(CLOCK_MONOTONIC, POLL_MS);
    pthread_cond_timedwait(&w->cv, &w->mu, &until); /* woken or timed out: look again */
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

struct fd_wait_room *fd_wait_room_start(void) {
  struct fd_wait_room *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  pthread_mutex_init(&w->mu, NULL);
  fd_cond_init_monotonic(&w->cv);
  if (pthread_create(&w->thread, NULL, room_main, w) != 0) {
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return NULL;
  }
  return w;
}

void fd_wait_room_close(struct fd_wait_room *w) {
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  w->stopping = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

void fd_wait_room_stop(struct fd_wait_room *w) {
  if (!w) return;
  fd_wait_room_close(w);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
  free(w);
}

bool fd_wait_room_enter(struct fd_wait_room *w, struct fd_request *req, int64_t key, int max_ms,
                        bool (*ready)(struct fd_request *req), fd_handler then) {
  if (!w) return false;
  pthread_mutex_lock(&w->mu);
  int same_key = 0;
  for (int i = 0; i < w->n; i++) same_key += w->waiting[i].key == key;
  bool room = !w->stopping && w->n < FD_WAIT_ROOM_MAX && same_key < FD_WAIT_ROOM_PER_KEY;
  if (room) {
    /* suspended before the room's thread can see it: a resume must follow a suspend */
    req->held = true;
    fd_request_suspend(req, then);
    w->waiting[w->n++] = (struct waiter){req, key, fd_now_us() + (uint64_t)max_ms * 1000u, ready};
    if (w->n == 1) pthread_cond_signal(&w->cv);
  }
  pthread_mutex_unlock(&w->mu);
  return room;
}
