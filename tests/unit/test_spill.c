/* test_spill.c — the export's temporary file (util/spill.h): what is written comes back in
 * order, the end and a cut record are told apart, and nothing is left in $TMPDIR. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util/spill.h"

static int entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

static void test_round_trip(void) {
  char dir[] = "/tmp/fd-spill-test-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  setenv("TMPDIR", dir, 1);
  struct fd_spill *s = fd_spill_new();
  CHECK(s != NULL);
  CHECK(entries(dir) == 0); /* no name in the directory */
  char big[100000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
  for (int i = 0; i < 40; i++) { /* 4 MB: many times the buffer */
    CHECK(fd_spill_write(s, "rec", 3));
    CHECK(fd_spill_write(s, big, sizeof big));
  }
  CHECK(fd_spill_write(s, "tail", 4));
  CHECK(fd_spill_size(s) == 40 * (3 + sizeof big) + 4);
  CHECK(fd_spill_rewind(s));
  CHECK(!fd_spill_write(s, "x", 1)); /* reading now */
  char got[sizeof big];
  for (int i = 0; i < 40; i++) {
    char head[3];
    CHECK(fd_spill_read(s, head, 3) == 1 && memcmp(head, "rec", 3) == 0);
    CHECK(fd_spill_read(s, got, sizeof got) == 1 && memcmp(got, big, sizeof big) == 0);
  }
  char tail[8];
  CHECK(fd_spill_read(s, tail, 8) == -1); /* 4 bytes where 8 were asked: a cut record */
  CHECK(fd_spill_read(s, tail, 1) == 0);  /* the end */
  fd_spill_free(s);

  s = fd_spill_new(); /* an empty file ends at once */
  CHECK(s && fd_spill_rewind(s) && fd_spill_read(s, tail, 1) == 0);
  fd_spill_free(s);
  fd_spill_free(NULL);
  CHECK(entries(dir) == 0);
  rmdir(dir);

  setenv("TMPDIR", "/nonexistent/fd-spill-test", 1); /* no such directory: NULL, not a crash */
  CHECK(fd_spill_new() == NULL);
  unsetenv("TMPDIR");
}

int main(void) {
  RUN(test_round_trip);
  return unit_report();
}
