/* test_log.c — access lines (fd_log_access) are batched but never lost or reordered:
 * they reach stderr on their own within the flush period, before the same thread's next
 * fd_log line, and when their thread exits; every line arrives whole, once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util/log.h"

static char path[] = "/tmp/fd-test-log-XXXXXX";

static char *read_all(void) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 20);
  size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  (void)n;
  fclose(f);
  return buf;
}

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; hay && (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

static void test_flushed_by_time(void) {
  fd_log_access("msg=request req=t1 status=201");
  /* nothing else is logged: the flusher writes it within 100 ms */
  char *text = NULL;
  for (int i = 0; i < 40; i++) {
    usleep(50000);
    free(text);
    text = read_all();
    if (count(text, "req=t1 ") == 1) break;
  }
  CHECK(count(text, "msg=request req=t1 status=201\n") == 1);
  CHECK(text && strstr(text, "level=info msg=request req=t1") != NULL);
  free(text);
}

static void test_order_with_fd_log(void) {
  fd_log_access("msg=request req=o1");
  fd_log_access("msg=request req=o2");
  fd_log(FD_LOG_WARN, "msg=after");
  char *text = read_all(); /* at once: fd_log wrote the buffered lines first */
  char *a = text ? strstr(text, "req=o1") : NULL, *b = text ? strstr(text, "req=o2") : NULL,
       *c = text ? strstr(text, "msg=after") : NULL;
  CHECK(a && b && c && a < b && b < c);
  free(text);
}

static void *many(void *arg) {
  int t = *(int *)arg;
  for (int i = 0; i < 500; i++) fd_log_access("msg=request req=m%d-%d pad=%0100d", t, i, 0);
  return NULL;
}

static void test_threads_whole_lines(void) {
  pthread_t th[4];
  int ids[4] = {0, 1, 2, 3};
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&th[i], NULL, many, &ids[i]) == 0);
  for (int i = 0; i < 4; i++) CHECK(pthread_join(th[i], NULL) == 0);
  /* the threads have exited: their last lines were written at exit, without waiting */
  char *text = read_all();
  int whole = 0;
  for (int t = 0; t < 4; t++)
    for (int i = 0; i < 500; i++) {
      char want[64];
      snprintf(want, sizeof want, "req=m%d-%d pad=", t, i);
      whole += count(text, want) == 1;
    }
  CHECK(whole == 2000);
  /* every line is whole: each one with req=m starts with its timestamp and ends with the
   * 100-digit pad (the test's own RUN lines share the file) */
  int intact = 0, seen = 0;
  for (char *line = text, *end; line && *line; line = end + 1) {
    if (!(end = strchr(line, '\n'))) break;
    *end = '\0';
    if (!strstr(line, "req=m")) continue;
    seen++;
    size_t len = strlen(line);
    intact +=
        strncmp(line, "ts=", 3) == 0 && len > 100 && strspn(line + len - 100, "0") == 100 && line[len - 101] == '=';
  }
  CHECK(seen == 2000 && intact == 2000);
  free(text);
}

int main(void) {
  int fd = mkstemp(path);
  if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) return 2;
  close(fd);
  fd_log_set_level(FD_LOG_INFO);
  RUN(test_flushed_by_time);
  RUN(test_order_with_fd_log);
  RUN(test_threads_whole_lines);
  if (!unit_failures)
    unlink(path);
  else
    printf("log kept: %s\n", path);
  /* results on stdout: stderr is the file under test */
  printf("%d checks, %d failed\n", unit_checks, unit_failures);
  return unit_failures ? 1 : 0;
}
