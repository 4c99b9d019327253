/* detect_bench.c — quality and speed of the feedback detector (server/ingest/detect.h) on
 * the labelled set: for each TSV given (lang, expected class, user turn), precision and
 * recall per class over all languages and per language, then the time per turn.
 *
 *   detect_bench [-v] FILE.tsv...      (-v lists every wrong answer)
 *
 * Precision of a class = turns labelled it by the detector and by the set / turns the
 * detector labelled it; recall = the same / turns the set labels it ("none" is scored too:
 * it is the class of the hard negatives). Run by bench/detect/run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/detect.h"

#define MAX_TURNS 4096
#define NLANG 5
#define NCLASS 4

static const char *const langs[NLANG] = {"en", "de", "fr", "es", "pt"};

struct turn {
  int lang;
  enum fd_detect_class want;
  char *text;
};

static int lang_index(const char *s) {
  for (int i = 0; i < NLANG; i++)
    if (!strcmp(langs[i], s)) return i;
  return -1;
}

static int class_index(const char *s) {
  for (int c = 0; c < NCLASS; c++)
    if (!strcmp(fd_detect_class_name((enum fd_detect_class)c), s)) return c;
  return -1;
}

/* Reads one TSV (comments '#'); exits on a malformed line: a typo in the set must not
 * silently shrink it. */
static size_t load(const char *path, struct turn *out, size_t cap) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    exit(2);
  }
  char line[4096];
  size_t n = 0, lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || line[0] == '#') continue;
    char *lang = line, *cls = strchr(lang, '\t'), *text = cls ? strchr(cls + 1, '\t') : NULL;
    if (!text) {
      fprintf(stderr, "%s:%zu: want lang<TAB>class<TAB>text\n", path, lineno);
      exit(2);
    }
    *cls++ = '\0', *text++ = '\0';
    int li = lang_index(lang), ci = class_index(cls);
    if (li < 0 || ci < 0 || n == cap) {
      fprintf(stderr, "%s:%zu: unknown language or class, or too many lines\n", path, lineno);
      exit(2);
    }
    out[n].lang = li, out[n].want = (enum fd_detect_class)ci, out[n].text = strdup(text);
    if (!out[n].text) exit(2);
    n++;
  }
  fclose(f);
  return n;
}

static void ratio(char *buf, size_t size, int num, int den) {
  if (den)
    snprintf(buf, size, "%.2f (%d/%d)", (double)num / den, num, den);
  else
    snprintf(buf, size, "-");
}

/* tp/got/want per class for the turns of language `lang` (-1: all). */
static void score_row(const char *label, const struct turn *t, const enum fd_detect_class *got, size_t n, int lang) {
  int tp[NCLASS] = {0}, ngot[NCLASS] = {0}, nwant[NCLASS] = {0};
  for (size_t i = 0; i < n; i++) {
    if (lang >= 0 && t[i].lang != lang) continue;
    ngot[got[i]]++, nwant[t[i].want]++;
    if (got[i] == t[i].want) tp[got[i]]++;
  }
  printf("  %-4s", label);
  for (int c = 1; c < NCLASS; c++) {
    char p[32], r[32];
    ratio(p, sizeof p, tp[c], ngot[c]);
    ratio(r, sizeof r, tp[c], nwant[c]);
    printf(" | %-16s %-16s", p, r);
  }
  char p[32], r[32];
  ratio(p, sizeof p, tp[0], ngot[0]);
  ratio(r, sizeof r, tp[0], nwant[0]);
  printf(" | %-16s %-16s\n", p, r);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  bool verbose = argc > 1 && !strcmp(argv[1], "-v");
  int first = verbose ? 2 : 1;
  if (argc <= first) {
    fprintf(stderr, "usage: detect_bench [-v] FILE.tsv...\n");
    return 2;
  }
  char err[256];
  struct fd_detector *d = fd_detector_new(NULL, err, sizeof err);
  if (!d) {
    fprintf(stderr, "detect_bench: %s\n", err);
    return 1;
  }
  static struct turn all[MAX_TURNS];
  static enum fd_detect_class got[MAX_TURNS];
  size_t total = 0;
  for (int a = first; a < argc; a++) {
    struct turn *t = all + total;
    size_t n = load(argv[a], t, MAX_TURNS - total);
    for (size_t i = 0; i < n; i++) {
      struct fd_detect_match m;
      got[total + i] = fd_detect(d, t[i].text, strlen(t[i].text), &m);
      if (verbose && got[total + i] != t[i].want)
        printf("  MISS %s want %-10s got %-10s %-28s | %s\n", langs[t[i].lang], fd_detect_class_name(t[i].want),
               fd_detect_class_name(got[total + i]), got[total + i] ? m.rule : "", t[i].text);
    }
    printf("%s: %zu turns\n  %-4s | %-33s | %-33s | %-33s | %s\n", argv[a], n, "", "praise  P / R", "complaint  P / R",
           "correction  P / R", "none  P / R");
    score_row("all", t, got + total, n, -1);
    for (int l = 0; l < NLANG; l++) score_row(langs[l], t, got + total, n, l);
    total += n;
  }

  /* time per turn: every turn of every file, many rounds, the detector's own work only */
  size_t bytes = 0;
  for (size_t i = 0; i < total; i++) bytes += strlen(all[i].text);
  volatile int sink = 0;
  int rounds = 0;
  double t0 = now_ns(), t1;
  do {
    for (size_t i = 0; i < total; i++) sink += (int)fd_detect(d, all[i].text, strlen(all[i].text), NULL);
    rounds++;
    t1 = now_ns();
  } while (t1 - t0 < 1e9);
  printf("time: %.2f us per turn (mean of %d rounds over %zu turns, %.0f bytes per turn on average)\n",
         (t1 - t0) / 1e3 / ((double)rounds * (double)total), rounds, total, (double)bytes / (double)total);
  (void)sink;
  fd_detector_free(d);
  for (size_t i = 0; i < total; i++) free(all[i].text);
  return 0;
}
