/* test_export_text.c — trl and kto records are written as JSON text by the export driver
 * (export.c "TEXT"), not through jansson trees: every line must be what jansson itself writes
 * for the record (json_dumps of the line parsed back, keys in order, gives the same bytes),
 * and meta.pair_id must be the SHA-256 of the record without meta as json_dumps writes it
 * with sorted keys. Texts hold every character JSON escapes, non-ASCII and key-like text. */
#include "test_export_fixture.h"
#include "util/crypto.h"

static const char *const TEXTS[] = {
    "plain", "quote \" and backslash \\", "tab\tnew\nline\r\b\f", "\x01\x1f\x7f", "ünïcødé ✓ 𝄞",
    "",      "\"}],\"prompt\":[",         "\\u0041 is not A",
};
#define N_TEXTS (sizeof TEXTS / sizeof TEXTS[0])

/* Conversation i: system + user prompt of odd texts, two answers rated up and down. */
static struct fd_conversation *odd(size_t i) {
  char id[16];
  snprintf(id, sizeof id, "c%02zu", i);
  struct fd_conversation *c = fx_conv(id);
  const char *t = TEXTS[i], *u = TEXTS[(i + 1) % N_TEXTS], *v = TEXTS[(i + 2) % N_TEXTS];
  fx_msg(c, "s", NULL, FD_ROLE_SYSTEM, t, NULL, 1);
  fx_msg(c, "u", "s", FD_ROLE_USER, u, NULL, 2);
  char good[64], bad[64];
  snprintf(good, sizeof good, "%s!", v); /* the answers differ from each other in every case */
  snprintf(bad, sizeof bad, "%s?", t);
  fx_msg(c, "a", "u", FD_ROLE_ASSISTANT, good, t, 3);
  fx_msg(c, "b", "u", FD_ROLE_ASSISTANT, bad, u, 4);
  fx_rate(c, "r1", "a", "rater", 1, 2, 10);
  fx_rate(c, "r2", "b", "rater", -1, 2, 11);
  return c;
}

/* Each line against jansson: re-dumped in order it is the same bytes; without meta and with
 * sorted keys its SHA-256 is pair_id (pairs) or is unique (kto). */
static void check_lines(const struct fx_out *o, bool meta, bool pairs) {
  for (int i = 0; i < o->n; i++) {
    json_error_t e;
    json_t *rec = json_loads(o->lines[i], JSON_REJECT_DUPLICATES, &e);
    CHECK(rec != NULL);
    if (!rec) continue;
    char *again = json_dumps(rec, JSON_COMPACT);
    size_t len = strlen(o->lines[i]);
    CHECK(again && len > 0 && o->lines[i][len - 1] == '\n' && strlen(again) == len - 1 &&
          memcmp(again, o->lines[i], len - 1) == 0);
    free(again);
    if (meta) {
      json_t *m = json_incref(json_object_get(rec, "meta"));
      CHECK(m != NULL);
      /* meta is the last key */
      const char *last = NULL;
      const char *k;
      json_t *v;
      json_object_foreach(rec, k, v) last = k;
      CHECK(last && strcmp(last, "meta") == 0);
      json_object_del(rec, "meta");
      char *canon = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
      char hex[65];
      fd_sha256_hex(canon, strlen(canon), hex);
      if (pairs) CHECK_STR(json_string_value(json_object_get(m, "pair_id")), hex);
      free(canon);
      json_decref(m);
    }
    json_decref(rec);
  }
}

static void run_format(enum fd_export_format f, bool meta, int want) {
  struct fd_conversation *convs[N_TEXTS];
  for (size_t i = 0; i < N_TEXTS; i++) convs[i] = odd(i);
  struct fd_export_params p = fx_params(f, meta);
  struct fx_out o;
  fx_run(&p, convs, (int)N_TEXTS, &o);
  CHECK(o.ok);
  CHECK(o.n == want);
  check_lines(&o, meta, f == FD_FORMAT_TRL);
  fx_out_clear(&o);
  fx_free_convs(convs, (int)N_TEXTS);
}

static void test_trl(void) {
  run_format(FD_FORMAT_TRL, false, (int)N_TEXTS);
  run_format(FD_FORMAT_TRL, true, (int)N_TEXTS);
}

static void test_kto(void) {
  run_format(FD_FORMAT_KTO, false, 2 * (int)N_TEXTS);
  run_format(FD_FORMAT_KTO, true, 2 * (int)N_TEXTS);
}

/* Texts that are not UTF-8 fail the export, as json_string refuses them. */
static void test_invalid_utf8(void) {
  static const char *const bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    for (int kto = 0; kto < 2; kto++) {
      struct fd_conversation *c = fx_conv("c1");
      fx_msg(c, "u", NULL, FD_ROLE_USER, "Hi", NULL, 1);
      fx_msg(c, "a", "u", FD_ROLE_ASSISTANT, bad[i], NULL, 2);
      fx_msg(c, "b", "u", FD_ROLE_ASSISTANT, "fine", NULL, 3);
      fx_rate(c, "r1", "a", "rater", 1, 2, 10);
      fx_rate(c, "r2", "b", "rater", -1, 2, 11);
      struct fd_export_params p = fx_params(kto ? FD_FORMAT_KTO : FD_FORMAT_TRL, false);
      struct fx_out o;
      fx_run(&p, &c, 1, &o);
      CHECK(!o.ok && strstr(o.error, "invalid UTF-8"));
      fx_out_clear(&o);
      fx_free_convs(&c, 1);
    }
  }
}

int main(void) {
  RUN(test_trl);
  RUN(test_kto);
  RUN(test_invalid_utf8);
  return unit_report();
}
