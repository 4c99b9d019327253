/* test_export_formats.c — every export format's exact line (docs/export.md "Formats"), the meta
 * fields per family, and canonical JSON / prompt_id as docs/export.md defines them. Expected
 * hashes were computed outside this code with `printf '%s' '<canonical json>' | sha256sum`. */
#include "export/format.h"
#include "test_export_fixture.h"

#define FR_PROMPT \
  "[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":\"Capital of France?\"}]"
#define FR_PROMPT_ID "066a7464f5561f79db1fe1d5f85a64b27a9937f8174fcec0154f48c567d993ac"
#define A_(text) "[{\"role\":\"assistant\",\"content\":\"" text "\"}]"

/* docs/export.md's example: m4 "Paris." rated up, m3 "Lyon." rated down. */
static struct fd_conversation *france_rated(void) {
  struct fd_conversation *c = fx_france("c1");
  fx_rate(c, "r1", "m4", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m3", "u2", -1, 2, 11);
  return c;
}

static void run_fmt(struct fd_conversation *c, enum fd_export_format f, bool meta, struct fx_out *o) {
  struct fd_export_params p = fx_params(f, meta);
  fx_run(&p, &c, 1, o);
}

/* jansson's compact, key-sorted output is docs/export.md's canonical JSON byte for byte. */
static void test_canonical_json(void) {
  json_t *s = json_string("a\"b\\c/d\x01\x1f\b\f\n\r\t\xc3\xa9\x7f\xe2\x80\xa8");
  char *out = fd_canonical_json_alloc(s);
  /* \" \\ \b \f \n \r \t escaped; other controls as \u00XX uppercase; '/', é, DEL and
   * U+2028 left alone. */
  CHECK_STR(out, "\"a\\\"b\\\\c/d\\u0001\\u001F\\b\\f\\n\\r\\t\xc3\xa9\x7f\xe2\x80\xa8\"");
  free(out);
  json_decref(s);

  /* keys sorted bytewise: "B" < "a" < "b" < "\xc3\xa9"; no whitespace anywhere */
  json_t *o = json_pack("{s:i, s:[i,i], s:{s:n, s:b}, s:s}", "b", 1, "a", 1, 2, "\xc3\xa9", "y", "x", 0, "B", "z");
  out = fd_canonical_json_alloc(o);
  CHECK_STR(out, "{\"B\":\"z\",\"a\":[1,2],\"b\":1,\"\xc3\xa9\":{\"x\":false,\"y\":null}}");
  free(out);
  json_decref(o);

  enum fd_export_format f;
  CHECK(fd_export_format_parse("trl-text", &f) && f == FD_FORMAT_TRL_TEXT);
  CHECK(fd_export_format_parse("hh", &f) && f == FD_FORMAT_HH);
  CHECK(!fd_export_format_parse("bco", &f));
  CHECK(!fd_export_format_parse("TRL", &f));
  CHECK_STR(fd_export_format_name(FD_FORMAT_OPENAI), "openai");
}

/* prompt_id of a prompt with characters that need (and that must not get) escapes. */
static void test_prompt_id(void) {
  struct fd_conversation *c = fx_conv("c1");
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Say \"hi\"/ \xc3\xa9\n\x01\x1f", NULL, 1);
  fx_msg(c, "a", "u", FD_ROLE_ASSISTANT, "hi", NULL, 2);
  fx_msg(c, "b", "u", FD_ROLE_ASSISTANT, "no", NULL, 3);
  fx_rate(c, "r1", "a", "u1", 1, 2, 10);
  fx_rate(c, "r2", "b", "u1", -1, 2, 10);
  struct fx_out o;
  run_fmt(c, FD_FORMAT_TRL, true, &o);
  CHECK(o.n == 1);
  /* printf '%s' '[{"content":"Say \"hi\"/ é\n\u0001\u001F","role":"user"}]' | sha256sum */
  CHECK_STR(json_string_value(fx_meta(&o, 0, "prompt_id")),
            "c7ea0fbd0fa9be116ee4b7a64b9e493994d2a3db5f1e6792fcdb71e95835f2c2");
  /* The line itself keeps UTF-8 and '/' as they are. */
  CHECK(strstr(o.lines[0], "\"Say \\\"hi\\\"/ \xc3\xa9\\n\\u0001\\u001F\"") != NULL);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_trl_and_openai(void) {
  struct fd_conversation *c = france_rated();
  struct fx_out o;
  run_fmt(c, FD_FORMAT_TRL, false, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0], "{\"prompt\":" FR_PROMPT ",\"chosen\":" A_("Paris.") ",\"rejected\":" A_("Lyon.") "}\n");
  fx_out_clear(&o);

  run_fmt(c, FD_FORMAT_OPENAI, false, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0], "{\"input\":{\"messages\":" FR_PROMPT
                        "},\"preferred_output\":" A_("Paris.") ",\"non_preferred_output\":" A_("Lyon.") "}\n");
  fx_out_clear(&o);

  /* openai with meta; pair_id is the hash of this format's record:
   * printf '%s' '{"input":{"messages":[{"content":"Be terse.","role":"system"},{"content":"Capital of France?",
   *   "role":"user"}]},"non_preferred_output":[{"content":"Lyon.","role":"assistant"}],
   *   "preferred_output":[{"content":"Paris.","role":"assistant"}]}' | sha256sum */
  run_fmt(c, FD_FORMAT_OPENAI, true, &o);
  CHECK(o.n == 1);
  CHECK_STR(json_string_value(fx_meta(&o, 0, "pair_id")),
            "e1fbcf5ced65847014aa36781b99911b605b6be11da6fcca3d45a2dfc5227418");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_trl_text(void) {
  struct fx_out o;
  /* docs/export.md's example has a system turn: not a single user turn, skipped. */
  struct fd_conversation *c = france_rated();
  run_fmt(c, FD_FORMAT_TRL_TEXT, false, &o);
  CHECK(o.ok && o.n == 0);
  CHECK(fx_count(&o, "skipped", "not_single_turn") == 1);
  CHECK(fx_count(&o, NULL, "records") == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  c = fx_conv("c1");
  fx_msg(c, "m2", NULL, FD_ROLE_USER, "Capital of France?", NULL, 2);
  fx_msg(c, "m3", "m2", FD_ROLE_ASSISTANT, "Lyon.", "chat-v7", 3);
  fx_msg(c, "m4", "m2", FD_ROLE_ASSISTANT, "Paris.", "chat-v7", 4);
  fx_rate(c, "r1", "m4", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m3", "u2", -1, 2, 11);
  run_fmt(c, FD_FORMAT_TRL_TEXT, false, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0], "{\"prompt\":\"Capital of France?\",\"chosen\":\"Paris.\",\"rejected\":\"Lyon.\"}\n");
  CHECK(fx_skipped_total(&o) == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_hh(void) {
  struct fx_out o;
  /* The system turn folds into the first human turn: system text, a blank line, user text. */
  struct fd_conversation *c = france_rated();
  run_fmt(c, FD_FORMAT_HH, false, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0],
            "{\"chosen\":\"\\n\\nHuman: Be terse.\\n\\nCapital of France?\\n\\nAssistant: Paris.\","
            "\"rejected\":\"\\n\\nHuman: Be terse.\\n\\nCapital of France?\\n\\nAssistant: Lyon.\"}\n");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Without a system turn: docs/export.md's example (compact). */
  c = fx_conv("c1");
  fx_msg(c, "m2", NULL, FD_ROLE_USER, "Capital of France?", NULL, 2);
  fx_msg(c, "m3", "m2", FD_ROLE_ASSISTANT, "Lyon.", "chat-v7", 3);
  fx_msg(c, "m4", "m2", FD_ROLE_ASSISTANT, "Paris.", "chat-v7", 4);
  fx_rate(c, "r1", "m4", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m3", "u2", -1, 2, 11);
  run_fmt(c, FD_FORMAT_HH, false, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0],
            "{\"chosen\":\"\\n\\nHuman: Capital of France?\\n\\nAssistant: Paris.\","
            "\"rejected\":\"\\n\\nHuman: Capital of France?\\n\\nAssistant: Lyon.\"}\n");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Multi-turn: earlier assistant turns in the transcript. */
  c = fx_conv("c1");
  fx_msg(c, "s", NULL, FD_ROLE_SYSTEM, "Be brief.", NULL, 1);
  fx_msg(c, "u1", "s", FD_ROLE_USER, "Hi", NULL, 2);
  fx_msg(c, "a1", "u1", FD_ROLE_ASSISTANT, "Hello.", NULL, 3);
  fx_msg(c, "u2", "a1", FD_ROLE_USER, "Weather?", NULL, 4);
  fx_msg(c, "a2", "u2", FD_ROLE_ASSISTANT, "Sunny.", NULL, 5);
  fx_msg(c, "a3", "u2", FD_ROLE_ASSISTANT, "Rain.", NULL, 6);
  fx_rate(c, "r1", "a2", "u1", 1, 2, 10);
  fx_rate(c, "r2", "a3", "u1", -1, 2, 11);
  run_fmt(c, FD_FORMAT_HH, false, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0],
            "{\"chosen\":\"\\n\\nHuman: Be brief.\\n\\nHi\\n\\nAssistant: Hello.\\n\\nHuman: Weather?"
            "\\n\\nAssistant: Sunny.\",\"rejected\":\"\\n\\nHuman: Be brief.\\n\\nHi\\n\\nAssistant: "
            "Hello.\\n\\nHuman: Weather?\\n\\nAssistant: Rain.\"}\n");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* A tool turn in the prompt: unsupported_role; trl keeps it. */
  c = fx_conv("c1");
  fx_msg(c, "m1", NULL, FD_ROLE_USER, "Weather?", NULL, 1);
  fx_msg(c, "m2", "m1", FD_ROLE_ASSISTANT, "get_weather()", NULL, 2);
  fx_msg(c, "m3", "m2", FD_ROLE_TOOL, "clear", NULL, 3);
  fx_msg(c, "m4", "m3", FD_ROLE_ASSISTANT, "Sunny.", NULL, 4);
  fx_msg(c, "m5", "m3", FD_ROLE_ASSISTANT, "Rainy.", NULL, 5);
  fx_rate(c, "r1", "m4", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m5", "u1", -1, 2, 11);
  run_fmt(c, FD_FORMAT_HH, false, &o);
  CHECK(o.ok && o.n == 0);
  CHECK(fx_count(&o, "skipped", "unsupported_role") == 1);
  CHECK(fx_skipped_total(&o) == 1);
  fx_out_clear(&o);
  run_fmt(c, FD_FORMAT_TRL, false, &o);
  CHECK(o.n == 1);
  CHECK(fx_count(&o, "skipped", "unsupported_role") == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_kto_lines(void) {
  struct fd_conversation *c = france_rated();
  struct fx_out o;
  run_fmt(c, FD_FORMAT_KTO, true, &o);
  CHECK(o.n == 2);
  if (o.n == 2) {
    /* siblings in created_at order: m3 (Lyon., down) first */
    CHECK_STR(o.lines[0], "{\"prompt\":" FR_PROMPT ",\"completion\":" A_("Lyon.") ",\"label\":false,\"meta\":{"
                          "\"prompt_id\":\"" FR_PROMPT_ID "\",\"conversation_id\":\"c1\",\"parent_id\":\"m2\","
                          "\"origin\":\"ratings\",\"feedback_ids\":[\"r2\"],\"split\":\"train\",\"model\":\"chat-v7\"}}\n");
    CHECK_STR(o.lines[1], "{\"prompt\":" FR_PROMPT ",\"completion\":" A_("Paris.") ",\"label\":true,\"meta\":{"
                          "\"prompt_id\":\"" FR_PROMPT_ID "\",\"conversation_id\":\"c1\",\"parent_id\":\"m2\","
                          "\"origin\":\"ratings\",\"feedback_ids\":[\"r1\"],\"split\":\"train\",\"model\":\"chat-v7\"}}\n");
  }
  CHECK(fx_count(&o, "by_label", "true") == 1);
  CHECK(fx_count(&o, "by_label", "false") == 1);
  CHECK(json_object_get(o.counts, "by_origin") == NULL); /* pair formats only */
  fx_out_clear(&o);
  run_fmt(c, FD_FORMAT_KTO, false, &o);
  CHECK(o.n == 2);
  if (o.n == 2) CHECK_STR(o.lines[1], "{\"prompt\":" FR_PROMPT ",\"completion\":" A_("Paris.") ",\"label\":true}\n");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_sft_lines(void) {
  struct fd_conversation *c = france_rated();
  struct fx_out o;
  run_fmt(c, FD_FORMAT_SFT, true, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0],
            "{\"messages\":[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":"
            "\"Capital of France?\"},{\"role\":\"assistant\",\"content\":\"Paris.\"}],\"meta\":{"
            "\"prompt_id\":\"" FR_PROMPT_ID
            "\",\"conversation_id\":\"c1\",\"parent_id\":\"m2\","
            "\"origin\":\"ratings\",\"feedback_ids\":[\"r1\"],\"split\":\"train\"}}\n");
  CHECK(json_object_get(o.counts, "by_origin") == NULL);
  CHECK(json_object_get(o.counts, "by_label") == NULL);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

/* The manifest counters always carry all fourteen skip reasons, and the body hash. */
static void test_counts_shape(void) {
  struct fd_conversation *c = france_rated();
  struct fx_out o;
  run_fmt(c, FD_FORMAT_TRL, false, &o);
  const char *keys[] = {"unknown_turn", "trivial_edit", "tie",          "low_agreement",   "invalid_prompt",
                        "duplicate",    "conflict",     "cap",          "not_single_turn", "unsupported_role",
                        "no_consent",   "invalid_span", "invalid_step", "unlabelled"};
  for (int i = 0; i < 14; i++) CHECK(fx_count(&o, "skipped", keys[i]) == 0);
  CHECK(json_object_size(json_object_get(o.counts, "skipped")) == 14);
  /* sha256 of the body = of the one line written */
  char hex[65];
  CHECK(o.n == 1);
  if (o.n == 1) {
    fd_sha256_hex(o.lines[0], strlen(o.lines[0]), hex);
    CHECK_STR(json_string_value(json_object_get(o.counts, "sha256")), hex);
  }
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

int main(void) {
  RUN(test_canonical_json);
  RUN(test_prompt_id);
  RUN(test_trl_and_openai);
  RUN(test_trl_text);
  RUN(test_hh);
  RUN(test_kto_lines);
  RUN(test_sft_lines);
  RUN(test_counts_shape);
  return unit_report();
}
