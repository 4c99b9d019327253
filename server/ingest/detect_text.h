/* detect_text.h — how the detector reads a text (private to detect.c and its tests):
 * UTF-8 is decoded, case and Latin diacritics are folded with a fixed table (U+00A0 to
 * U+017F: "É" → "e", "ß" → "ss", "œ" → "oe"; no locale is consulted, so every server
 * reads a turn the same way), and the text is cut into words with their clause, sentence
 * and quotation state. Rules and project phrases go through the same code, so a rule
 * written "that's" matches the text "THAT’S".
 *
 * Words: runs of letters and digits (other scripts' letters are kept as they are). An
 * apostrophe inside a word is dropped ("that's" → "thats", "c'est" → "cest"); hyphens
 * and slashes separate words. Clauses end at , ; : ( ) [ ] dashes and sentence ends;
 * sentences end at . ! ? … ¡ ¿ and line breaks ("1.5" does not end one). A sentence
 * that contains a '?' is a question. Double quotation marks ("…", “…”, „…“, «…», »…«)
 * open and close quoted text. */
#ifndef FD_INGEST_DETECT_TEXT_H
#define FD_INGEST_DETECT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/detect.h"

/* A folded word longer than this is cut (its hash covers the first this many bytes): no
 * rule word is that long, so such a word matches nothing but `*` either way. */
#define FD_DETECT_WORD_MAX 48

struct fd_detect_word {
  uint64_t hash;        /* FNV-1a of the folded word */
  uint32_t offset, end; /* bytes of the word in the input text */
  uint16_t clause;      /* words of one clause share the number; clauses count up */
  uint16_t sentence;    /* the same for sentences (index into fd_detect_text.question) */
  bool quoted;          /* inside quotation marks */
};

struct fd_detect_text {
  struct fd_detect_word w[FD_DETECT_MAX_WORDS];
  size_t n;
  bool truncated;                         /* the text has more than FD_DETECT_MAX_WORDS words */
  bool question[FD_DETECT_MAX_WORDS + 1]; /* per sentence */
};

/* Reads s[0..len) into *t. If `fold` is not NULL, also writes the folded words joined by
 * single spaces there (NUL-terminated, cut to foldsize - 1 bytes) and returns their length;
 * else returns 0. */
size_t fd_detect_read(const char *s, size_t len, struct fd_detect_text *t, char *fold, size_t foldsize);

#endif
