/* test_copy_binary.c — PostgreSQL's binary COPY format as db/copy_binary.h writes it.
 *
 * Expected bytes are written out by hand from PostgreSQL's manual ("COPY", Binary Format: the
 * 11-byte signature, 32-bit flags and header extension length, a 16-bit field count per
 * tuple, a 32-bit length per field with -1 for NULL, the trailer -1) and from the types'
 * send functions (network byte order; float8 as IEEE 754 bits; timestamptz as microseconds
 * since 2000-01-01 UTC; jsonb as version byte 1 and the text; arrays as dimensions, a
 * has-NULLs flag, the element type's OID, per dimension its length and lower bound, then the
 * elements as fields). The integration test test_ingest_copy.py checks what the server stores. */
#include "db/copy_binary.h"
#include "unit.h"

static int same(const struct fd_buf *b, const void *want, size_t n) {
  return !b->oom && b->len == n && memcmp(b->data, want, n) == 0;
}

static void test_header_row_and_trailer(void) {
  struct fd_buf b = {0};
  fd_copy_begin(&b);
  fd_copy_row(&b, 2);
  fd_copy_null(&b);
  fd_copy_text(&b, NULL);
  fd_copy_end(&b);
  static const unsigned char want[] = {'P',  'G',  'C',  'O',  'P',  'Y',  '\n', 0xFF, '\r', '\n', 0, /* signature */
                                       0,    0,    0,    0,    0,    0,    0,    0,    /* flags, extension */
                                       0,    2,                                        /* fields */
                                       0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, /* two NULLs */
                                       0xFF, 0xFF};                                    /* trailer */
  CHECK(same(&b, want, sizeof want));
  fd_buf_release(&b);
}

static void test_numbers(void) {
  struct fd_buf b = {0};
  fd_copy_int4(&b, -2);
  fd_copy_int8(&b, 0x0102030405060708LL);
  fd_copy_float8(&b, 1.5); /* 0x3FF8000000000000 */
  static const unsigned char want[] = {0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFE, 0,    0,    0, 8, 1, 2, 3, 4,
                                       5, 6, 7, 8, 0,    0,    0,    8,    0x3F, 0xF8, 0, 0, 0, 0, 0, 0};
  CHECK(same(&b, want, sizeof want));
  fd_buf_release(&b);
}

static void test_timestamptz_counts_from_2000(void) {
  struct fd_buf b = {0};
  fd_copy_timestamptz(&b, 946684800LL * 1000000 + 1); /* 2000-01-01T00:00:00.000001Z */
  fd_copy_timestamptz(&b, 0);                         /* 1970-01-01: 10957 days earlier */
  /* -946684800000000 = 0xFFFCA2FEC4C82000 */
  static const unsigned char want[] = {0, 0, 0, 8, 0,    0,    0,    0,    0,    0,    0,    1,
                                       0, 0, 0, 8, 0xFF, 0xFC, 0xA2, 0xFE, 0xC4, 0xC8, 0x20, 0x00};
  CHECK(same(&b, want, sizeof want));
  fd_buf_release(&b);
}

static void test_text_bytea_and_jsonb(void) {
  struct fd_buf b = {0};
  fd_copy_text(&b, "h\xC3\xA9");
  fd_copy_bytea(&b, (const unsigned char *)"\0\1", 2);
  fd_copy_jsonb(&b, "{}");
  fd_copy_jsonb(&b, NULL);
  static const unsigned char want[] = {0, 0, 0, 3, 'h', 0xC3, 0xA9, 0,   0,    0,    2,    0,
                                       1, 0, 0, 0, 3,   1,    '{',  '}', 0xFF, 0xFF, 0xFF, 0xFF};
  CHECK(same(&b, want, sizeof want));
  fd_buf_release(&b);
}

static void test_text_arrays(void) {
  struct fd_buf b = {0};
  const char *items[] = {"a", "bc"};
  fd_copy_text_array(&b, items, 2);
  fd_copy_text_array(&b, NULL, 0);
  static const unsigned char want[] = {0, 0, 0, 31, /* field length: 12 + 8 + (4 + 1) + (4 + 2) */
                                       0, 0, 0, 1,  0,   0, 0, 0, 0, 0,   0,   25, /* one dimension, no NULLs, text */
                                       0, 0, 0, 2,  0,   0, 0, 1,                  /* 2 elements from index 1 */
                                       0, 0, 0, 1,  'a', 0, 0, 0, 2, 'b', 'c',     /* the elements */
                                       0, 0, 0, 12, 0,   0, 0, 0, 0, 0,   0,   0,
                                       0, 0, 0, 25}; /* '{}': no dimension */
  CHECK(same(&b, want, sizeof want));
  fd_buf_release(&b);
}

int main(void) {
  RUN(test_header_row_and_trailer);
  RUN(test_numbers);
  RUN(test_timestamptz_counts_from_2000);
  RUN(test_text_bytea_and_jsonb);
  RUN(test_text_arrays);
  return unit_report();
}
