/* log.c — logfmt lines on stderr with an RFC 3339 UTC timestamp. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
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

void fd_log(enum fd_log_level level, const char *fmt, ...) {
  if (!fd_log_enabled(level)) return;
  char line[4096];
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
  int n = snprintf(line, sizeof line, "ts=%s.%03ldZ level=%s ", stamp, (long)(tv.tv_usec / 1000), level_names[level]);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2) len = sizeof line - 2;
  line[len++] = '\n';
  /* a single write keeps concurrent lines whole; a failed log write has nowhere to go */
  ssize_t ignored = write(STDERR_FILENO, line, len);
  (void)ignored;
}
