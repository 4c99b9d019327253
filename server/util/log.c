/* log.c — logfmt lines on stderr with an RFC 3339 UTC timestamp; access lines batched. */
#include "util/log.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile enum fd_log_level current_level = FD_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

bool fd_log_parse_level(const char *name, enum fd_log_level *out) {
  for (int i = 0; i < 4; i++) {
    if (strcmp(name, level_names[i]) == 0) {
      *out = (enum fd_log_level)i;
      return true;
    }
  }
  return false;
}

void fd_log_set_level(enum fd_log_level level) { current_level = level; }

bool fd_log_enabled(enum fd_log_level level) { return level >= current_level; }

/* One formatted line, newline included, into line[FD_LOG_LINE_MAX]; returns its length. */
#define FD_LOG_LINE_MAX 4096
/* (format attributes: clang checks the callers' formats instead of refusing a non-literal) */
__attribute__((format(printf, 3, 0))) static size_t format_line(char *line, enum fd_log_level level, const char *fmt,
                                                                va_list ap) {
  /* The date and time to the second, formatted once a second per thread: every request
   * writes an access line at the default level, and gmtime_r takes glibc's time zone
   * lock each time. */
  static __thread time_t stamp_sec = (time_t)-1;
  static __thread char stamp[80]; /* 19 bytes in practice; sized for any int fields */
  struct timeval tv;
  gettimeofday(&tv, NULL);
  if (tv.tv_sec != stamp_sec) {
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
    stamp_sec = tv.tv_sec;
  }
  int n =
      snprintf(line, FD_LOG_LINE_MAX, "ts=%s.%03ldZ level=%s ", stamp, (long)(tv.tv_usec / 1000), level_names[level]);
  if (n < 0) n = 0;
  if (n > FD_LOG_LINE_MAX - 2) n = FD_LOG_LINE_MAX - 2;
  int m = vsnprintf(line + n, FD_LOG_LINE_MAX - (size_t)n - 1, fmt, ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > FD_LOG_LINE_MAX - 2) len = FD_LOG_LINE_MAX - 2;
  line[len++] = '\n';
  return len;
}

static void write_stderr(const char *data, size_t len) {
  /* a failed log write has nowhere to go */
  ssize_t ignored = write(STDERR_FILENO, data, len);
  (void)ignored;
}

/* ---- access lines: gathered per thread, written in blocks ----
 *
 * A write(2) per request was ~5% of the CPU of a POST /v1/feedback at the default level.
 * Access lines are collected in a per-thread buffer instead and written as one block of
 * whole lines when the buffer is full, when that thread logs anything else (so a thread's
 * lines keep their order), when the thread exits, at exit(), and at the latest after
 * FLUSH_MS by a flusher thread. A block is at most PIPE_BUF (4096) bytes, so it is
 * written whole even to a pipe shared with other writers. Lines still buffered when the
 * process dies of a signal (at most FLUSH_MS of them) are lost. */
#define BUF_BYTES 4096
#define FLUSH_MS 100

struct access_buf {
  pthread_mutex_t lock; /* the owning thread and the flusher */
  size_t len;
  struct access_buf *prev, *next;
  char data[BUF_BYTES];
};

static pthread_mutex_t bufs_lock = PTHREAD_MUTEX_INITIALIZER; /* taken before any buffer's lock */
static struct access_buf *bufs;
static pthread_key_t buf_key;
static pthread_once_t buffering_once = PTHREAD_ONCE_INIT;
static bool buffering; /* set once: the key and the flusher exist */

static void flush_locked(struct access_buf *b) {
  if (b->len) write_stderr(b->data, b->len);
  b->len = 0;
}

static void flush_all(void) {
  pthread_mutex_lock(&bufs_lock);
  for (struct access_buf *b = bufs; b; b = b->next) {
    pthread_mutex_lock(&b->lock);
    flush_locked(b);
    pthread_mutex_unlock(&b->lock);
  }
  pthread_mutex_unlock(&bufs_lock);
}

/* thread exit: write what is left and forget the buffer */
static void buf_release(void *p) {
  struct access_buf *b = p;
  pthread_mutex_lock(&bufs_lock);
  if (b->prev)
    b->prev->next = b->next;
  else
    bufs = b->next;
  if (b->next) b->next->prev = b->prev;
  pthread_mutex_unlock(&bufs_lock);
  flush_locked(b); /* unlinked: no other thread can reach it any more */
  pthread_mutex_destroy(&b->lock);
  free(b);
}

static void *flusher_main(void *arg) {
  (void)arg;
  struct timespec period = {.tv_sec = 0, .tv_nsec = FLUSH_MS * 1000000L};
  for (;;) {
    nanosleep(&period, NULL);
    flush_all();
  }
  return NULL;
}

static void buffering_start(void) {
  if (pthread_key_create(&buf_key, buf_release) != 0) return;
  pthread_attr_t attr;
  pthread_t t;
  if (pthread_attr_init(&attr) != 0) return;
  /* the flusher must never take a signal (serve waits for SIGTERM in sigwait) */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  bool ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
            pthread_create(&t, &attr, flusher_main, NULL) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (!ok || atexit(flush_all) != 0) return; /* without the flusher: lines are written directly */
  __atomic_store_n(&buffering, true, __ATOMIC_RELEASE);
}

/* This thread's buffer (created on first use), or NULL to write directly. */
static struct access_buf *thread_buf(bool create) {
  if (!__atomic_load_n(&buffering, __ATOMIC_ACQUIRE)) return NULL;
  struct access_buf *b = pthread_getspecific(buf_key);
  if (b || !create) return b;
  if (!(b = calloc(1, sizeof *b))) return NULL;
  pthread_mutex_init(&b->lock, NULL);
  if (pthread_setspecific(buf_key, b) != 0) {
    pthread_mutex_destroy(&b->lock);
    free(b);
    return NULL;
  }
  pthread_mutex_lock(&bufs_lock);
  b->next = bufs;
  if (bufs) bufs->prev = b;
  bufs = b;
  pthread_mutex_unlock(&bufs_lock);
  return b;
}

/* One line: written at once, after this thread's buffered access lines (so they keep
 * their order), or, for an access line, added to this thread's buffer. */
__attribute__((format(printf, 3, 0))) static void emit(enum fd_log_level level, bool access, const char *fmt,
                                                       va_list ap) {
  char line[FD_LOG_LINE_MAX];
  size_t len = format_line(line, level, fmt, ap);
  if (access) pthread_once(&buffering_once, buffering_start);
  struct access_buf *b = thread_buf(access);
  if (!b) {
    write_stderr(line, len); /* a single write keeps concurrent lines whole */
    return;
  }
  pthread_mutex_lock(&b->lock);
  if (!access || b->len + len > sizeof b->data) flush_locked(b);
  if (access) {
    memcpy(b->data + b->len, line, len); /* len < FD_LOG_LINE_MAX == BUF_BYTES */
    b->len += len;
  } else {
    write_stderr(line, len);
  }
  pthread_mutex_unlock(&b->lock);
}

void fd_log(enum fd_log_level level, const char *fmt, ...) {
  if (!fd_log_enabled(level)) return;
  va_list ap;
  va_start(ap, fmt);
  emit(level, false, fmt, ap);
  va_end(ap);
}

void fd_log_access(const char *fmt, ...) {
  if (!fd_log_enabled(FD_LOG_INFO)) return;
  va_list ap;
  va_start(ap, fmt);
  emit(FD_LOG_INFO, true, fmt, ap);
  va_end(ap);
}
