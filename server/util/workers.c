/* workers.c — the job queue and its threads (see workers.h). */
#include "util/workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct fd_workers {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct fd_job *head, *tail; /* FIFO */
  bool stopping;
  int n, nice;
  const char *name;
  pthread_t *threads;
};

void fd_thread_set_nice(int nice) {
  if (nice != 0 && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice) != 0) { /* best effort */
  }
}

void fd_thread_name(const char *name) {
  char n[16];
  snprintf(n, sizeof n, "%s", name);
  (void)pthread_setname_np(pthread_self(), n);
}

static void *worker_main(void *arg) {
  struct fd_workers *w = arg;
  fd_thread_name(w->name);
  fd_thread_set_nice(w->nice);
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->head && !w->stopping) pthread_cond_wait(&w->cv, &w->mu);
    struct fd_job *job = w->head;
    if (!job) break; /* stopping and nothing left */
    w->head = job->next;
    if (!w->head) w->tail = NULL;
    job->next = NULL;
    pthread_mutex_unlock(&w->mu);
    job->run(job);
    pthread_mutex_lock(&w->mu);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

struct fd_workers *fd_workers_start(const char *name, int n, int nice) {
  if (n < 1) n = 1;
  struct fd_workers *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->threads = calloc((size_t)n, sizeof *w->threads);
  if (!w->threads) {
    free(w);
    return NULL;
  }
  w->nice = nice;
  w->name = name;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  for (; w->n < n; w->n++)
    if (pthread_create(&w->threads[w->n], NULL, worker_main, w) != 0) break;
  if (w->n == 0) {
    fd_workers_stop(w);
    return NULL;
  }
  return w;
}

void fd_workers_submit(struct fd_workers *w, struct fd_job *job) {
  job->next = NULL;
  pthread_mutex_lock(&w->mu);
  if (w->tail)
    w->tail->next = job;
  else
    w->head = job;
  w->tail = job;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

void fd_workers_stop(struct fd_workers *w) {
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  w->stopping = true;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  for (int i = 0; i < w->n; i++) pthread_join(w->threads[i], NULL);
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
  free(w->threads);
  free(w);
}
