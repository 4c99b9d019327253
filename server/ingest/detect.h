/* detect.h — classify a user's follow-up turn as praise, complaint or correction of the
 * assistant answer just above it (feedback written into the conversation), with a
 * transparent rule set: server/ingest/detect_rules.txt, format and classes in
 * docs/detection.md.
 *
 * How a turn is read: the text is folded (case and Latin diacritics, so "Völlig" and
 * "vollig" are one word; no locale is consulted) and cut into words, clauses (split at
 * , ; : ( ) dashes) and sentences (split at . ! ? … and line breaks); text between
 * quotation marks is marked quoted. Every rule is a phrase of words that must match whole
 * words. A match is dropped when it touches quoted text, when its sentence is a question
 * (unless the rule says otherwise), or when a negator ("not", "nicht", "pas", ...) stands
 * at most three words before it in the same clause (unless the rule says otherwise: "not
 * bad" is a praise rule of its own). A match inside a longer match is dropped ("not bad"
 * hides "bad"). Then the classes decide in the order the labelling follows: a match of
 * class `other` (the turn is about something else: "I meant", "my teacher says") → nothing;
 * else any correction → correction; else any complaint → complaint; else any praise →
 * praise; else nothing. Class `none` rules ("no problem") only hide the matches inside them.
 *
 * Cost: one pass over the text plus a walk of a word trie per word (measured in
 * bench/detect: about a microsecond for a turn of typical length). Only the first
 * FD_DETECT_MAX_WORDS words are read: feedback on the previous answer opens a reply, and a
 * longer turn (pasted code, logs) is a new request, not a verdict.
 *
 * A detector is immutable once built: one may be shared by any number of threads. */
#ifndef FD_INGEST_DETECT_H
#define FD_INGEST_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#define FD_DETECT_MAX_WORDS 256
/* Limits of one per-project extra phrase (the `detect_phrases` project setting). */
#define FD_DETECT_PHRASE_MAX_BYTES 200
#define FD_DETECT_PHRASE_MAX_WORDS 12
/* Phrases per class a project may add (PATCH /v1/project refuses more). */
#define FD_DETECT_PHRASES_MAX 100

enum fd_detect_class {
  FD_DETECT_NONE = 0,
  FD_DETECT_PRAISE,
  FD_DETECT_COMPLAINT,
  FD_DETECT_CORRECTION,
};

/* What matched: the rule's id (e.g. "en.complaint.wrong", or "project.praise.2" for the
 * third extra praise phrase) and language ("en", ..., "*" for project phrases), and the
 * matched span of the input text (bytes [offset, offset + length)). Pointers stay valid
 * as long as the detector. */
struct fd_detect_match {
  const char *rule;
  const char *lang;
  size_t offset;
  size_t length;
};

/* Extra phrases of a project, per class: plain phrases (words only, no pattern syntax),
 * matched like the built-in rules (folded, on word boundaries, negation- and
 * question-aware). Any array may be NULL with its count 0. */
struct fd_detect_phrases {
  const char *const *praise;
  size_t n_praise;
  const char *const *complaint;
  size_t n_complaint;
  const char *const *correction;
  size_t n_correction;
};

struct fd_detector;

/* The built-in rules plus `extra` (may be NULL). NULL when memory runs out or an extra
 * phrase is not valid (see fd_detect_phrase_valid); then `err` (if not NULL) names the
 * problem. */
struct fd_detector *fd_detector_new(const struct fd_detect_phrases *extra, char *err, size_t errlen);
void fd_detector_free(struct fd_detector *d);

/* The class of the user turn text[0..len) (UTF-8; invalid bytes separate words). On a
 * class other than FD_DETECT_NONE, *m (if not NULL) says what matched. */
enum fd_detect_class fd_detect(const struct fd_detector *d, const char *text, size_t len, struct fd_detect_match *m);

/* "praise", "complaint", "correction", "none". */
const char *fd_detect_class_name(enum fd_detect_class c);

/* True when s[0..len) is acceptable as an extra phrase: at most FD_DETECT_PHRASE_MAX_BYTES
 * bytes, 1..FD_DETECT_PHRASE_MAX_WORDS words after folding. */
bool fd_detect_phrase_valid(const char *s, size_t len);

/* Folds s[0..len) as the detector reads it (words joined by single spaces, case and Latin
 * diacritics folded, apostrophes inside words dropped, punctuation gone) into out
 * (NUL-terminated, truncated to outsize - 1 bytes). Returns the folded length. For tests
 * and for showing users how a phrase is read. */
size_t fd_detect_fold(const char *s, size_t len, char *out, size_t outsize);

#endif
