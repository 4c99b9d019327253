/* log.h — structured (logfmt) logging to stderr: `ts=... level=info msg="..." k=v ...`.
 * One line per call, written with a single write(2) so lines from threads never interleave. */
#ifndef FD_UTIL_LOG_H
#define FD_UTIL_LOG_H

enum fd_log_level { FD_LOG_DEBUG, FD_LOG_INFO, FD_LOG_WARN, FD_LOG_ERROR };

/* Parse "debug|info|warn|error"; false if unknown. */
#include <stdbool.h>
bool fd_log_parse_level(const char *name, enum fd_log_level *out);
void fd_log_set_level(enum fd_log_level level);
bool fd_log_enabled(enum fd_log_level level);

/* `fmt` produces the rest of the line after ts/level: callers write `msg="..." k=v`. */
void fd_log(enum fd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Internal errors (bugs, unexpected database failures) carry their source location. */
#define fd_log_bug(fmt, ...) \
  fd_log(FD_LOG_ERROR, "src=%s:%d " fmt, __FILE__, __LINE__, ##__VA_ARGS__)

#endif
