/* copy_binary.h — rows in PostgreSQL's binary COPY format (COPY ... FROM STDIN (FORMAT
 * binary)), built into an fd_buf: the header, then per row fd_copy_row and one field call
 * per column in the COPY's column order, then fd_copy_end. Each value is sent in its type's
 * binary form, so the server converts nothing from text (docs/architecture.md "The writer's
 * COPY"). An allocation failure sets the buffer's oom like every fd_buf append. */
#ifndef FD_DB_COPY_BINARY_H
#define FD_DB_COPY_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

void fd_copy_begin(struct fd_buf *b); /* the signature, flags and header extension */
void fd_copy_row(struct fd_buf *b, int fields);
void fd_copy_end(struct fd_buf *b); /* the trailer */

void fd_copy_null(struct fd_buf *b);
void fd_copy_text(struct fd_buf *b, const char *s); /* NULL pointer: SQL NULL */
void fd_copy_textn(struct fd_buf *b, const char *s, size_t len);
void fd_copy_int4(struct fd_buf *b, int32_t v);
void fd_copy_int8(struct fd_buf *b, int64_t v);
void fd_copy_float8(struct fd_buf *b, double v);
void fd_copy_bytea(struct fd_buf *b, const unsigned char *p, size_t len);
/* timestamptz from microseconds since the Unix epoch */
void fd_copy_timestamptz(struct fd_buf *b, int64_t unix_us);
/* jsonb from JSON text (NULL pointer: SQL NULL); the server parses and checks it */
void fd_copy_jsonb(struct fd_buf *b, const char *json);
/* text[] of n strings (none NULL), one dimension; n = 0 is the empty array '{}' */
void fd_copy_text_array(struct fd_buf *b, const char *const *items, size_t n);

#endif
