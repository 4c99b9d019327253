/* buf.c — growable buffer and PostgreSQL array literals (see buf.h). */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct fd_buf *b, size_t extra) {
  if (b->oom) return false;
  if (b->len + extra + 1 <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1) cap *= 2;
  char *d = realloc(b->data, cap);
  if (!d) {
    b->oom = true;
    return false;
  }
  b->data = d;
  b->cap = cap;
  return true;
}

void fd_buf_append(struct fd_buf *b, const void *data, size_t len) {
  if (!reserve(b, len)) return;
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void fd_buf_puts(struct fd_buf *b, const char *s) { fd_buf_append(b, s, strlen(s)); }

void fd_buf_printf(struct fd_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void fd_buf_reset(struct fd_buf *b) {
  b->len = 0;
  b->oom = false;
  if (b->data) b->data[0] = '\0';
}

void fd_buf_release(struct fd_buf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

void fd_pgarray_begin(struct fd_buf *b) { fd_buf_append(b, "{", 1); }

static void sep(struct fd_buf *b) {
  if (b->len && b->data[b->len - 1] != '{') fd_buf_append(b, ",", 1);
}

void fd_pgarray_textn(struct fd_buf *b, const char *s, size_t len) {
  sep(b);
  if (!s) {
    fd_buf_append(b, "NULL", 4);
    return;
  }
  if (!reserve(b, 2 * len + 2)) return;
  char *o = b->data + b->len;
  *o++ = '"';
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '"' || s[i] == '\\') *o++ = '\\';
    *o++ = s[i];
  }
  *o++ = '"';
  b->len = (size_t)(o - b->data);
  b->data[b->len] = '\0';
}

void fd_pgarray_text(struct fd_buf *b, const char *s) { fd_pgarray_textn(b, s, s ? strlen(s) : 0); }

void fd_pgarray_raw(struct fd_buf *b, const char *unquoted) {
  sep(b);
  fd_buf_puts(b, unquoted ? unquoted : "NULL");
}

void fd_pgarray_end(struct fd_buf *b) { fd_buf_append(b, "}", 1); }
