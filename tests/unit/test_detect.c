/* test_detect.c — the detector of feedback written into the conversation: folding, word
 * boundaries, clauses, quotes, questions, negation, the labelling order, match spans,
 * per-project phrases, and the held-out part of the labelled set (argv[1]) against the
 * targets: precision >= 0.9 and recall >= 0.6 for every class. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/detect.h"
#include "unit.h"

static struct fd_detector *det;

static const char *fold(const char *s) {
  static char out[256];
  fd_detect_fold(s, strlen(s), out, sizeof out);
  return out;
}

static enum fd_detect_class cls(const char *s) { return fd_detect(det, s, strlen(s), NULL); }

/* The matched text of s, or "" when nothing matched. */
static const char *matched(const char *s, const char **rule) {
  static char out[256];
  struct fd_detect_match m;
  out[0] = '\0';
  if (fd_detect(det, s, strlen(s), &m) == FD_DETECT_NONE) return out;
  snprintf(out, sizeof out, "%.*s", (int)m.length, s + m.offset);
  if (rule) *rule = m.rule;
  return out;
}

static void test_fold(void) {
  CHECK_STR(fold("Völlig FALSCH"), "vollig falsch");
  CHECK_STR(fold("ÇA s’écrit « rythme »"), "ca secrit rythme");
  CHECK_STR(fold("Straße, Œuvre, ÆON, Łódź, Ångström"), "strasse oeuvre aeon lodz angstrom");
  CHECK_STR(fold("That's it's c'est n'importe"), "thats its cest nimporte");
  CHECK_STR(fold("it's 1.5, not 1,000!"), "its 1.5 not 1,000");
  CHECK_STR(fold("rends-le / src,dst"), "rends le src dst");
  CHECK_STR(fold("ok\xff\xc3(bad)\xe2\x82"), "ok bad");             /* invalid UTF-8 separates */
  CHECK_STR(fold("great 👍🏽 thanks"), "great thanks");         /* emoji separate */
  CHECK_STR(fold("ΑΒΓ привет"), "\xce\x91\xce\x92\xce\x93 привет"); /* other scripts kept as they are */
  CHECK_STR(fold("'quoted' 'tis"), "quoted tis");
}

static void test_word_boundaries(void) {
  CHECK(cls("That's wrong.") == FD_DETECT_COMPLAINT);
  CHECK(cls("THAT'S WRONG") == FD_DETECT_COMPLAINT);
  CHECK(cls("that’s wrong") == FD_DETECT_COMPLAINT); /* typographic apostrophe */
  CHECK(cls("That's wrongful dismissal, isn't it") == FD_DETECT_NONE);
  CHECK(cls("Imperfect.") == FD_DETECT_NONE);
  CHECK(cls("Perfect.") == FD_DETECT_PRAISE);
  CHECK(cls("Das ist völlig falsch.") == FD_DETECT_COMPLAINT);
  CHECK(cls("das ist vollig falsch") == FD_DETECT_COMPLAINT); /* accent-insensitive */
  CHECK(cls("DAS IST VÖLLIG FALSCH") == FD_DETECT_COMPLAINT);
  CHECK(cls("Réponse inutile") == FD_DETECT_COMPLAINT);
  CHECK(cls("reponse INUTILE") == FD_DETECT_COMPLAINT);
  CHECK(cls("") == FD_DETECT_NONE);
  CHECK(cls("...!!!???") == FD_DETECT_NONE);
}

static void test_negation_and_order(void) {
  CHECK(cls("not bad") == FD_DETECT_PRAISE);
  CHECK(cls("Not bad at all!") == FD_DETECT_PRAISE);
  CHECK(cls("Nicht schlecht.") == FD_DETECT_PRAISE);
  CHECK(cls("Pas mal !") == FD_DETECT_PRAISE);
  CHECK(cls("no, that's right") == FD_DETECT_NONE);
  CHECK(cls("no problem") == FD_DETECT_NONE);
  CHECK(cls("Kein Problem!") == FD_DETECT_NONE);
  CHECK(cls("thanks, but that's wrong") == FD_DETECT_COMPLAINT);
  CHECK(cls("Thanks, and what about Germany?") == FD_DETECT_NONE);
  CHECK(cls("Thanks!") == FD_DETECT_PRAISE);
  CHECK(cls("shorter please") == FD_DETECT_NONE);
  CHECK(cls("This is not very helpful.") == FD_DETECT_COMPLAINT);
  CHECK(cls("It isn't helpful") == FD_DETECT_COMPLAINT);
  CHECK(cls("never perfect") == FD_DETECT_NONE); /* a negated judgement without a rule of its own */
  CHECK(cls("No, it's Canberra.") == FD_DETECT_CORRECTION);
  CHECK(cls("That's wrong, the correct answer is 7.") == FD_DETECT_CORRECTION);
  CHECK(cls("Sorry, I meant Python 2, not Python 3.") == FD_DETECT_NONE); /* about the user's own message */
  CHECK(cls("My teacher says that's wrong.") == FD_DETECT_NONE);          /* someone else's claim */
  CHECK(cls("Is that wrong?") == FD_DETECT_NONE);                         /* a question */
  CHECK(cls("What does \"useless\" mean here?") == FD_DETECT_NONE);
  CHECK(cls("He wrote \"this is wrong\" in the margin.") == FD_DETECT_NONE); /* quoted */
  CHECK(cls("„Völlig falsch“ stand da.") == FD_DETECT_NONE);
  CHECK(cls("Wrong. Why did you say Sydney?") == FD_DETECT_COMPLAINT); /* the question is another sentence */
}

static void test_match(void) {
  const char *rule = NULL;
  CHECK_STR(matched("Thanks, but that's wrong!", &rule), "that's wrong");
  CHECK_STR(rule, "en.complaint.wrong_is");
  CHECK_STR(matched("Perfekt!", &rule), "Perfekt");
  CHECK_STR(rule, "de.praise.perfekt_alone");
  CHECK_STR(matched("No, it's Canberra.", &rule), "No, it's"); /* opener up to the statement */
  CHECK_STR(matched("shorter please", &rule), "");
  struct fd_detect_match m;
  CHECK(fd_detect(det, "Merci, mais c'est faux.", 23, &m) == FD_DETECT_COMPLAINT);
  CHECK_STR(m.lang, "fr");
}

static void test_long_text(void) {
  size_t n = 100000;
  char *s = malloc(n + 1);
  if (!s) return;
  for (size_t i = 0; i < n; i++) s[i] = "that's wrong "[i % 13];
  s[n] = '\0';
  CHECK(fd_detect(det, s, n, NULL) == FD_DETECT_COMPLAINT); /* within the first words */
  memset(s, 'a', n);                                        /* one huge word */
  CHECK(fd_detect(det, s, n, NULL) == FD_DETECT_NONE);
  for (size_t i = 0; i < n; i++) s[i] = "x "[i % 2];
  memcpy(s + n - 12, "that's wrong", 12); /* past FD_DETECT_MAX_WORDS: not read */
  CHECK(fd_detect(det, s, n, NULL) == FD_DETECT_NONE);
  free(s);
}

static void test_project_phrases(void) {
  const char *praise[] = {"chef's kiss", "10/10"};
  const char *complaint[] = {"Bärenmist"};
  struct fd_detect_phrases p = {.praise = praise, .n_praise = 2, .complaint = complaint, .n_complaint = 1};
  char err[128];
  struct fd_detector *d = fd_detector_new(&p, err, sizeof err);
  CHECK(d != NULL);
  if (!d) return;
  struct fd_detect_match m;
  const char *s = "Chef’s KISS!";
  CHECK(fd_detect(d, s, strlen(s), &m) == FD_DETECT_PRAISE);
  CHECK_STR(m.rule, "project.praise.0");
  CHECK_STR(m.lang, "*");
  s = "that's 10/10, thanks";
  CHECK(fd_detect(d, s, strlen(s), &m) == FD_DETECT_PRAISE);
  CHECK_STR(m.rule, "project.praise.1");
  s = "totaler barenmist";
  CHECK(fd_detect(d, s, strlen(s), &m) == FD_DETECT_COMPLAINT);
  CHECK_STR(m.rule, "project.complaint.0");
  s = "not chef's kiss"; /* negation applies to project phrases too */
  CHECK(fd_detect(d, s, strlen(s), NULL) == FD_DETECT_NONE);
  CHECK(fd_detect(det, "chef's kiss", 11, NULL) == FD_DETECT_NONE); /* only that project's detector */
  s = "That's wrong.";                                              /* the built-in rules stay */
  CHECK(fd_detect(d, s, strlen(s), NULL) == FD_DETECT_COMPLAINT);
  fd_detector_free(d);

  const char *bad[] = {"!!!"};
  p = (struct fd_detect_phrases){.correction = bad, .n_correction = 1};
  CHECK(fd_detector_new(&p, err, sizeof err) == NULL);
  CHECK(strstr(err, "project.correction.0") != NULL);
  CHECK(!fd_detect_phrase_valid("", 0));
  CHECK(!fd_detect_phrase_valid("?!", 2));
  CHECK(fd_detect_phrase_valid("a b c d e f g h i j k l", 23));    /* 12 words */
  CHECK(!fd_detect_phrase_valid("a b c d e f g h i j k l m", 25)); /* 13 */
  char longp[FD_DETECT_PHRASE_MAX_BYTES + 2];
  memset(longp, 'x', sizeof longp - 1);
  longp[sizeof longp - 1] = '\0';
  CHECK(!fd_detect_phrase_valid(longp, strlen(longp)));
  CHECK(fd_detect_phrase_valid(longp, FD_DETECT_PHRASE_MAX_BYTES));
}

/* Precision and recall per class on the held-out part, counted here from the file. */
static void test_heldout(const char *path) {
  FILE *f = fopen(path, "r");
  CHECK(f != NULL);
  if (!f) return;
  static const char *const names[] = {"none", "praise", "complaint", "correction"};
  int tp[4] = {0}, got[4] = {0}, want[4] = {0}, lines = 0;
  char line[2048];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || line[0] == '#') continue;
    char *c = strchr(line, '\t'), *text = c ? strchr(c + 1, '\t') : NULL;
    CHECK(text != NULL);
    if (!text) continue;
    *text++ = '\0';
    int w = -1;
    for (int i = 0; i < 4; i++)
      if (!strcmp(c + 1, names[i])) w = i;
    CHECK(w >= 0);
    if (w < 0) continue;
    int g = (int)fd_detect(det, text, strlen(text), NULL);
    want[w]++, got[g]++, lines++;
    if (g == w) tp[g]++;
  }
  fclose(f);
  CHECK(lines >= 200);
  for (int i = 1; i < 4; i++) {
    double p = got[i] ? (double)tp[i] / got[i] : 0, r = want[i] ? (double)tp[i] / want[i] : 0;
    fprintf(stderr, "held-out %-10s precision %.2f (%d/%d) recall %.2f (%d/%d)\n", names[i], p, tp[i], got[i], r, tp[i],
            want[i]);
    CHECK(p >= 0.9);
    CHECK(r >= 0.6);
  }
}

int main(int argc, char **argv) {
  char err[256];
  det = fd_detector_new(NULL, err, sizeof err);
  if (!det) {
    fprintf(stderr, "fd_detector_new: %s\n", err);
    return 1;
  }
  RUN(test_fold);
  RUN(test_word_boundaries);
  RUN(test_negation_and_order);
  RUN(test_match);
  RUN(test_long_text);
  RUN(test_project_phrases);
  CHECK(argc == 2);
  if (argc == 2) test_heldout(argv[1]);
  fd_detector_free(det);
  return unit_report();
}
