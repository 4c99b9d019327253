/* spill.c — the anonymous temporary file of spill.h. */
#include "util/spill.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPILL_BUFFER (256 * 1024)

struct fd_spill {
  FILE *f;
  char *buffer;
  size_t size;
  bool reading;
};

/* A file in dir that has no name: O_TMPFILE where the file system has it, else mkstemp and
 * unlink at once. -1 on failure. */
static int anonymous_file(const char *dir) {
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  char path[4096];
  if (snprintf(path, sizeof path, "%s/feedbackd-spill-XXXXXX", dir) >= (int)sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  fd = mkostemp(path, O_CLOEXEC);
  if (fd >= 0) unlink(path);
  return fd;
}

struct fd_spill *fd_spill_new(void) {
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir) dir = "/tmp";
  struct fd_spill *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  int fd = anonymous_file(dir);
  if (fd >= 0 && !(s->f = fdopen(fd, "w+"))) close(fd);
  s->buffer = malloc(SPILL_BUFFER);
  if (!s->f || !s->buffer || setvbuf(s->f, s->buffer, _IOFBF, SPILL_BUFFER) != 0) {
    int e = errno;
    fd_spill_free(s);
    errno = e;
    return NULL;
  }
  return s;
}

bool fd_spill_write(struct fd_spill *s, const void *data, size_t n) {
  if (s->reading) return false;
  if (n && fwrite(data, 1, n, s->f) != n) return false;
  s->size += n;
  return true;
}

bool fd_spill_rewind(struct fd_spill *s) {
  if (fflush(s->f) != 0 || fseek(s->f, 0, SEEK_SET) != 0) return false;
  s->reading = true;
  return true;
}

int fd_spill_read(struct fd_spill *s, void *data, size_t n) {
  if (!s->reading) return -1;
  if (n == 0) return 1;
  size_t got = fread(data, 1, n, s->f);
  if (got == n) return 1;
  return got == 0 && feof(s->f) ? 0 : -1;
}

size_t fd_spill_size(const struct fd_spill *s) { return s->size; }

void fd_spill_free(struct fd_spill *s) {
  if (!s) return;
  if (s->f) fclose(s->f);
  free(s->buffer);
  free(s);
}
