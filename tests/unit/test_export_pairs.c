/* test_export_pairs.c — pair rules 1-3 of docs/export.md on hand-built conversations: votes that
 * count, score margins, trivial edits, comparison agreement, ties, conflicts and the cap of 4,
 * missing turns and invalid prompts. Every expected line is written out by hand. */
#include <math.h>

#include "export/rules.h"
#include "test_export_fixture.h"

/* docs/export.md's running example, as trl lines. */
#define FR_PROMPT \
  "[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":\"Capital of France?\"}]"
#define A_(text) "[{\"role\":\"assistant\",\"content\":\"" text "\"}]"
#define TRL(prompt, chosen, rejected) "{\"prompt\":" prompt ",\"chosen\":" A_(chosen) ",\"rejected\":" A_(rejected) "}"
#define PARIS_OVER_LYON TRL(FR_PROMPT, "Paris.", "Lyon.")
/* printf '%s' '[{"content":"Be terse.","role":"system"},{"content":"Capital of France?","role":"user"}]' | sha256sum */
#define FR_PROMPT_ID "066a7464f5561f79db1fe1d5f85a64b27a9937f8174fcec0154f48c567d993ac"
/* printf '%s' '{"chosen":[{"content":"Paris.","role":"assistant"}],"prompt":[{"content":"Be terse.","role":"system"},
 *   {"content":"Capital of France?","role":"user"}],"rejected":[{"content":"Lyon.","role":"assistant"}]}' | sha256sum
 */
#define PARIS_OVER_LYON_ID "74dcee4b8bc241e4c538d3b54120f719d56ed075a060d3bed93b5bf2100ce801"
/* the same for the edit record chosen "Paris, not Lyon.", rejected "Lyon." */
#define PARIS_NOT_LYON_ID "ced6c96e2d6386b95c51f1623838f1fead489bcea46cb4f5972e3467a28cbbdf"

/* Run one conversation through a trl export. */
static void run1(struct fd_conversation *c, bool meta, double min_margin, struct fx_out *o) {
  struct fd_export_params p = fx_params(FD_FORMAT_TRL, meta);
  p.min_margin = min_margin;
  fx_run(&p, &c, 1, o);
}

static void test_thumbs_vs_thumbs(void) {
  struct fd_conversation *c = fx_france("c1");
  fx_rate(c, "r1", "m4", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m3", "u2", -1, 2, 11);
  struct fx_out o;
  run1(c, true, 1.0, &o);
  CHECK(o.ok);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0],
            "{\"prompt\":" FR_PROMPT ",\"chosen\":" A_("Paris.") ",\"rejected\":" A_("Lyon.") ",\"meta\":{"
            "\"prompt_id\":\"" FR_PROMPT_ID "\",\"conversation_id\":\"c1\",\"parent_id\":\"m2\",\"origin\":\"ratings\","
            "\"feedback_ids\":[\"r1\",\"r2\"],\"split\":\"train\",\"pair_id\":\"" PARIS_OVER_LYON_ID "\","
            "\"margin\":2.0,\"n_votes\":2,\"agreement\":null,\"models\":{\"chosen\":\"chat-v7\",\"rejected\":\"chat-v7\"}}}\n");
  CHECK(fx_count(&o, NULL, "records") == 1);
  CHECK(fx_count(&o, "by_split", "train") == 1);
  CHECK(fx_count(&o, "by_split", "test") == 0);
  CHECK(fx_count(&o, "by_origin", "ratings") == 1);
  CHECK(fx_count(&o, "by_origin", "edit") == 0);
  CHECK(json_object_get(o.counts, "by_label") == NULL); /* only for kto */
  CHECK(fx_skipped_total(&o) == 0);
  fx_out_clear(&o);

  /* Without meta: the bare record. */
  run1(c, false, 1.0, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0], PARIS_OVER_LYON "\n");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Two thumbs-up: equal scores, no pair; two thumbs-down likewise. */
  c = fx_france("c1");
  fx_rate(c, "r1", "m4", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m3", "u2", 1, 2, 11);
  run1(c, false, 1.0, &o);
  CHECK(o.ok && o.n == 0);
  CHECK(fx_skipped_total(&o) == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* One rated sibling only: unrated siblings are never paired. */
  c = fx_france("c1");
  fx_rate(c, "r1", "m4", "u1", 1, 2, 10);
  run1(c, false, 0.0, &o);
  CHECK(o.ok && o.n == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

/* Scale ratings: s = 2(v-1)/(n-1) - 1. */
static void test_scale_margins(void) {
  struct fx_out o;
  /* 4/5 (0.5) against 2/5 (-0.5): margin 1, qualifies at the default min_margin 1.0. */
  struct fd_conversation *c = fx_france("c1");
  fx_rate(c, "r1", "m3", "u1", 4, 5, 10);
  fx_rate(c, "r2", "m4", "u1", 2, 5, 11);
  run1(c, true, 1.0, &o);
  CHECK(o.n == 1);
  json_t *rec = fx_parse(&o, 0);
  json_object_del(rec, "meta");
  char *bare = json_dumps(rec, JSON_COMPACT);
  CHECK_STR(bare, TRL(FR_PROMPT, "Lyon.", "Paris."));
  free(bare);
  json_decref(rec);
  CHECK(json_real_value(fx_meta(&o, 0, "margin")) == 1.0);
  fx_out_clear(&o);
  /* Tolerance 1e-9: a min_margin a hair above 1 still admits margin 1 ... */
  run1(c, false, 1.0 + 5e-10, &o);
  CHECK(o.n == 1);
  fx_out_clear(&o);
  /* ... but not one clearly above. */
  run1(c, false, 1.0 + 2e-9, &o);
  CHECK(o.n == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* 4/5 (0.5) against 3/5 (0): margin 0.5 does not qualify at 1.0, does at 0.5. */
  c = fx_france("c1");
  fx_rate(c, "r1", "m3", "u1", 4, 5, 10);
  fx_rate(c, "r2", "m4", "u1", 3, 5, 11);
  run1(c, false, 1.0, &o);
  CHECK(o.ok && o.n == 0);
  CHECK(fx_skipped_total(&o) == 0);
  fx_out_clear(&o);
  run1(c, false, 0.5, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0], TRL(FR_PROMPT, "Lyon.", "Paris.") "\n");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* 3/4 is 1/3 and 1/4 is -1: margin 4/3, inexact in binary; min_margin 4/3 must admit it. */
  c = fx_france("c1");
  fx_rate(c, "r1", "m4", "u1", 3, 4, 10);
  fx_rate(c, "r2", "m3", "u1", 1, 4, 11);
  run1(c, true, 4.0 / 3.0, &o);
  CHECK(o.n == 1);
  CHECK(fabs(json_real_value(fx_meta(&o, 0, "margin")) - 4.0 / 3.0) < 1e-12);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* A message's score is the mean of its counting ratings: m4 = (1 + 0.5)/2 = 0.75 against
   * m3 = -1 (thumbs down): margin 1.75. */
  c = fx_france("c1");
  fx_rate(c, "r1", "m4", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m4", "u2", 4, 5, 11);
  fx_rate(c, "r3", "m3", "u1", -1, 2, 12);
  run1(c, true, 1.0, &o);
  CHECK(o.n == 1);
  CHECK(fabs(json_real_value(fx_meta(&o, 0, "margin")) - 1.75) < 1e-12);
  CHECK(json_integer_value(fx_meta(&o, 0, "n_votes")) == 3);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_edits(void) {
  CHECK(fd_text_equal_ws("Lyon.", "  Lyon.\n"));
  CHECK(fd_text_equal_ws("a  b\tc", "a b c"));
  CHECK(fd_text_equal_ws("", " \n\t"));
  CHECK(!fd_text_equal_ws("Lyon.", "Lyon ."));
  CHECK(!fd_text_equal_ws("ab", "a b"));
  CHECK(!fd_text_equal_ws("Lyon.", "Lyon"));
  CHECK(!fd_text_equal_ws("Lyon", "Lyon."));
  CHECK(!fd_text_equal_ws("lyon.", "Lyon."));

  struct fx_out o;
  struct fd_conversation *c = fx_france("c1");
  fx_edit(c, "e1", "m3", "u1", "  Lyon.\n\n", 10); /* trivial */
  fx_edit(c, "e2", "m3", "u2", "Paris, not Lyon.", 11);
  run1(c, true, 1.0, &o);
  CHECK(o.ok);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0],
            "{\"prompt\":" FR_PROMPT ",\"chosen\":" A_("Paris, not Lyon.") ",\"rejected\":" A_("Lyon.") ",\"meta\":{"
            "\"prompt_id\":\"" FR_PROMPT_ID "\",\"conversation_id\":\"c1\",\"parent_id\":\"m2\",\"origin\":\"edit\","
            "\"feedback_ids\":[\"e2\"],\"split\":\"train\",\"pair_id\":\"" PARIS_NOT_LYON_ID "\",\"margin\":null,"
            "\"n_votes\":1,\"agreement\":null,\"models\":{\"chosen\":\"chat-v7\",\"rejected\":\"chat-v7\"}}}\n");
  CHECK(fx_count(&o, "skipped", "trivial_edit") == 1);
  CHECK(fx_skipped_total(&o) == 1);
  CHECK(fx_count(&o, "by_origin", "edit") == 1);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

/* One comparison scenario on docs/export.md's example: votes as "3>4" (m3 preferred), "4>3",
 * "tie", "bad" (both_bad), each by its own user. */
static void run_votes(const char *const *votes, int n, bool meta, struct fx_out *o) {
  struct fd_conversation *c = fx_france("c1");
  char id[16], user[16];
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof id, "k%d", i + 1);
    snprintf(user, sizeof user, "u%d", i + 1);
    if (strcmp(votes[i], "3>4") == 0)
      fx_cmp(c, id, "m3", "m4", user, FD_OUTCOME_PREFERRED, 10 + i);
    else if (strcmp(votes[i], "4>3") == 0)
      fx_cmp(c, id, "m4", "m3", user, FD_OUTCOME_PREFERRED, 10 + i);
    else if (strcmp(votes[i], "tie") == 0)
      fx_cmp(c, id, "m4", "m3", user, FD_OUTCOME_TIE, 10 + i);
    else
      fx_cmp(c, id, "m3", "m4", user, FD_OUTCOME_BOTH_BAD, 10 + i);
  }
  run1(c, meta, 1.0, o);
  fx_free_convs(&c, 1);
}

static void test_comparisons(void) {
  struct fx_out o;
  char buf[256];
  /* 2 against 1: agreement exactly 2/3, kept. */
  const char *v1[] = {"4>3", "3>4", "4>3"};
  run_votes(v1, 3, true, &o);
  CHECK(o.n == 1);
  CHECK(strncmp(o.lines[0], PARIS_OVER_LYON, strlen(PARIS_OVER_LYON) - 1) == 0);
  CHECK_STR(json_string_value(fx_meta(&o, 0, "origin")), "comparison");
  CHECK(fabs(json_real_value(fx_meta(&o, 0, "agreement")) - 2.0 / 3.0) < 1e-12);
  CHECK(json_is_null(fx_meta(&o, 0, "margin"))); /* neither message rated */
  CHECK(json_integer_value(fx_meta(&o, 0, "n_votes")) == 3);
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "k1,k2,k3");
  CHECK_STR(json_string_value(fx_meta(&o, 0, "pair_id")), PARIS_OVER_LYON_ID);
  CHECK(fx_count(&o, "by_origin", "comparison") == 1);
  CHECK(fx_skipped_total(&o) == 0);
  fx_out_clear(&o);

  /* 2 against 1 plus a tie: 2/4 < 2/3. */
  const char *v2[] = {"4>3", "3>4", "4>3", "tie"};
  run_votes(v2, 4, false, &o);
  CHECK(o.ok && o.n == 0);
  CHECK(fx_count(&o, "skipped", "low_agreement") == 1);
  CHECK(fx_skipped_total(&o) == 1);
  fx_out_clear(&o);

  /* 1 against 1: a = b, no pair, skipped as tie. */
  const char *v3[] = {"4>3", "3>4"};
  run_votes(v3, 2, false, &o);
  CHECK(o.n == 0);
  CHECK(fx_count(&o, "skipped", "tie") == 1);
  CHECK(fx_skipped_total(&o) == 1);
  fx_out_clear(&o);

  /* Only tie votes: a = b = 0. */
  const char *v4[] = {"tie", "tie"};
  run_votes(v4, 2, false, &o);
  CHECK(o.n == 0);
  CHECK(fx_count(&o, "skipped", "tie") == 1);
  fx_out_clear(&o);

  /* both_bad counts in the denominator: 2 + 1 both_bad = 2/3 kept ... */
  const char *v5[] = {"3>4", "bad", "3>4"};
  run_votes(v5, 3, true, &o);
  CHECK(o.n == 1);
  CHECK(strncmp(o.lines[0], TRL(FR_PROMPT, "Lyon.", "Paris."), strlen(TRL(FR_PROMPT, "Lyon.", "Paris.")) - 1) == 0);
  CHECK(fabs(json_real_value(fx_meta(&o, 0, "agreement")) - 2.0 / 3.0) < 1e-12);
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "k1,k2,k3"); /* every counting vote on the pair */
  fx_out_clear(&o);
  /* ... 2 + 2 both_bad = 1/2 is not. */
  const char *v6[] = {"3>4", "bad", "3>4", "bad"};
  run_votes(v6, 4, false, &o);
  CHECK(o.n == 0);
  CHECK(fx_count(&o, "skipped", "low_agreement") == 1);
  fx_out_clear(&o);

  /* 4 against 2 = 2/3 kept; 3 against 1 plus a tie = 3/5 below. */
  const char *v7[] = {"4>3", "4>3", "3>4", "4>3", "3>4", "4>3"};
  run_votes(v7, 6, true, &o);
  CHECK(o.n == 1);
  CHECK(fabs(json_real_value(fx_meta(&o, 0, "agreement")) - 4.0 / 6.0) < 1e-12);
  fx_out_clear(&o);
  const char *v8[] = {"4>3", "4>3", "3>4", "4>3", "tie"};
  run_votes(v8, 5, false, &o);
  CHECK(o.n == 0);
  CHECK(fx_count(&o, "skipped", "low_agreement") == 1);
  fx_out_clear(&o);

  /* A single vote: agreement 1. */
  const char *v9[] = {"4>3"};
  run_votes(v9, 1, true, &o);
  CHECK(o.n == 1);
  CHECK(json_real_value(fx_meta(&o, 0, "agreement")) == 1.0);
  fx_out_clear(&o);
}

/* Comparisons of non-siblings or unknown messages give nothing. */
static void test_comparison_non_siblings(void) {
  struct fx_out o;
  struct fd_conversation *c = fx_france("c1");
  fx_msg(c, "m5", "m4", FD_ROLE_USER, "And of Spain?", NULL, 5);
  fx_msg(c, "m6", "m5", FD_ROLE_ASSISTANT, "Madrid.", "chat-v7", 6);
  fx_cmp(c, "k1", "m4", "m6", "u1", FD_OUTCOME_PREFERRED, 10);    /* different parents */
  fx_cmp(c, "k2", "m4", "m2", "u1", FD_OUTCOME_PREFERRED, 11);    /* a user turn */
  fx_cmp(c, "k3", "m4", "ghost", "u1", FD_OUTCOME_PREFERRED, 12); /* never logged */
  fx_cmp(c, "k4", "m4", "m4", "u2", FD_OUTCOME_PREFERRED, 13);    /* itself */
  run1(c, false, 1.0, &o);
  CHECK(o.ok && o.n == 0);
  CHECK(fx_skipped_total(&o) == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

/* The latest event per (user, message, kind) counts: by created_at, then arrival. */
static void test_revotes(void) {
  struct fx_out o;
  char buf[256];
  /* u1 changes a thumbs-up on m3 into a thumbs-down. */
  struct fd_conversation *c = fx_france("c1");
  fx_rate(c, "r1", "m3", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m3", "u1", -1, 2, 20);
  fx_rate(c, "r3", "m4", "u2", 1, 2, 15);
  run1(c, true, 1.0, &o);
  CHECK(o.n == 1);
  CHECK(strncmp(o.lines[0], PARIS_OVER_LYON, strlen(PARIS_OVER_LYON) - 1) == 0);
  CHECK(json_real_value(fx_meta(&o, 0, "margin")) == 2.0);
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "r2,r3");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* created_at wins over arrival: the thumbs-down arrived first but is the later one. */
  c = fx_france("c1");
  fx_rate(c, "r1", "m3", "u1", -1, 2, 20);
  fx_rate(c, "r2", "m3", "u1", 1, 2, 10);
  fx_rate(c, "r3", "m4", "u2", 1, 2, 15);
  run1(c, true, 1.0, &o);
  CHECK(o.n == 1);
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "r1,r3");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Equal created_at: arrival order (seq) decides. */
  c = fx_france("c1");
  fx_rate(c, "r1", "m3", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m3", "u1", -1, 2, 10);
  fx_rate(c, "r3", "m4", "u2", 1, 2, 15);
  run1(c, true, 1.0, &o);
  CHECK(o.n == 1);
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "r2,r3");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Ratings of different users on the same message all count; a thumbs rating and a scale
   * rating of the same user are the same kind, so the later one replaces the earlier. */
  c = fx_france("c1");
  fx_rate(c, "r1", "m3", "u1", -1, 2, 10);
  fx_rate(c, "r2", "m3", "u1", 1, 5, 11); /* u1 now says 1/5 = -1 */
  fx_rate(c, "r3", "m4", "u1", 1, 2, 12);
  fx_rate(c, "r4", "m4", "u2", 1, 2, 13);
  run1(c, true, 1.0, &o);
  CHECK(o.n == 1);
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "r2,r3,r4");
  CHECK(json_integer_value(fx_meta(&o, 0, "n_votes")) == 3);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* A comparison re-vote in the other direction is the same unordered pair. */
  c = fx_france("c1");
  fx_cmp(c, "k1", "m3", "m4", "u1", FD_OUTCOME_PREFERRED, 10);
  fx_cmp(c, "k2", "m4", "m3", "u1", FD_OUTCOME_PREFERRED, 20);
  run1(c, true, 1.0, &o);
  CHECK(o.n == 1);
  CHECK(strncmp(o.lines[0], PARIS_OVER_LYON, strlen(PARIS_OVER_LYON) - 1) == 0);
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "k2");
  CHECK(json_real_value(fx_meta(&o, 0, "agreement")) == 1.0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_retractions(void) {
  struct fx_out o;
  char buf[256];
  /* u1's latest rating of m3 is retracted: none of u1's ratings of m3 count (the earlier
   * thumbs-down does not come back); the anonymous one does. */
  struct fd_conversation *c = fx_france("c1");
  fx_rate(c, "r0", "m3", NULL, -1, 2, 5);
  fx_rate(c, "r1", "m3", "u1", -1, 2, 10);
  fx_rate(c, "r2", "m3", "u1", 1, 2, 20);
  fx_retract_last(c);
  fx_rate(c, "r3", "m4", "u2", 1, 2, 15);
  run1(c, true, 1.0, &o);
  CHECK(o.n == 1);
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "r0,r3");
  CHECK(json_integer_value(fx_meta(&o, 0, "n_votes")) == 2);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Without the anonymous rating m3 is unrated: no pair at all. */
  c = fx_france("c1");
  fx_rate(c, "r1", "m3", "u1", -1, 2, 10);
  fx_rate(c, "r2", "m3", "u1", 1, 2, 20);
  fx_retract_last(c);
  fx_rate(c, "r3", "m4", "u2", 1, 2, 15);
  run1(c, false, 1.0, &o);
  CHECK(o.ok && o.n == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* A retracted latest comparison vote: nothing of that rater counts on the pair. */
  c = fx_france("c1");
  fx_cmp(c, "k1", "m4", "m3", "u1", FD_OUTCOME_PREFERRED, 10);
  fx_cmp(c, "k2", "m4", "m3", "u1", FD_OUTCOME_PREFERRED, 20);
  fx_retract_last(c);
  run1(c, false, 1.0, &o);
  CHECK(o.ok && o.n == 0);
  CHECK(fx_skipped_total(&o) == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Anonymous events each count on their own; a retracted anonymous one does not. */
  c = fx_france("c1");
  fx_rate(c, "a1", "m3", NULL, -1, 2, 10);
  fx_rate(c, "a2", "m3", NULL, -1, 2, 11);
  fx_rate(c, "a3", "m3", NULL, 1, 2, 12);
  fx_retract_last(c);
  fx_rate(c, "r1", "m4", "u1", 1, 2, 13);
  run1(c, true, 1.0, &o);
  CHECK(o.n == 1);
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "a1,a2,r1");
  CHECK(json_real_value(fx_meta(&o, 0, "margin")) == 2.0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

/* unknown_turn / invalid_prompt count logged assistant messages named by counting events. */
static void test_unknown_and_invalid_prompts(void) {
  struct fx_out o;
  /* The user turn's parent was never logged. */
  struct fd_conversation *c = fx_conv("c1");
  fx_msg(c, "m2", "gone", FD_ROLE_USER, "Capital of France?", NULL, 2);
  fx_msg(c, "m3", "m2", FD_ROLE_ASSISTANT, "Lyon.", "chat-v7", 3);
  fx_msg(c, "m4", "m2", FD_ROLE_ASSISTANT, "Paris.", "chat-v7", 4);
  fx_msg(c, "m5", "m2", FD_ROLE_ASSISTANT, "Marseille.", "chat-v7", 5); /* nobody judged it */
  fx_rate(c, "r1", "m4", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m3", "u1", -1, 2, 11);
  fx_cmp(c, "k1", "m4", "m3", "u2", FD_OUTCOME_PREFERRED, 12); /* names m3 and m4 again */
  fx_rate(c, "r3", "ghost", "u1", 1, 2, 13);                   /* a message never logged */
  fx_rate(c, "r4", "m3", "u3", 1, 2, 14);
  fx_retract_last(c);
  run1(c, false, 1.0, &o);
  CHECK(o.ok && o.n == 0);
  CHECK(fx_count(&o, "skipped", "unknown_turn") == 2);
  CHECK(fx_skipped_total(&o) == 2);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* A cycle in the parent links cannot be rebuilt either. */
  c = fx_conv("c1");
  fx_msg(c, "x1", "x2", FD_ROLE_USER, "a", NULL, 1);
  fx_msg(c, "x2", "x1", FD_ROLE_USER, "b", NULL, 2);
  fx_msg(c, "x3", "x2", FD_ROLE_ASSISTANT, "c", NULL, 3);
  fx_rate(c, "r1", "x3", "u1", 1, 2, 10);
  run1(c, false, 1.0, &o);
  CHECK(fx_count(&o, "skipped", "unknown_turn") == 1);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Prompts ending with an assistant turn, and an assistant message at the root. */
  c = fx_conv("c1");
  fx_msg(c, "m1", NULL, FD_ROLE_USER, "Hi", NULL, 1);
  fx_msg(c, "m2", "m1", FD_ROLE_ASSISTANT, "Hello.", "chat-v7", 2);
  fx_msg(c, "m3", "m2", FD_ROLE_ASSISTANT, "More hello.", "chat-v7", 3);
  fx_msg(c, "m4", "m2", FD_ROLE_ASSISTANT, "Even more.", "chat-v7", 4);
  fx_msg(c, "m9", NULL, FD_ROLE_ASSISTANT, "Unprompted.", "chat-v7", 5);
  fx_rate(c, "r1", "m3", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m4", "u1", -1, 2, 11);
  fx_edit(c, "e1", "m9", "u1", "Prompted.", 12);
  fx_rate(c, "r3", "m2", "u1", 1, 2, 13); /* valid prompt, alone: nothing, no skip */
  fx_rate(c, "r4", "m1", "u1", 1, 2, 14); /* a user turn: ignored */
  run1(c, false, 1.0, &o);
  CHECK(o.ok && o.n == 0);
  CHECK(fx_count(&o, "skipped", "invalid_prompt") == 3);
  CHECK(fx_skipped_total(&o) == 3);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* A prompt ending with a tool turn is valid. */
  c = fx_conv("c1");
  fx_msg(c, "m1", NULL, FD_ROLE_USER, "Weather?", NULL, 1);
  fx_msg(c, "m2", "m1", FD_ROLE_ASSISTANT, "get_weather()", "chat-v7", 2);
  fx_msg(c, "m3", "m2", FD_ROLE_TOOL, "{\"sky\":\"clear\"}", NULL, 3);
  fx_msg(c, "m4", "m3", FD_ROLE_ASSISTANT, "Sunny.", "chat-v7", 4);
  fx_msg(c, "m5", "m3", FD_ROLE_ASSISTANT, "Rainy.", "chat-v7", 5);
  fx_rate(c, "r1", "m4", "u1", 1, 2, 10);
  fx_rate(c, "r2", "m5", "u1", -1, 2, 11);
  run1(c, false, 1.0, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0], TRL("[{\"role\":\"user\",\"content\":\"Weather?\"},{\"role\":\"assistant\",\"content\":"
                            "\"get_weather()\"},{\"role\":\"tool\",\"content\":\"{\\\"sky\\\":\\\"clear\\\"}\"}]",
                            "Sunny.", "Rainy.") "\n");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

/* A multi-turn prompt with a system turn: every turn from the root, in order; turns after
 * the response are not part of it. */
static void test_multi_turn(void) {
  struct fx_out o;
  struct fd_conversation *c = fx_conv("c1");
  fx_msg(c, "s", NULL, FD_ROLE_SYSTEM, "Be brief.", NULL, 1);
  fx_msg(c, "u1", "s", FD_ROLE_USER, "Hi", NULL, 2);
  fx_msg(c, "a1", "u1", FD_ROLE_ASSISTANT, "Hello.", "chat-v7", 3);
  fx_msg(c, "u2", "a1", FD_ROLE_USER, "Weather?", NULL, 4);
  fx_msg(c, "a2", "u2", FD_ROLE_ASSISTANT, "Sunny.", "chat-v7", 5);
  fx_msg(c, "a3", "u2", FD_ROLE_ASSISTANT, "Rain.", "chat-v7", 6);
  fx_msg(c, "u3", "a2", FD_ROLE_USER, "Thanks", NULL, 7);
  fx_rate(c, "r1", "a2", "u1", 1, 2, 10);
  fx_rate(c, "r2", "a3", "u1", -1, 2, 11);
  run1(c, false, 1.0, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0],
            TRL("[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi\"},"
                "{\"role\":\"assistant\",\"content\":\"Hello.\"},{\"role\":\"user\",\"content\":\"Weather?\"}]",
                "Sunny.", "Rain.") "\n");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

#define Q_PROMPT "[{\"role\":\"user\",\"content\":\"Q?\"}]"

/* At most 4 rated pairs per sibling group, best-ranked sibling's pairs first. */
static void test_cap(void) {
  struct fx_out o;
  struct fd_conversation *c = fx_conv("c1");
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Q?", NULL, 0);
  /* Scores (scale 5): p = q = 1 (q created earlier: ranked first although its id sorts
   * later), t = 0, s = r = -1 (same created_at: id m-r1 (text "s") before m-r2 (text "r")). */
  fx_msg(c, "m-p", "u", FD_ROLE_ASSISTANT, "p", "chat-v7", 2);
  fx_msg(c, "m-q", "u", FD_ROLE_ASSISTANT, "q", "chat-v7", 1);
  fx_msg(c, "m-t", "u", FD_ROLE_ASSISTANT, "t", "chat-v7", 4);
  fx_msg(c, "m-r2", "u", FD_ROLE_ASSISTANT, "r", "chat-v7", 5);
  fx_msg(c, "m-r1", "u", FD_ROLE_ASSISTANT, "s", "chat-v7", 5);
  fx_rate(c, "e1", "m-p", "u1", 5, 5, 10);
  fx_rate(c, "e2", "m-q", "u1", 5, 5, 10);
  fx_rate(c, "e3", "m-t", "u1", 3, 5, 10);
  fx_rate(c, "e4", "m-r2", "u1", 1, 5, 10);
  fx_rate(c, "e5", "m-r1", "u1", 1, 5, 10);
  /* Qualifying pairs (margin >= 1), in order: q>s 2, q>r 2, q>t 1 | p>s 2, p>r 2, p>t 1 |
   * t>s 1, t>r 1. The first four are kept. */
  run1(c, false, 1.0, &o);
  CHECK(o.n == 4);
  if (o.n == 4) {
    CHECK_STR(o.lines[0], TRL(Q_PROMPT, "q", "s") "\n");
    CHECK_STR(o.lines[1], TRL(Q_PROMPT, "q", "r") "\n");
    CHECK_STR(o.lines[2], TRL(Q_PROMPT, "q", "t") "\n");
    CHECK_STR(o.lines[3], TRL(Q_PROMPT, "p", "s") "\n");
  }
  CHECK(fx_count(&o, "skipped", "cap") == 4);
  CHECK(fx_skipped_total(&o) == 4);
  CHECK(fx_count(&o, "by_origin", "ratings") == 4);
  fx_out_clear(&o);

  /* With min_margin 2 only the four margin-2 pairs qualify: nothing capped. */
  run1(c, false, 2.0, &o);
  CHECK(o.n == 4);
  if (o.n == 4) {
    CHECK_STR(o.lines[0], TRL(Q_PROMPT, "q", "s") "\n");
    CHECK_STR(o.lines[1], TRL(Q_PROMPT, "q", "r") "\n");
    CHECK_STR(o.lines[2], TRL(Q_PROMPT, "p", "s") "\n");
    CHECK_STR(o.lines[3], TRL(Q_PROMPT, "p", "r") "\n");
  }
  CHECK(fx_skipped_total(&o) == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Within one sibling's pairs, decreasing margin before rank: a has 1.0; b 0.5, c 0 (3/5),
   * d -1. a>d (2) then a>c (1); b>d (1.5); c>d (1): four pairs, none capped. */
  c = fx_conv("c1");
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Q?", NULL, 0);
  fx_msg(c, "a", "u", FD_ROLE_ASSISTANT, "a", NULL, 1);
  fx_msg(c, "b", "u", FD_ROLE_ASSISTANT, "b", NULL, 2);
  fx_msg(c, "c", "u", FD_ROLE_ASSISTANT, "c", NULL, 3);
  fx_msg(c, "d", "u", FD_ROLE_ASSISTANT, "d", NULL, 4);
  fx_rate(c, "r1", "a", "u1", 5, 5, 10);
  fx_rate(c, "r2", "b", "u1", 4, 5, 10);
  fx_rate(c, "r3", "c", "u1", 3, 5, 10);
  fx_rate(c, "r4", "d", "u1", 1, 5, 10);
  run1(c, false, 1.0, &o);
  CHECK(o.n == 4);
  if (o.n == 4) {
    CHECK_STR(o.lines[0], TRL(Q_PROMPT, "a", "d") "\n");
    CHECK_STR(o.lines[1], TRL(Q_PROMPT, "a", "c") "\n");
    CHECK_STR(o.lines[2], TRL(Q_PROMPT, "b", "d") "\n");
    CHECK_STR(o.lines[3], TRL(Q_PROMPT, "c", "d") "\n");
  }
  CHECK(fx_skipped_total(&o) == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

/* Rated pairs repeating or contradicting an edit or comparison record of the group are
 * dropped (conflict) before the cap; edit and comparison records never drop each other. */
static void test_conflicts(void) {
  struct fx_out o;
  /* Contradiction: the comparison says b > a, the ratings a > b. a > c survives. */
  struct fd_conversation *c = fx_conv("c1");
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Q?", NULL, 0);
  fx_msg(c, "A", "u", FD_ROLE_ASSISTANT, "a", NULL, 1);
  fx_msg(c, "B", "u", FD_ROLE_ASSISTANT, "b", NULL, 2);
  fx_msg(c, "C", "u", FD_ROLE_ASSISTANT, "c", NULL, 3);
  fx_rate(c, "r1", "A", "u1", 1, 2, 10);
  fx_rate(c, "r2", "B", "u1", -1, 2, 10);
  fx_rate(c, "r3", "C", "u1", -1, 2, 10);
  fx_cmp(c, "k1", "B", "A", "u9", FD_OUTCOME_PREFERRED, 11);
  run1(c, false, 1.0, &o);
  CHECK(o.n == 2);
  if (o.n == 2) {
    CHECK_STR(o.lines[0], TRL(Q_PROMPT, "b", "a") "\n");
    CHECK_STR(o.lines[1], TRL(Q_PROMPT, "a", "c") "\n");
  }
  CHECK(fx_count(&o, "skipped", "conflict") == 1);
  CHECK(fx_skipped_total(&o) == 1);
  CHECK(fx_count(&o, "by_origin", "comparison") == 1);
  CHECK(fx_count(&o, "by_origin", "ratings") == 1);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Repetition: comparison a > b and ratings a > b: the rated pair goes (conflict, not
   * duplicate). */
  c = fx_conv("c1");
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Q?", NULL, 0);
  fx_msg(c, "A", "u", FD_ROLE_ASSISTANT, "a", NULL, 1);
  fx_msg(c, "B", "u", FD_ROLE_ASSISTANT, "b", NULL, 2);
  fx_rate(c, "r1", "A", "u1", 1, 2, 10);
  fx_rate(c, "r2", "B", "u1", -1, 2, 10);
  fx_cmp(c, "k1", "A", "B", "u9", FD_OUTCOME_PREFERRED, 11);
  run1(c, false, 1.0, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0], TRL(Q_PROMPT, "a", "b") "\n");
  CHECK(fx_count(&o, "skipped", "conflict") == 1);
  CHECK(fx_skipped_total(&o) == 1);
  CHECK(fx_count(&o, "by_origin", "comparison") == 1);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* An edit of b into "a" repeats the rated pair a > b. */
  c = fx_conv("c1");
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Q?", NULL, 0);
  fx_msg(c, "A", "u", FD_ROLE_ASSISTANT, "a", NULL, 1);
  fx_msg(c, "B", "u", FD_ROLE_ASSISTANT, "b", NULL, 2);
  fx_rate(c, "r1", "A", "u1", 1, 2, 10);
  fx_rate(c, "r2", "B", "u1", -1, 2, 10);
  fx_edit(c, "e1", "B", "u2", "a", 11);
  run1(c, false, 1.0, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0], TRL(Q_PROMPT, "a", "b") "\n");
  CHECK(fx_count(&o, "skipped", "conflict") == 1);
  CHECK(fx_count(&o, "by_origin", "edit") == 1);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* An edit and a comparison giving the same record: neither is dropped as a conflict; rule 4
   * merges them into one record (origin edit, evidence of both). */
  c = fx_conv("c1");
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Q?", NULL, 0);
  fx_msg(c, "A", "u", FD_ROLE_ASSISTANT, "a", NULL, 1);
  fx_msg(c, "B", "u", FD_ROLE_ASSISTANT, "b", NULL, 2);
  fx_edit(c, "e1", "B", "u2", "a", 11);
  fx_cmp(c, "k1", "A", "B", "u9", FD_OUTCOME_PREFERRED, 12);
  run1(c, true, 1.0, &o);
  CHECK(o.n == 1);
  char buf[64];
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "e1,k1");
  CHECK(json_integer_value(fx_meta(&o, 0, "n_votes")) == 2);
  CHECK_STR(json_string_value(fx_meta(&o, 0, "origin")), "edit");
  CHECK(fx_count(&o, "skipped", "duplicate") == 1);
  CHECK(fx_count(&o, "skipped", "conflict") == 0);
  CHECK(fx_count(&o, "by_origin", "edit") == 1);
  CHECK(fx_count(&o, "by_origin", "comparison") == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* A tied comparison is no record: it drops nothing. */
  c = fx_conv("c1");
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Q?", NULL, 0);
  fx_msg(c, "A", "u", FD_ROLE_ASSISTANT, "a", NULL, 1);
  fx_msg(c, "B", "u", FD_ROLE_ASSISTANT, "b", NULL, 2);
  fx_rate(c, "r1", "A", "u1", 1, 2, 10);
  fx_rate(c, "r2", "B", "u1", -1, 2, 10);
  fx_cmp(c, "k1", "A", "B", "u9", FD_OUTCOME_TIE, 12);
  run1(c, false, 1.0, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0], TRL(Q_PROMPT, "a", "b") "\n");
  CHECK(fx_count(&o, "skipped", "tie") == 1);
  CHECK(fx_count(&o, "skipped", "conflict") == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* Conflicts are dropped before the cap: 5 rated pairs, one conflicting, 4 kept. a (1) over
   * b, c, d, e (all -1, in that rank order); comparison b > a. */
  c = fx_conv("c1");
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Q?", NULL, 0);
  const char *ids[] = {"A", "B", "C", "D", "E", "F"}, *texts[] = {"a", "b", "c", "d", "e", "f"};
  for (int i = 0; i < 6; i++) fx_msg(c, ids[i], "u", FD_ROLE_ASSISTANT, texts[i], NULL, i + 1);
  fx_rate(c, "r0", "A", "u1", 1, 2, 10);
  for (int i = 1; i < 6; i++) {
    char rid[8];
    snprintf(rid, sizeof rid, "r%d", i);
    fx_rate(c, rid, ids[i], "u1", -1, 2, 10);
  }
  fx_cmp(c, "k1", "B", "A", "u9", FD_OUTCOME_PREFERRED, 12);
  run1(c, false, 1.0, &o);
  CHECK(o.n == 5);
  if (o.n == 5) {
    CHECK_STR(o.lines[0], TRL(Q_PROMPT, "b", "a") "\n");
    CHECK_STR(o.lines[1], TRL(Q_PROMPT, "a", "c") "\n");
    CHECK_STR(o.lines[2], TRL(Q_PROMPT, "a", "d") "\n");
    CHECK_STR(o.lines[3], TRL(Q_PROMPT, "a", "e") "\n");
    CHECK_STR(o.lines[4], TRL(Q_PROMPT, "a", "f") "\n");
  }
  CHECK(fx_count(&o, "skipped", "conflict") == 1);
  CHECK(fx_count(&o, "skipped", "cap") == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

int main(void) {
  RUN(test_thumbs_vs_thumbs);
  RUN(test_scale_margins);
  RUN(test_edits);
  RUN(test_comparisons);
  RUN(test_comparison_non_siblings);
  RUN(test_revotes);
  RUN(test_retractions);
  RUN(test_unknown_and_invalid_prompts);
  RUN(test_multi_turn);
  RUN(test_cap);
  RUN(test_conflicts);
  return unit_report();
}
