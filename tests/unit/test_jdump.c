/* test_jdump.c — util/jdump.h writes what jansson's json_dumps writes, byte for byte, with
 * and without sorted keys: on hand-picked values (every escape, non-ASCII, embedded NUL,
 * reals, keys sharing prefixes) and on 20,000 random trees compared against json_dumps. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util/jdump.h"

/* Compare fd_jdump with json_dumps for j (both key orders); true when equal. */
static bool same(const json_t *j) {
  bool ok = true;
  for (int sort = 0; sort < 2; sort++) {
    char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | (sort ? JSON_SORT_KEYS : 0));
    struct fd_buf b = {0};
    bool dumped = fd_jdump(j, sort, &b);
    bool eq = want && dumped && b.len == strlen(want) && memcmp(b.data, want, b.len) == 0;
    if (!eq) fprintf(stderr, "sort=%d\n  jdump:   %s\n  jansson: %s\n", sort, b.data ? b.data : "", want ? want : "");
    ok = ok && eq;
    free(want);
    fd_buf_release(&b);
  }
  return ok;
}

static void test_fixed(void) {
  json_t *s = json_string("a\"b\\c/d\x01\x1f\x7f\b\f\n\r\t\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80");
  CHECK(same(s));
  json_decref(s);
  json_t *nul = json_stringn("a\0b", 3);
  CHECK(same(nul));
  json_decref(nul);
  json_t *o = json_pack("{s:i, s:[i,i,{}], s:{s:n, s:b}, s:s, s:f, s:f, s:f, s:I, s:[]}", "b", 1, "a", 1, 2, "\xc3\xa9",
                        "y", "x", 0, "B", "z", "r", 2.0 / 3.0, "ab", 1e300, "a\x01", -0.0, "aa",
                        (json_int_t)-9007199254740993LL, "", NULL);
  CHECK(same(o));
  json_decref(o);
  json_t *many = json_object(); /* more keys than fit on jdump's stack */
  char k[8];
  for (int i = 40; i > 0; i--) {
    snprintf(k, sizeof k, "k%d", i);
    json_object_set_new(many, k, json_integer(i));
  }
  CHECK(same(many));
  json_decref(many);
}

static const char *const pieces[] = {"a",
                                     "b",
                                     "ab",
                                     "\"",
                                     "\\",
                                     "/",
                                     "\n",
                                     "\t",
                                     "\x01",
                                     "\x1f",
                                     "\x7f",
                                     "\xc3\xa9",
                                     "\xe2\x80\xa8",
                                     "\xf0\x9f\x98\x80",
                                     " ",
                                     "role",
                                     "content",
                                     ""};
#define N_PIECES (sizeof pieces / sizeof pieces[0])

static json_t *random_string(void) {
  char s[64] = "";
  int n = rand() % 6;
  for (int i = 0; i < n; i++) strcat(s, pieces[rand() % N_PIECES]);
  return json_string(s);
}

static json_t *random_value(int depth) {
  int kind = rand() % (depth > 3 ? 6 : 8);
  switch (kind) {
    case 0: return json_null();
    case 1: return json_boolean(rand() % 2);
    case 2: return json_integer((json_int_t)rand() - RAND_MAX / 2);
    case 3: return json_real((double)rand() / (rand() + 1));
    case 4:
    case 5: return random_string();
    case 6: {
      json_t *a = json_array();
      for (int i = rand() % 4; i > 0; i--) json_array_append_new(a, random_value(depth + 1));
      return a;
    }
    default: {
      json_t *o = json_object();
      for (int i = rand() % 5; i > 0; i--) {
        json_t *key = random_string();
        json_object_set_new(o, json_string_value(key), random_value(depth + 1));
        json_decref(key);
      }
      return o;
    }
  }
}

static void test_random(void) {
  srand(15);
  int bad = 0;
  for (int i = 0; i < 20000 && bad < 5; i++) {
    json_t *j = random_value(0);
    if (!same(j)) bad++;
    json_decref(j);
  }
  CHECK(bad == 0);
}

/* Every ASCII byte at every position of strings up to 24 bytes long (fd_jdump_string skips
 * eight bytes at a time where none needs an escape), between plain and non-ASCII bytes: the
 * same text as json_dumps. */
static void test_string_positions(void) {
  int bad = 0;
  for (int fill = 0; fill < 2; fill++) {
    for (size_t len = 1; len <= 24; len++) {
      for (size_t pos = 0; pos < len; pos++) {
        for (int c = 1; c < 0x80; c++) {
          char s[64];
          size_t n = 0;
          for (size_t i = 0; i < len; i++) {
            if (i == pos) {
              s[n++] = (char)c;
            } else if (fill) {
              s[n++] = (char)0xC3; /* é */
              s[n++] = (char)0xA9;
            } else {
              s[n++] = 'x';
            }
          }
          json_t *j = json_stringn(s, n);
          char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
          struct fd_buf b = {0};
          fd_jdump_string(s, n, &b);
          if (!want || b.len != strlen(want) || memcmp(b.data, want, b.len) != 0) bad++;
          fd_buf_release(&b);
          free(want);
          json_decref(j);
        }
      }
    }
  }
  CHECK(bad == 0);
}

int main(void) {
  RUN(test_fixed);
  RUN(test_string_positions);
  RUN(test_random);
  return unit_report();
}
