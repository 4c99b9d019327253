/* buf.h — a growable byte buffer (always NUL-terminated) for building SQL array literals,
 * NDJSON chunks and similar. A failed allocation sets `oom` and later appends do nothing,
 * so callers check once at the end. */
#ifndef FD_UTIL_BUF_H
#define FD_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct fd_buf {
  char *data;
  size_t len, cap;
  bool oom;
};

void fd_buf_append(struct fd_buf *b, const void *data, size_t len);
void fd_buf_puts(struct fd_buf *b, const char *s);
void fd_buf_printf(struct fd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fd_buf_reset(struct fd_buf *b);   /* len = 0, keeps the memory */
void fd_buf_release(struct fd_buf *b); /* frees the memory; b is empty again */

/* PostgreSQL array literals: fd_pgarray_begin, then one fd_pgarray_* per element, then
 * fd_pgarray_end. Strings are quoted and escaped; NULL pointers become NULL. */
void fd_pgarray_begin(struct fd_buf *b);
void fd_pgarray_text(struct fd_buf *b, const char *s);
void fd_pgarray_textn(struct fd_buf *b, const char *s, size_t len);
void fd_pgarray_raw(struct fd_buf *b, const char *unquoted); /* numbers; NULL -> NULL */
void fd_pgarray_end(struct fd_buf *b);

#endif
