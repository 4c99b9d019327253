/* workers.h — a fixed set of threads that run queued jobs in the order they were queued.
 *
 * For work that must not run on an HTTP thread and must not take one thread per request
 * (the HTTP exports: api/export_stream.c). Jobs are intrusive: the caller embeds a struct
 * fd_job in its own object, so queueing never allocates and never fails. A job queued again
 * goes to the back of the queue: a job that re-queues itself after each slice of work shares
 * the threads round-robin with the others. */
#ifndef FD_UTIL_WORKERS_H
#define FD_UTIL_WORKERS_H

#include <stdbool.h>

struct fd_job {
  void (*run)(struct fd_job *job); /* called on a worker thread */
  struct fd_job *next;             /* queue link, owned by the pool while queued */
};

struct fd_workers;

/* Start n threads (n >= 1) named `name` (see fd_thread_name) at the given nice value (0 = the
 * process's; higher = they yield the CPU to the HTTP threads and writers). NULL when out of
 * memory or no thread could start. */
struct fd_workers *fd_workers_start(const char *name, int n, int nice) __attribute__((warn_unused_result));

/* Lower the calling thread's scheduling priority to `nice` (Linux: per thread). Best effort:
 * background work (exports, edit ratios) must not take the CPU that acknowledgements wait for,
 * but a refusal (e.g. a lowered RLIMIT_NICE) only costs that. */
void fd_thread_set_nice(int nice);

/* Name the calling thread (at most 15 bytes; Linux: /proc/<pid>/task/<tid>/comm, shown by
 * top -H and perf): so the CPU of each kind of thread can be told apart (docs/operations.md
 * "Threads"). Best effort. */
void fd_thread_name(const char *name);

/* Queue a job; its run() will be called once on some worker thread. The job must not be
 * queued twice at the same time. Any thread may call this; it never blocks on a job. */
void fd_workers_submit(struct fd_workers *w, struct fd_job *job);

/* Run every job still queued (and those they queue), then join the threads and free the
 * pool. NULL ok. */
void fd_workers_stop(struct fd_workers *w);

#endif
