/* copy_binary.c — PostgreSQL's binary COPY format (see copy_binary.h): every integer in
 * network byte order, each field a 32-bit length (-1 for NULL) and its bytes. */
#include "db/copy_binary.h"

#include <string.h>

/* OID of text, the element type a text[] names in its binary form */
#define TEXT_OID 25
/* 2000-01-01 00:00:00 UTC, PostgreSQL's epoch, in seconds since the Unix epoch */
#define PG_EPOCH_UNIX_S 946684800LL

static void be16(struct fd_buf *b, uint16_t v) {
  unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
  fd_buf_append(b, x, sizeof x);
}

static void be32(struct fd_buf *b, uint32_t v) {
  unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
  fd_buf_append(b, x, sizeof x);
}

static void be64(struct fd_buf *b, uint64_t v) {
  be32(b, (uint32_t)(v >> 32));
  be32(b, (uint32_t)v);
}

void fd_copy_begin(struct fd_buf *b) {
  fd_buf_append(b, "PGCOPY\n\377\r\n\0", 11);
  be32(b, 0); /* flags: no OIDs */
  be32(b, 0); /* header extension length */
}

void fd_copy_row(struct fd_buf *b, int fields) { be16(b, (uint16_t)fields); }

void fd_copy_end(struct fd_buf *b) { be16(b, 0xFFFF); }

void fd_copy_null(struct fd_buf *b) { be32(b, 0xFFFFFFFFu); }

void fd_copy_textn(struct fd_buf *b, const char *s, size_t len) {
  be32(b, (uint32_t)len);
  fd_buf_append(b, s, len);
}

void fd_copy_text(struct fd_buf *b, const char *s) {
  if (!s) {
    fd_copy_null(b);
    return;
  }
  fd_copy_textn(b, s, strlen(s));
}

void fd_copy_int4(struct fd_buf *b, int32_t v) {
  be32(b, 4);
  be32(b, (uint32_t)v);
}

void fd_copy_int8(struct fd_buf *b, int64_t v) {
  be32(b, 8);
  be64(b, (uint64_t)v);
}

void fd_copy_float8(struct fd_buf *b, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  be32(b, 8);
  be64(b, bits);
}

void fd_copy_bytea(struct fd_buf *b, const unsigned char *p, size_t len) { fd_copy_textn(b, (const char *)p, len); }

void fd_copy_timestamptz(struct fd_buf *b, int64_t unix_us) { fd_copy_int8(b, unix_us - PG_EPOCH_UNIX_S * 1000000); }

void fd_copy_jsonb(struct fd_buf *b, const char *json) {
  if (!json) {
    fd_copy_null(b);
    return;
  }
  size_t len = strlen(json);
  be32(b, (uint32_t)(len + 1));
  fd_buf_append(b, "\1", 1); /* jsonb's binary format version */
  fd_buf_append(b, json, len);
}

void fd_copy_text_array(struct fd_buf *b, const char *const *items, size_t n) {
  size_t len = 12 + (n ? 8 : 0);
  for (size_t i = 0; i < n; i++) len += 4 + strlen(items[i]);
  be32(b, (uint32_t)len);
  be32(b, n ? 1 : 0); /* dimensions */
  be32(b, 0);         /* no NULL elements */
  be32(b, TEXT_OID);
  if (n) {
    be32(b, (uint32_t)n); /* length of the dimension */
    be32(b, 1);           /* its lower bound */
  }
  for (size_t i = 0; i < n; i++) fd_copy_text(b, items[i]);
}
