/* ratio_bench.c — the CPU of one edit ratio (server/ingest/edit_ratio.h) at the largest sizes
 * a request may send (256 KiB a side), for the shapes that reach each level of the
 * computation: a short edit of a long original (the hostile benchmark's attack), long
 * originals and edits with local, scattered, both-end and inserted changes, a rewrite,
 * repetitive text (the fixed-group fallback), multi-byte text, and the largest exact table.
 * Prints per case the thread CPU per ratio (best and median of REPS), the counted work and
 * the ratio; the last line is the worst median. docs/edit-ratio.md "Cost bound".
 *
 *   ratio_bench [REPS]       (default 9; build: ninja -C build-release bench/editratio/ratio_bench) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/edit_ratio.h"

#define MAX (256 * 1024)

static uint32_t seed = 12345;
static unsigned rnd(void) {
  seed = seed * 1103515245u + 12345u;
  return seed >> 16;
}

/* ASCII words of 1-12 letters separated by spaces, n bytes */
static char *words_text(size_t n, char first) {
  char *s = malloc(n + 1);
  for (size_t i = 0; i < n; i++) s[i] = rnd() % 7 == 0 ? ' ' : (char)(first + rnd() % 26);
  s[n] = '\0';
  return s;
}

static double thread_cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double worst;

static void run(const char *name, const char *a, size_t alen, const char *b, size_t blen, int reps) {
  double t[64], r = -1;
  struct fd_edit_ratio_work w = {0, 0};
  for (int i = 0; i < reps; i++) {
    double t0 = thread_cpu();
    if (!fd_edit_ratio_budget(a, alen, b, blen, FD_EDIT_RATIO_BUDGET, &r, &w)) {
      fprintf(stderr, "%s: out of memory\n", name);
      exit(1);
    }
    t[i] = thread_cpu() - t0;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  double med = t[reps / 2];
  if (med > worst) worst = med;
  printf("%-44s %7zu x %7zu  best %7.2f ms  median %7.2f ms  work %9.3g  ratio %.5f (>= %.5f)\n", name, alen, blen,
         t[0] * 1e3, med * 1e3, (double)w.ops, r, w.lower);
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 9;
  if (reps < 1 || reps > 64) reps = 9;
  char *a = words_text(MAX, 'a'), *b = malloc(MAX + 64), *c = words_text(MAX, 'A');
  run("short edit of a long original (attack)", a, MAX, "short 12 345", 12, reps);
  run("19 characters (largest exact table)", a, MAX, "nineteen characters", 19, reps);
  run("2236 a side, rewritten (exact table)", a, 2236, c, 2236, reps);
  run("4 KiB a side, rewritten", a, 4096, c, 4096, reps);
  run("long vs 8 KiB", a, MAX, c, 8192, reps);
  memcpy(b, a, MAX + 1);
  memcpy(b + MAX / 2, "EDITED", 6);
  run("long, 6 characters replaced in the middle", a, MAX, b, MAX, reps);
  memcpy(b, a, MAX + 1);
  b[0] = b[MAX - 1] = 'Z';
  run("long, first and last replaced", a, MAX, b, MAX, reps);
  memcpy(b, a, MAX + 1);
  for (size_t i = 50; i < MAX; i += 100) b[i] = b[i] == ' ' ? 'q' : ' ';
  run("long, every 100th character changed", a, MAX, b, MAX, reps);
  size_t k = 0;
  for (size_t i = 0; i < MAX - 200; i++) {
    if (i % 26000 == 13000) {
      memcpy(b + k, " inserted words here", 20);
      k += 20;
    }
    b[k++] = a[i];
  }
  run("long, 10 insertions of 20 characters", a, MAX, b, k, reps);
  run("long, rewritten", a, MAX, c, MAX, reps);
  run("long vs half of it", a, MAX, c, MAX / 2, reps);
  for (size_t i = 0; i < MAX; i++) b[i] = "ab "[i % 3];
  run("repetitive (fixed groups) vs rewritten", b, MAX, c, MAX, reps);
  char *u = malloc(MAX + 1); /* 87381 three-byte characters */
  for (size_t i = 0; i + 3 <= MAX; i += 3) memcpy(u + i, rnd() % 5 ? "\xe4\xb8\xad" : "\xe6\x96\x87", 3);
  run("CJK 256 KiB vs rewritten ASCII", u, MAX / 3 * 3, c, MAX, reps);
  printf("worst median: %.2f ms\n", worst * 1e3);
  free(a);
  free(b);
  free(c);
  free(u);
  return 0;
}
