/* log.h — structured (logfmt) logging to stderr: `ts=... level=info msg="..." k=v ...`.
 * Lines are always written whole (never interleaved with other threads' lines). */
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

/* The per-request access line (level info). Unlike fd_log it is not written at once:
 * each thread gathers these lines and writes them in blocks of whole lines, within
 * 100 ms, before that thread's next fd_log line, at thread exit and at exit(). */
void fd_log_access(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Internal errors (bugs, unexpected database failures) carry their source location.
 * The first argument is the format string literal; the location is pasted in front of it
 * (ISO C: no GNU ", ##__VA_ARGS__"). */
#define FD_LOG_STR_(x) #x
#define FD_LOG_STR(x) FD_LOG_STR_(x)
#define fd_log_bug(...) fd_log(FD_LOG_ERROR, "src=" __FILE__ ":" FD_LOG_STR(__LINE__) " " __VA_ARGS__)

#endif
