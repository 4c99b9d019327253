/* test_validate_common.c — the shared pieces of ingestion validation: the docs/api.md default
 * limits, UTF-8 checking, JSON paths, and the bounded edit ratio (exact values worked out
 * by hand; large inputs checked for bounded time and sane results). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/limits.h"
#include "ingest/edit_ratio.h"
#include "ingest/validate_common.h"
#include "unit.h"

static bool near(double a, double b) { return a > b - 1e-12 && a < b + 1e-12; }

static double ratio(const char *a, const char *b) {
  double r = -1;
  if (!fd_edit_ratio(a, strlen(a), b, strlen(b), &r)) return -2;
  return r;
}

static void test_default_limits(void) {
  struct fd_limits l = fd_limits_default();
  CHECK(l.body_max_bytes == 1048576);
  CHECK(l.batch_max_items == 1000);
  CHECK(l.content_max_bytes == 262144);
  CHECK(l.edited_content_max_bytes == 262144);
  CHECK(l.comment_max_bytes == 262144);
  CHECK(l.id_min_bytes == 1 && l.id_max_bytes == 128);
  CHECK(l.tags_max_items == 32 && l.tag_min_bytes == 1 && l.tag_max_bytes == 64);
  CHECK(l.user_max_bytes == 128 && l.model_max_bytes == 128);
  CHECK(l.metadata_max_bytes == 16384 && l.metadata_max_depth == 16);
}

static void test_utf8(void) {
  CHECK(fd_utf8_valid("", 0));
  CHECK(fd_utf8_valid("plain", 5));
  CHECK(fd_utf8_valid("caf\xc3\xa9", 5));
  CHECK(fd_utf8_valid("\xe2\x82\xac", 3));
  CHECK(fd_utf8_valid("\xf0\x9f\x98\x80", 4));
  CHECK(fd_utf8_valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
  CHECK(fd_utf8_valid("\xed\x9f\xbf", 3));     /* U+D7FF */
  CHECK(!fd_utf8_valid("\xff", 1));
  CHECK(!fd_utf8_valid("\x80", 1)); /* lone continuation */
  CHECK(!fd_utf8_valid("\xc3", 1)); /* truncated */
  CHECK(!fd_utf8_valid("\xe2\x82", 2));
  CHECK(!fd_utf8_valid("\xc0\xaf", 2)); /* overlong '/' */
  CHECK(!fd_utf8_valid("\xc1\xbf", 2));
  CHECK(!fd_utf8_valid("\xe0\x80\xaf", 3));     /* overlong 3-byte */
  CHECK(!fd_utf8_valid("\xf0\x80\x80\xaf", 4)); /* overlong 4-byte */
  CHECK(!fd_utf8_valid("\xed\xa0\x80", 3));     /* surrogate U+D800 */
  CHECK(!fd_utf8_valid("\xf4\x90\x80\x80", 4)); /* U+110000 */
  CHECK(!fd_utf8_valid("\xf5\x80\x80\x80", 4));
  CHECK(!fd_utf8_valid("a\xc3(", 3)); /* bad continuation */
}

static void test_paths(void) {
  char p[FD_PATH_MAX];
  fd_path_key(p, NULL, "tags");
  CHECK_STR(p, "tags");
  fd_path_key(p, "", "tags");
  CHECK_STR(p, "tags");
  fd_path_key(p, "events[7]", "tags");
  CHECK_STR(p, "events[7].tags");
  fd_path_index(p, "events[7].tags", 3);
  CHECK_STR(p, "events[7].tags[3]");
  fd_path_index(p, NULL, 12);
  CHECK_STR(p, "[12]");
  /* long keys are cut at a character boundary: 3-byte characters, 191 bytes available */
  char key[600] = "";
  for (int i = 0; i < 150; i++) strcat(key, "\xe2\x82\xac");
  fd_path_key(p, NULL, key);
  CHECK(strlen(p) == 189 && fd_utf8_valid(p, strlen(p)));
  fd_path_key(p, "events[1]", key); /* 10 ASCII bytes first: 10 + 3*60 = 190 */
  CHECK(strlen(p) == 190 && fd_utf8_valid(p, strlen(p)));
}

static void test_levenshtein(void) {
  uint32_t a[] = {'k', 'i', 't', 't', 'e', 'n'}, b[] = {'s', 'i', 't', 't', 'i', 'n', 'g'};
  CHECK(fd_levenshtein(a, 6, b, 7) == 3);
  CHECK(fd_levenshtein(b, 7, a, 6) == 3);
  CHECK(fd_levenshtein(a, 0, b, 7) == 7);
  CHECK(fd_levenshtein(a, 6, b, 0) == 6);
  CHECK(fd_levenshtein(a, 0, b, 0) == 0);
  uint32_t f[] = {'f', 'l', 'a', 'w'}, l[] = {'l', 'a', 'w', 'n'};
  CHECK(fd_levenshtein(f, 4, l, 4) == 2);
  uint32_t in[] = {'i', 'n', 't', 'e', 'n', 't', 'i', 'o', 'n'}, ex[] = {'e', 'x', 'e', 'c', 'u', 't', 'i', 'o', 'n'};
  CHECK(fd_levenshtein(in, 9, ex, 9) == 5);
}

static void test_edit_ratio_exact(void) {
  CHECK(near(ratio("", ""), 0.0));
  CHECK(near(ratio("same", "same"), 0.0));
  CHECK(near(ratio("", "abc"), 1.0));
  CHECK(near(ratio("abc", ""), 1.0));
  CHECK(near(ratio("kitten", "sitting"), 3.0 / 7));
  CHECK(near(ratio("Lyon.", "Paris."), 5.0 / 6));
  CHECK(near(ratio("abc", "xyz"), 1.0));
  /* code points, not bytes: é is one unit (bytes would give 2/5) */
  CHECK(near(ratio("caf\xc3\xa9", "cafe"), 1.0 / 4));
  CHECK(near(ratio("\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x81!"), 1.0 / 2));
  /* the common prefix/suffix stripping does not change the distance */
  CHECK(near(ratio("The capital is Lyon, of course.", "The capital is Paris, of course."), 5.0 / 32));
  /* invalid UTF-8 bytes count as one unit each and never match a character */
  double r = -1;
  CHECK(fd_edit_ratio("a\xff", 2, "a\xc3\xbf", 3, &r) && near(r, 1.0 / 2));
}

/* n words "w<i> " (i from start), with every `every`-th word replaced when every > 0. */
static char *words(size_t n, size_t start, size_t every, const char *replacement) {
  char *s = malloc(n * 16 + 1), *p = s;
  for (size_t i = 0; i < n; i++) {
    if (every && i % every == every - 1)
      p += sprintf(p, "%s ", replacement);
    else
      p += sprintf(p, "w%zu ", start + i);
  }
  *p = '\0';
  return s;
}

/* Textbook Levenshtein (two rows of the (n+1) x (m+1) table), written independently of the
 * code under test, on the bytes of ASCII strings (= code points). */
static size_t naive_distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  size_t *prev = malloc((m + 1) * sizeof *prev), *cur = malloc((m + 1) * sizeof *cur);
  for (size_t j = 0; j <= m; j++) prev[j] = j;
  for (size_t i = 1; i <= n; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= m; j++) {
      size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]), del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    size_t *t = prev;
    prev = cur;
    cur = t;
  }
  size_t d = prev[m];
  free(prev);
  free(cur);
  return d;
}

static double naive_ratio(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b), longest = n > m ? n : m;
  return longest ? (double)naive_distance(a, b) / (double)longest : 0.0;
}

/* The approximate levels bracket the true ratio: lower <= textbook <= reported <= 1. */
static double bracketed(const char *a, const char *b, uint64_t budget) {
  double r = -1;
  struct fd_edit_ratio_work w;
  CHECK(fd_edit_ratio_budget(a, strlen(a), b, strlen(b), budget, &r, &w));
  double exact = naive_ratio(a, b);
  CHECK(w.lower <= exact + 1e-12);
  CHECK(exact <= r + 1e-12);
  CHECK(r <= 1.0);
  return r;
}

/* Bytes of the words of a that differ from b's word at the same position (a and b from
 * words() with the same n): the cost of replacing exactly those words. */
static size_t replaced_bytes(const char *a, const char *b) {
  size_t sum = 0;
  while (*a) {
    size_t la = strcspn(a, " ") + 1, lb = strcspn(b, " ") + 1;
    if (la != lb || memcmp(a, b, la) != 0) sum += la > lb ? la : lb;
    a += la;
    b += lb;
  }
  return sum;
}

static void test_edit_ratio_levels(void) {
  double r = -1;
  char *a = words(200, 0, 0, NULL), *b = words(200, 0, 5, "X");
  /* exact on code points with the full budget */
  CHECK(fd_edit_ratio(a, strlen(a), b, strlen(b), &r) && near(r, naive_ratio(a, b)));
  /* level 2 (words): 40 of 200 words replaced, budget too small for code points but
   * enough for the words' middle (196 x 196): each replaced word costs its length */
  r = bracketed(a, b, 40000);
  CHECK(r <= (double)replaced_bytes(a, b) / (double)strlen(a) + 1e-12);
  /* level 2b (words in a diagonal band): 1000 words, every 10th replaced; the middle
   * (991 x 991 words) does not fit 200000 cells but a band of 2 x 50 + 1 does, and the
   * alignment never drifts, so the result is the same sum */
  char *a2 = words(1000, 0, 0, NULL), *b2 = words(1000, 0, 10, "X");
  r = bracketed(a2, b2, 200000);
  CHECK(r <= (double)replaced_bytes(a2, b2) / (double)strlen(a2) + 1e-12);
  /* 30 new words in front (a drift of 30 < 50): at most 30 insertions of "N " plus the
   * replacements */
  size_t lb = strlen(b2);
  char *b3 = malloc(lb + 30 * 2 + 1);
  for (int i = 0; i < 30; i++) memcpy(b3 + 2 * i, "N ", 2);
  memcpy(b3 + 60, b2, lb + 1);
  r = bracketed(a2, b3, 200000);
  CHECK(r <= (double)(60 + replaced_bytes(a2, b2)) / (double)strlen(b3) + 1e-12);
  free(a2);
  free(b2);
  free(b3);
  /* level 3 (chunks) and the fixed-group fallback: still bracketed, strictly between "same"
   * and "all new" */
  r = bracketed(a, b, 500);
  CHECK(r > 0.0);
  r = bracketed(a, b, 1);
  CHECK(r > 0.0);
  /* identical texts are 0 at every level */
  CHECK(fd_edit_ratio_budget(a, strlen(a), a, strlen(a), 1, &r, NULL) && near(r, 0.0));
  char *c = words(200, 1000, 0, NULL);
  bracketed(a, c, 500);
  bracketed(a, c, 1);
  free(a);
  free(b);
  free(c);
  /* degenerate repetitive text (every word hashes alike): the fixed-group fallback; the
   * lower bound (2000 'a' to turn into 'b') is the exact distance here */
  size_t n = 2000;
  char *x = malloc(2 * n + 1), *y = malloc(2 * n + 1);
  for (size_t i = 0; i < n; i++) {
    memcpy(x + 2 * i, "a ", 2);
    memcpy(y + 2 * i, "b ", 2);
  }
  x[2 * n] = y[2 * n] = '\0';
  struct fd_edit_ratio_work w;
  CHECK(fd_edit_ratio_budget(x, 2 * n, y, 2 * n, 100, &r, &w) && near(w.lower, 0.5) && r >= 0.5 && r <= 1.0);
  bracketed(x, y, 100);
  free(x);
  free(y);
}

/* The bound on the work of one pair (edit_ratio.h): the DP budget (the fixed-group
 * fallback may round it up slightly) plus a few linear passes per level and per chunk size. */
static uint64_t work_bound(size_t alen, size_t blen) {
  return FD_EDIT_RATIO_BUDGET + FD_EDIT_RATIO_BUDGET / 10 + 64 * (uint64_t)(alen + blen);
}

static double ratio_ops(const char *a, size_t alen, const char *b, size_t blen, uint64_t *ops) {
  double r = -1;
  struct fd_edit_ratio_work w = {0, 0};
  if (!fd_edit_ratio_budget(a, alen, b, blen, FD_EDIT_RATIO_BUDGET, &r, &w)) return -2;
  CHECK(w.lower <= r);
  *ops = w.ops;
  return r;
}

/* 256 KiB a side stays bounded in work (counted, not timed): a localised edit is exact, a
 * rewrite, scattered edits and a tiny replacement are approximated within the budget. */
static void test_edit_ratio_large(void) {
  size_t max = 256 * 1024;
  char *a = malloc(max + 1), *b = malloc(max + 1);
  uint32_t seed = 12345;
  for (size_t i = 0; i < max; i++) {
    seed = seed * 1103515245u + 12345u;
    a[i] = (seed >> 16) % 7 == 0 ? ' ' : (char)('a' + (seed >> 16) % 26);
  }
  a[max] = '\0';
  memcpy(b, a, max + 1);
  memcpy(b + max / 2, "EDITED", 6); /* 6 substitutions in the middle */
  uint64_t ops;
  double r = ratio_ops(a, max, b, max, &ops);
  CHECK(near(r, 6.0 / (double)max));
  CHECK(ops <= work_bound(max, max));
  /* a full rewrite: every byte different */
  for (size_t i = 0; i < max; i++) {
    seed = seed * 1103515245u + 12345u;
    b[i] = (seed >> 16) % 7 == 0 ? ' ' : (char)('A' + (seed >> 16) % 26);
  }
  r = ratio_ops(a, max, b, max, &ops);
  CHECK(r > 0.9 && r <= 1.0);
  CHECK(ops <= work_bound(max, max));
  /* scattered edits over the whole text: every 100th byte changed */
  memcpy(b, a, max + 1);
  for (size_t i = 50; i < max; i += 100) b[i] = b[i] == ' ' ? 'q' : ' ';
  r = ratio_ops(a, max, b, max, &ops);
  CHECK(r > 0.0 && r < 1.0);
  CHECK(ops <= work_bound(max, max));
  /* edits at both ends (nothing in common to strip) of the whole text */
  memcpy(b, a, max + 1);
  b[0] = 'Z';
  b[max - 1] = 'Z';
  r = ratio_ops(a, max, b, max, &ops);
  CHECK(r >= 2.0 / (double)max && r < 0.01);
  CHECK(ops <= work_bound(max, max));
  /* the whole text replaced by 4 characters: n x m fits, exact, so between (max - 4) / max
   * (all 4 kept) and 1 */
  r = ratio_ops(a, max, "tiny", 4, &ops);
  CHECK(r >= (double)(max - 4) / (double)max && r <= 1.0);
  CHECK(ops <= work_bound(max, 4));
  free(a);
  free(b);
}

/* Below the budget the ratio is the exact one: random short strings over a small alphabet
 * (many partial matches) against the textbook table. */
static void test_edit_ratio_matches_textbook(void) {
  uint32_t seed = 777;
  char a[300], b[300];
  for (int round = 0; round < 300; round++) {
    size_t n = 0, m = 0;
    seed = seed * 1103515245u + 12345u;
    n = (seed >> 16) % 300;
    seed = seed * 1103515245u + 12345u;
    m = (seed >> 16) % 300;
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      a[i] = (char)('a' + (seed >> 16) % 4);
    }
    for (size_t j = 0; j < m; j++) {
      seed = seed * 1103515245u + 12345u;
      b[j] = (char)('a' + (seed >> 16) % 4);
    }
    a[n] = b[m] = '\0';
    double r = -1;
    CHECK(fd_edit_ratio(a, n, b, m, &r));
    size_t longest = n > m ? n : m;
    double want = longest ? (double)naive_distance(a, b) / (double)longest : 0.0;
    CHECK(near(r, want));
  }
}

int main(void) {
  RUN(test_default_limits);
  RUN(test_utf8);
  RUN(test_paths);
  RUN(test_levenshtein);
  RUN(test_edit_ratio_exact);
  RUN(test_edit_ratio_levels);
  RUN(test_edit_ratio_large);
  RUN(test_edit_ratio_matches_textbook);
  return unit_report();
}
