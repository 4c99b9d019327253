/* test_export_unpaired.c — the unpaired (KTO/BCO) rules and the SFT rules of docs/export.md on
 * hand-built conversations, including their dedup and skip counters. */
#include "test_export_fixture.h"

#define FR_PROMPT \
  "[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":\"Capital of France?\"}]"
#define A_(text) "[{\"role\":\"assistant\",\"content\":\"" text "\"}]"
#define KTO(prompt, text, label) "{\"prompt\":" prompt ",\"completion\":" A_(text) ",\"label\":" label "}"
#define Q_USER "{\"role\":\"user\",\"content\":\"Q?\"}"
#define SFT(text) "{\"messages\":[" Q_USER ",{\"role\":\"assistant\",\"content\":\"" text "\"}]}"

static void run_fmt(struct fd_conversation *c, enum fd_export_format f, bool meta, struct fx_out *o) {
  struct fd_export_params p = fx_params(f, meta);
  fx_run(&p, &c, 1, o);
}

static void test_kto_rules(void) {
  struct fx_out o;
  char buf[128];
  struct fd_conversation *c = fx_france("c1");
  fx_rate(c, "r1", "m3", "u1", 3, 5, 10); /* score 0: rated, but no KTO record */
  fx_rate(c, "r2", "m4", "u2", 1, 2, 11);
  fx_edit(c, "e1", "m3", "u3", "Lyon is wrong; Paris.", 12);
  fx_cmp(c, "k1", "m3", "m4", "u4", FD_OUTCOME_BOTH_BAD, 13);
  /* Edit: (E, true), (M, false); rating: (Paris., true); both_bad: (Lyon., false) again —
   * merged with the edit's — and (Paris., false). */
  run_fmt(c, FD_FORMAT_KTO, false, &o);
  CHECK(o.n == 4);
  if (o.n == 4) {
    CHECK_STR(o.lines[0], KTO(FR_PROMPT, "Lyon is wrong; Paris.", "true") "\n");
    CHECK_STR(o.lines[1], KTO(FR_PROMPT, "Lyon.", "false") "\n");
    CHECK_STR(o.lines[2], KTO(FR_PROMPT, "Paris.", "true") "\n");
    CHECK_STR(o.lines[3], KTO(FR_PROMPT, "Paris.", "false") "\n");
  }
  CHECK(fx_count(&o, "skipped", "duplicate") == 1);
  CHECK(fx_skipped_total(&o) == 1);
  CHECK(fx_count(&o, "by_label", "true") == 2);
  CHECK(fx_count(&o, "by_label", "false") == 2);
  CHECK(fx_count(&o, NULL, "records") == 4);
  fx_out_clear(&o);

  /* With meta: the merged (Lyon., false) lists the edit and the both_bad vote. */
  run_fmt(c, FD_FORMAT_KTO, true, &o);
  CHECK(o.n == 4);
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "e1");
  CHECK_STR(json_string_value(fx_meta(&o, 0, "origin")), "edit");
  CHECK_STR(fx_ids(&o, 1, buf, sizeof buf), "e1,k1");
  CHECK_STR(json_string_value(fx_meta(&o, 1, "origin")), "edit");
  CHECK_STR(json_string_value(fx_meta(&o, 1, "model")), "chat-v7");
  CHECK_STR(fx_ids(&o, 2, buf, sizeof buf), "r2");
  CHECK_STR(json_string_value(fx_meta(&o, 3, "origin")), "both_bad");
  CHECK_STR(fx_ids(&o, 3, buf, sizeof buf), "k1");
  CHECK(fx_meta(&o, 3, "pair_id") == NULL); /* KTO meta: base fields + model */
  CHECK(fx_meta(&o, 3, "margin") == NULL);
  CHECK(fx_count(&o, "skipped", "duplicate") == 1);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_kto_skips(void) {
  struct fx_out o;
  char buf[128];
  /* A trivial edit gives nothing (one trivial_edit); a preferred comparison gives nothing in
   * KTO; a both_bad of non-siblings gives nothing. */
  struct fd_conversation *c = fx_france("c1");
  fx_msg(c, "m5", "m4", FD_ROLE_USER, "And Spain?", NULL, 5);
  fx_msg(c, "m6", "m5", FD_ROLE_ASSISTANT, "Madrid.", "chat-v7", 6);
  fx_edit(c, "e1", "m3", "u1", " Lyon. ", 10);
  fx_cmp(c, "k1", "m4", "m3", "u2", FD_OUTCOME_PREFERRED, 11);
  fx_cmp(c, "k2", "m4", "m6", "u3", FD_OUTCOME_BOTH_BAD, 12);
  run_fmt(c, FD_FORMAT_KTO, false, &o);
  CHECK(o.ok && o.n == 0);
  CHECK(fx_count(&o, "skipped", "trivial_edit") == 1);
  CHECK(fx_skipped_total(&o) == 1);
  CHECK(fx_count(&o, "by_label", "true") == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Two users' both_bad votes: each gives two false records; the second pair is merged. */
  c = fx_france("c1");
  fx_cmp(c, "k1", "m3", "m4", "u1", FD_OUTCOME_BOTH_BAD, 10);
  fx_cmp(c, "k2", "m4", "m3", "u2", FD_OUTCOME_BOTH_BAD, 11);
  run_fmt(c, FD_FORMAT_KTO, true, &o);
  CHECK(o.n == 2);
  if (o.n == 2) {
    CHECK(strncmp(o.lines[0], KTO(FR_PROMPT, "Lyon.", "false"), strlen(KTO(FR_PROMPT, "Lyon.", "false")) - 1) == 0);
    CHECK(strncmp(o.lines[1], KTO(FR_PROMPT, "Paris.", "false"), strlen(KTO(FR_PROMPT, "Paris.", "false")) - 1) == 0);
  }
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "k1,k2");
  CHECK_STR(fx_ids(&o, 1, buf, sizeof buf), "k1,k2");
  CHECK(fx_count(&o, "skipped", "duplicate") == 2);
  CHECK(fx_count(&o, "by_label", "false") == 2);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* unknown_turn is counted in KTO too. */
  c = fx_conv("c1");
  fx_msg(c, "m2", "gone", FD_ROLE_USER, "Q?", NULL, 1);
  fx_msg(c, "m3", "m2", FD_ROLE_ASSISTANT, "a", NULL, 2);
  fx_rate(c, "r1", "m3", "u1", 1, 2, 10);
  run_fmt(c, FD_FORMAT_KTO, false, &o);
  CHECK(o.n == 0);
  CHECK(fx_count(&o, "skipped", "unknown_turn") == 1);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_sft_rules(void) {
  struct fx_out o;
  char buf[128];
  struct fd_conversation *c = fx_conv("c1");
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Q?", NULL, 0);
  fx_msg(c, "A", "u", FD_ROLE_ASSISTANT, "a", NULL, 1);
  fx_msg(c, "B", "u", FD_ROLE_ASSISTANT, "b", NULL, 2);
  fx_msg(c, "C", "u", FD_ROLE_ASSISTANT, "c", NULL, 3);
  fx_msg(c, "D", "u", FD_ROLE_ASSISTANT, "d", NULL, 4);
  fx_rate(c, "r1", "A", "u1", 1, 2, 10); /* A: thumbs up and 5/5: score-1 ratings only */
  fx_rate(c, "r2", "A", "u2", 5, 5, 10);
  fx_rate(c, "r3", "B", "u1", 1, 2, 10); /* B: one rating below 0 disqualifies */
  fx_rate(c, "r4", "B", "u2", -1, 2, 10);
  fx_rate(c, "r5", "C", "u1", 4, 5, 10); /* C: 0.5 is not 1 */
  fx_rate(c, "r6", "D", "u1", 5, 5, 10); /* D: 5/5 and 3/5 (0, not below 0) */
  fx_rate(c, "r7", "D", "u2", 3, 5, 10);
  fx_edit(c, "e1", "B", "u3", "b, better", 11);
  fx_edit(c, "e2", "C", "u4", "  c\n", 12); /* trivial */
  run_fmt(c, FD_FORMAT_SFT, true, &o);
  CHECK(o.n == 3);
  if (o.n == 3) {
    CHECK(strncmp(o.lines[0], SFT("b, better"), strlen(SFT("b, better")) - 1) == 0);
    CHECK(strncmp(o.lines[1], SFT("a"), strlen(SFT("a")) - 1) == 0);
    CHECK(strncmp(o.lines[2], SFT("d"), strlen(SFT("d")) - 1) == 0);
  }
  CHECK_STR(json_string_value(fx_meta(&o, 0, "origin")), "edit");
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "e1");
  CHECK_STR(json_string_value(fx_meta(&o, 1, "origin")), "ratings");
  CHECK_STR(fx_ids(&o, 1, buf, sizeof buf), "r1,r2");
  CHECK_STR(fx_ids(&o, 2, buf, sizeof buf), "r6,r7");
  CHECK(fx_meta(&o, 2, "model") == NULL); /* SFT meta has the base fields only */
  CHECK(fx_meta(&o, 2, "n_votes") == NULL);
  CHECK(fx_count(&o, "skipped", "trivial_edit") == 1);
  CHECK(fx_skipped_total(&o) == 1);
  fx_out_clear(&o);

  run_fmt(c, FD_FORMAT_SFT, false, &o);
  CHECK(o.n == 3);
  if (o.n == 3) CHECK_STR(o.lines[1], SFT("a") "\n");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* An edit whose text equals a score-1 sibling: the same SFT record, merged. */
  c = fx_conv("c1");
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Q?", NULL, 0);
  fx_msg(c, "A", "u", FD_ROLE_ASSISTANT, "a", NULL, 1);
  fx_msg(c, "B", "u", FD_ROLE_ASSISTANT, "b", NULL, 2);
  fx_rate(c, "r1", "A", "u1", 1, 2, 10);
  fx_edit(c, "e1", "B", "u2", "a", 11);
  run_fmt(c, FD_FORMAT_SFT, true, &o);
  CHECK(o.n == 1);
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "e1,r1");
  CHECK(fx_count(&o, "skipped", "duplicate") == 1);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

int main(void) {
  RUN(test_kto_rules);
  RUN(test_kto_skips);
  RUN(test_sft_rules);
  return unit_report();
}
