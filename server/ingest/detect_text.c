/* detect_text.c — UTF-8 decoding, folding and word/clause/sentence cutting for the
 * detector; see detect_text.h for what counts as what. */
#include "ingest/detect_text.h"

#include <string.h>

/* Folded form of U+00A0..U+017F: ASCII letters for letters, NULL for the rest (spaces,
 * signs, × and ÷), which separate words. Written out rather than derived from a
 * locale or Unicode data so that every build folds alike. */
static const char *const latin_fold[0x180 - 0xa0] = {
    /* U+00A0 */ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "a",  NULL,
    /* U+00AC */ NULL, NULL, NULL, NULL, NULL, NULL, "2",  "3",  NULL, "u",  NULL, NULL,
    /* U+00B8 */ NULL, "1",  "o",  NULL, NULL, NULL, NULL, NULL, "a",  "a",  "a",  "a",
    /* U+00C4 */ "a",  "a",  "ae", "c",  "e",  "e",  "e",  "e",  "i",  "i",  "i",  "i",
    /* U+00D0 */ "d",  "n",  "o",  "o",  "o",  "o",  "o",  NULL, "o",  "u",  "u",  "u",
    /* U+00DC */ "u",  "y",  "th", "ss", "a",  "a",  "a",  "a",  "a",  "a",  "ae", "c",
    /* U+00E8 */ "e",  "e",  "e",  "e",  "i",  "i",  "i",  "i",  "d",  "n",  "o",  "o",
    /* U+00F4 */ "o",  "o",  "o",  NULL, "o",  "u",  "u",  "u",  "u",  "y",  "th", "y",
    /* U+0100 */ "a",  "a",  "a",  "a",  "a",  "a",  "c",  "c",  "c",  "c",  "c",  "c",
    /* U+010C */ "c",  "c",  "d",  "d",  "d",  "d",  "e",  "e",  "e",  "e",  "e",  "e",
    /* U+0118 */ "e",  "e",  "e",  "e",  "g",  "g",  "g",  "g",  "g",  "g",  "g",  "g",
    /* U+0124 */ "h",  "h",  "h",  "h",  "i",  "i",  "i",  "i",  "i",  "i",  "i",  "i",
    /* U+0130 */ "i",  "i",  "ij", "ij", "j",  "j",  "k",  "k",  "k",  "l",  "l",  "l",
    /* U+013C */ "l",  "l",  "l",  "l",  "l",  "l",  "l",  "n",  "n",  "n",  "n",  "n",
    /* U+0148 */ "n",  "n",  "n",  "n",  "o",  "o",  "o",  "o",  "o",  "o",  "oe", "oe",
    /* U+0154 */ "r",  "r",  "r",  "r",  "r",  "r",  "s",  "s",  "s",  "s",  "s",  "s",
    /* U+0160 */ "s",  "s",  "t",  "t",  "t",  "t",  "t",  "t",  "u",  "u",  "u",  "u",
    /* U+016C */ "u",  "u",  "u",  "u",  "u",  "u",  "u",  "u",  "w",  "w",  "y",  "y",
    /* U+0178 */ "y",  "z",  "z",  "z",  "z",  "z",  "z",  "s",
};

enum cp_kind {
  CP_SEP,      /* separates words */
  CP_WORD,     /* part of a word (folded form in fold_buf) */
  CP_APOS,     /* apostrophe: inside a word it is dropped */
  CP_CLAUSE,   /* ends a clause */
  CP_SENTENCE, /* ends a sentence */
  CP_QUESTION, /* '?': ends a sentence that is a question */
  CP_QUOTE,    /* opens or closes quoted text */
  CP_QUOTE_OPEN,
};

/* Decodes one code point at s[i..len); *n = its length (1 for an invalid byte, which gets
 * code point 0xFFFD, a separator). */
static uint32_t utf8_next(const unsigned char *s, size_t i, size_t len, size_t *n) {
  unsigned char c = s[i];
  uint32_t cp;
  size_t need;
  if (c < 0x80) {
    *n = 1;
    return c;
  } else if (c >= 0xc2 && c <= 0xdf) {
    need = 1, cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 2, cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3, cp = c & 0x07;
  } else {
    *n = 1;
    return 0xfffd;
  }
  if (len - i <= need) {
    *n = 1;
    return 0xfffd;
  }
  for (size_t k = 1; k <= need; k++) {
    if ((s[i + k] & 0xc0) != 0x80) {
      *n = 1;
      return 0xfffd;
    }
    cp = (cp << 6) | (s[i + k] & 0x3f);
  }
  /* overlong forms, surrogates and values past U+10FFFF are invalid */
  if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
    *n = 1;
    return 0xfffd;
  }
  *n = need + 1;
  return cp;
}

/* What cp is; for CP_WORD its folded bytes go to *fold (*foldlen of them). *fold must be
 * NULL on entry. */
static enum cp_kind classify(uint32_t cp, const unsigned char *raw, size_t rawlen, const char **fold, size_t *foldlen) {
  static const char lower[] = "abcdefghijklmnopqrstuvwxyz", digits[] = "0123456789";
  if (cp < 0x80) {
    if (cp >= 'a' && cp <= 'z') *fold = lower + (cp - 'a');
    if (cp >= 'A' && cp <= 'Z') *fold = lower + (cp - 'A');
    if (cp >= '0' && cp <= '9') *fold = digits + (cp - '0');
    if (*fold) {
      *foldlen = 1;
      return CP_WORD;
    }
    switch (cp) {
      case '\'':
      case '`': return CP_APOS;
      case '"': return CP_QUOTE;
      case ',':
      case ';':
      case ':':
      case '(':
      case ')':
      case '[':
      case ']': return CP_CLAUSE;
      case '.':
      case '!':
      case '\n':
      case '\r': return CP_SENTENCE;
      case '?': return CP_QUESTION;
      default: return CP_SEP;
    }
  }
  if (cp >= 0xa0 && cp < 0x180) {
    switch (cp) {
      case 0xa1:
      case 0xbf: return CP_SENTENCE; /* ¡ ¿ open a sentence */
      case 0xab:
      case 0xbb: return CP_QUOTE; /* « » */
      case 0xb4: return CP_APOS;  /* ´ */
      default: break;
    }
    const char *f = latin_fold[cp - 0xa0];
    if (!f) return CP_SEP;
    *fold = f, *foldlen = strlen(f);
    return CP_WORD;
  }
  switch (cp) {
    case 0x2018:
    case 0x2019:
    case 0x02bc: return CP_APOS; /* ‘ ’ ʼ */
    case 0x201c:
    case 0x201d: return CP_QUOTE;      /* “ ” */
    case 0x201e: return CP_QUOTE_OPEN; /* „ */
    case 0x2013:
    case 0x2014: return CP_CLAUSE; /* – — */
    case 0x2026:
    case 0x2028:
    case 0x2029: return CP_SENTENCE; /* … and line/paragraph separators */
    default: break;
  }
  /* General punctuation, symbols, arrows, emoji, variation selectors, joiners: separators.
   * Letters of other scripts stay part of words, unfolded. */
  if ((cp >= 0x2000 && cp <= 0x2bff) || (cp >= 0x3000 && cp <= 0x303f) || (cp >= 0xfe00 && cp <= 0xfe0f) ||
      cp >= 0x1f000 || cp == 0xfeff || cp == 0xfffd)
    return CP_SEP;
  *fold = (const char *)raw, *foldlen = rawlen;
  return CP_WORD;
}

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

struct reader {
  struct fd_detect_text *t;
  char *fold;
  size_t foldsize, foldlen;
  bool in_word, quoted, clause_pending, sentence_pending;
  uint16_t clause, sentence;
  uint64_t hash;
  size_t wordlen; /* folded bytes of the current word */
};

static void fold_put(struct reader *r, const char *s, size_t n) {
  if (!r->fold) return;
  for (size_t i = 0; i < n && r->foldlen + 1 < r->foldsize; i++) r->fold[r->foldlen++] = s[i];
}

static void word_start(struct reader *r, size_t offset) {
  struct fd_detect_text *t = r->t;
  if (r->clause_pending && t->n > 0) r->clause++;
  if (r->sentence_pending && t->n > 0) r->sentence++;
  r->clause_pending = r->sentence_pending = false;
  if (t->n > 0) fold_put(r, " ", 1);
  struct fd_detect_word *w = &t->w[t->n];
  w->offset = (uint32_t)offset;
  w->clause = r->clause;
  w->sentence = r->sentence;
  w->quoted = r->quoted;
  r->in_word = true;
  r->hash = FNV_OFFSET;
  r->wordlen = 0;
}

static void word_add(struct reader *r, const char *f, size_t n, size_t end) {
  for (size_t i = 0; i < n && r->wordlen < FD_DETECT_WORD_MAX; i++, r->wordlen++) {
    r->hash = (r->hash ^ (unsigned char)f[i]) * FNV_PRIME;
    fold_put(r, f + i, 1);
  }
  r->t->w[r->t->n].end = (uint32_t)end;
}

static void word_end(struct reader *r) {
  if (!r->in_word) return;
  r->t->w[r->t->n].hash = r->hash;
  r->t->n++;
  r->in_word = false;
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

size_t fd_detect_read(const char *s, size_t len, struct fd_detect_text *t, char *fold, size_t foldsize) {
  const unsigned char *u = (const unsigned char *)s;
  struct reader r = {.t = t, .fold = fold, .foldsize = foldsize};
  t->n = 0;
  t->truncated = false;
  memset(t->question, 0, sizeof t->question);
  if (fold && foldsize) fold[0] = '\0';
  size_t i = 0;
  while (i < len) {
    size_t n;
    uint32_t cp = utf8_next(u, i, len, &n);
    const char *f = NULL;
    size_t flen = 0;
    enum cp_kind k = classify(cp, u + i, n, &f, &flen);
    /* an apostrophe inside a word is dropped ("that's" -> "thats"); '.' and ',' between
     * digits stay in the number ("1.5", "1,000") */
    if (r.in_word && i + n < len) {
      if (k == CP_APOS) {
        size_t n2, flen2;
        const char *f2 = NULL;
        uint32_t next = utf8_next(u, i + n, len, &n2);
        if (classify(next, u + i + n, n2, &f2, &flen2) == CP_WORD) {
          i += n;
          continue;
        }
      } else if ((cp == '.' || cp == ',') && is_digit(u[i - 1]) && is_digit(u[i + 1])) {
        word_add(&r, (const char *)u + i, 1, i + 1);
        i += n;
        continue;
      }
    }
    if (k == CP_WORD) {
      if (!r.in_word) {
        if (t->n == FD_DETECT_MAX_WORDS) {
          t->truncated = true;
          break;
        }
        word_start(&r, i);
      }
      word_add(&r, f, flen, i + n);
      i += n;
      continue;
    }
    word_end(&r);
    switch (k) {
      case CP_CLAUSE: r.clause_pending = true; break;
      case CP_SENTENCE: r.clause_pending = r.sentence_pending = true; break;
      case CP_QUESTION:
        if (t->n > 0 && !r.sentence_pending) t->question[r.sentence] = true;
        r.clause_pending = r.sentence_pending = true;
        break;
      case CP_QUOTE: r.quoted = !r.quoted; break;
      case CP_QUOTE_OPEN: r.quoted = true; break;
      default: break;
    }
    i += n;
  }
  word_end(&r);
  if (!fold || !foldsize) return 0;
  fold[r.foldlen] = '\0';
  return r.foldlen;
}
