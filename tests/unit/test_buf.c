/* test_buf.c — growable buffer and PostgreSQL array literals (the writer's SQL input). */
#include <stdlib.h>

#include "unit.h"
#include "util/buf.h"

static void test_append(void) {
  struct fd_buf b = {0};
  fd_buf_puts(&b, "ab");
  fd_buf_printf(&b, "%d-%s", 42, "x");
  CHECK_STR(b.data, "ab42-x");
  CHECK(b.len == 6);
  for (int i = 0; i < 10000; i++) fd_buf_append(&b, "y", 1);
  CHECK(b.len == 10006 && !b.oom && b.data[b.len] == '\0');
  fd_buf_reset(&b);
  CHECK(b.len == 0 && b.data[0] == '\0');
  fd_buf_release(&b);
  CHECK(b.data == NULL && b.len == 0);
}

static void test_pgarray(void) {
  struct fd_buf b = {0};
  fd_pgarray_begin(&b);
  fd_pgarray_text(&b, "plain");
  fd_pgarray_text(&b, NULL);
  fd_pgarray_text(&b, "quote\" back\\slash, comma {brace}");
  fd_pgarray_text(&b, "");
  fd_pgarray_raw(&b, "12");
  fd_pgarray_raw(&b, NULL);
  fd_pgarray_textn(&b, "NULL", 4);
  fd_pgarray_end(&b);
  /* written out by hand from PostgreSQL's array input syntax */
  CHECK_STR(b.data, "{\"plain\",NULL,\"quote\\\" back\\\\slash, comma {brace}\",\"\",12,NULL,\"NULL\"}");
  fd_buf_release(&b);
  fd_pgarray_begin(&b);
  fd_pgarray_end(&b);
  CHECK_STR(b.data, "{}");
  fd_buf_release(&b);
}

int main(void) {
  RUN(test_append);
  RUN(test_pgarray);
  return unit_report();
}
