/* test_export_signals.c — reactions as ratings, format=reward, signals=true and the consent
 * rule (docs/export.md "Reactions and signals", "Consent and licence") on hand-built
 * conversations; every expected line is written out by hand. */
#include "test_export_fixture.h"

#define FR_PROMPT \
  "[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":\"Capital of France?\"}]"
#define A_(text) "[{\"role\":\"assistant\",\"content\":\"" text "\"}]"
#define KTO(text, label) "{\"prompt\":" FR_PROMPT ",\"completion\":" A_(text) ",\"label\":" label "}\n"
#define REWARD(text, reward, n, love, sad)                                               \
  "{\"prompt\":" FR_PROMPT ",\"completion\":" A_(text) ",\"reward\":" reward ",\"n\":" n \
                                                       ",\"reactions\":{\"love\":" love ",\"sad\":" sad "}}\n"

static const struct fd_export_reaction SET[] = {{"love", 1.0}, {"sad", -0.5}};

static void fx_react(struct fd_conversation *c, const char *id, const char *msg, const char *user, const char *name,
                     int64_t t) {
  fx_add(c,
         (struct fd_feedback){
             .id = id, .kind = FD_KIND_REACTION, .message_id = msg, .user = user, .reaction = name, .created_at = t});
}

static void fx_signal(struct fd_conversation *c, const char *id, const char *msg, const char *user, enum fd_signal s,
                      int64_t t) {
  fx_add(c, (struct fd_feedback){
                .id = id, .kind = FD_KIND_SIGNAL, .message_id = msg, .user = user, .signal = s, .created_at = t});
}

static void run(struct fd_conversation *c, enum fd_export_format f, bool reactions, bool signals, struct fx_out *o) {
  struct fd_export_params p = fx_params(f, false);
  p.reactions = reactions;
  p.signals = signals;
  p.reaction_set = SET;
  p.n_reaction_set = 2;
  fx_run(&p, &c, 1, o);
}

static void test_reward(void) {
  struct fx_out o;
  struct fd_conversation *c = fx_france("c1");
  fx_rate(c, "r1", "m4", "u1", 1, 2, 10);
  fx_react(c, "x1", "m4", "u2", "love", 11);
  fx_react(c, "x2", "m4", "u2", "sad", 12);  /* another name: u2 holds both */
  fx_react(c, "x3", "m4", "u2", "love", 13); /* the same slot again: replaces x1 */
  fx_react(c, "x4", "m3", "u1", "wow", 14);  /* not in the set: counts nowhere */
  run(c, FD_FORMAT_REWARD, false, false, &o);
  /* m4: thumbs up 1, love 1, sad -0.5: (1 + 1 - 0.5) / 3 = 0.5 */
  CHECK(o.n == 1);
  if (o.n == 1) CHECK_STR(o.lines[0], REWARD("Paris.", "0.5", "3", "1", "1"));
  CHECK(fx_skipped_total(&o) == 0);
  CHECK(fx_count(&o, NULL, "by_label") == -1 && fx_count(&o, NULL, "by_origin") == -1);
  fx_out_clear(&o);
  /* kto: without reactions=true only the rating counts; with it, the same score 0.5 -> true;
   * m3's only reaction is not in the set: no record either way */
  run(c, FD_FORMAT_KTO, true, false, &o);
  CHECK(o.n == 1);
  if (o.n == 1) CHECK_STR(o.lines[0], KTO("Paris.", "true"));
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_reactions_make_pairs(void) {
  struct fx_out o;
  struct fd_conversation *c = fx_france("c1");
  fx_react(c, "x1", "m4", "u1", "love", 10);
  fx_react(c, "x2", "m3", "u1", "sad", 11);
  /* love 1 against sad -0.5: margin 1.5 >= 1 */
  run(c, FD_FORMAT_TRL, false, false, &o);
  CHECK(o.n == 0);
  fx_out_clear(&o);
  run(c, FD_FORMAT_TRL, true, false, &o);
  CHECK(o.n == 1);
  if (o.n == 1)
    CHECK_STR(o.lines[0], "{\"prompt\":" FR_PROMPT ",\"chosen\":" A_("Paris.") ",\"rejected\":" A_("Lyon.") "}\n");
  CHECK(fx_count(&o, "by_origin", "ratings") == 1);
  fx_out_clear(&o);
  struct fd_export_params p = fx_params(FD_FORMAT_KTO, true);
  p.reactions = true;
  p.reaction_set = SET;
  p.n_reaction_set = 2;
  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 2);
  CHECK_STR(json_string_value(fx_meta(&o, 0, "origin")), "reaction");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_signals(void) {
  struct fx_out o;
  struct fd_conversation *c = fx_france("c1");
  fx_msg(c, "m5", "m2", FD_ROLE_ASSISTANT, "Marseille.", "chat-v7", 5);
  fx_signal(c, "s1", "m3", NULL, FD_SIGNAL_REGENERATE, 10);
  fx_signal(c, "s2", "m3", NULL, FD_SIGNAL_DETECTED_COMPLAINT, 11);
  fx_signal(c, "s3", "m3", "u1", FD_SIGNAL_COPY, 12);
  fx_signal(c, "s4", "m3", "u1", FD_SIGNAL_DWELL, 13);
  fx_signal(c, "s5", "m4", "u1", FD_SIGNAL_COPY, 14);
  fx_rate(c, "r1", "m4", "u2", 1, 2, 15);              /* m4 is rated: its signals give nothing */
  fx_signal(c, "s6", "m5", "u1", FD_SIGNAL_DWELL, 16); /* only dwell: a tie */
  run(c, FD_FORMAT_KTO, false, true, &o);
  /* m3: -1 -1 +1 +0 = -1 -> false */
  CHECK(o.n == 2);
  if (o.n == 2) {
    CHECK_STR(o.lines[0], KTO("Paris.", "true"));
    CHECK_STR(o.lines[1], KTO("Lyon.", "false"));
  }
  CHECK(fx_count(&o, "skipped", "tie") == 1);
  fx_out_clear(&o);
  run(c, FD_FORMAT_REWARD, false, true, &o);
  /* m3: -1 over 3 non-dwell signals */
  CHECK(o.n == 2);
  if (o.n == 2) {
    CHECK_STR(o.lines[0], REWARD("Paris.", "1.0", "1", "0", "0"));
    CHECK_STR(o.lines[1], REWARD("Lyon.", "-0.33333333333333331", "3", "0", "0"));
  }
  CHECK(fx_count(&o, "skipped", "tie") == 1);
  fx_out_clear(&o);
  run(c, FD_FORMAT_REWARD, false, false, &o);
  CHECK(o.n == 1 && fx_skipped_total(&o) == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_consent(void) {
  struct fx_out o;
  struct fd_conversation *c = fx_france("c1");
  fx_rate(c, "r1", "m4", "yes", 1, 2, 10);
  fx_rate(c, "r2", "m3", "no", -1, 2, 11);
  c->feedback[c->n_feedback - 1].no_consent = true;
  fx_rate(c, "r3", "m3", "yes", 1, 2, 12); /* m3: -1 (no) and 1 (yes): score 0 with both */
  run(c, FD_FORMAT_KTO, false, false, &o);
  /* without "no": m3 is 1 -> true; m4 true. No candidate lost all of its evidence. */
  CHECK(o.n == 2);
  CHECK(fx_count(&o, "skipped", "no_consent") == 0);
  fx_out_clear(&o);
  c->feedback[2].no_consent = true; /* now m3's raters both said no */
  run(c, FD_FORMAT_KTO, false, false, &o);
  CHECK(o.n == 1);
  if (o.n == 1) CHECK_STR(o.lines[0], KTO("Paris.", "true"));
  CHECK(fx_count(&o, "skipped", "no_consent") == 0); /* with both, m3's score was 0: no candidate */
  fx_out_clear(&o);
  c->feedback[1].value = 1; /* both of m3's raters said no, and with them m3 scores 1: a candidate */
  run(c, FD_FORMAT_KTO, false, false, &o);
  CHECK(o.n == 1 && fx_count(&o, "skipped", "no_consent") == 1);
  fx_out_clear(&o);
  /* trl: the pair (Paris., Lyon.) needs m3 rated; its evidence is partly "yes": no count */
  run(c, FD_FORMAT_TRL, false, false, &o);
  CHECK(o.n == 0 && fx_count(&o, "skipped", "no_consent") == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static void test_parameters(void) {
  struct fd_error err;
  struct fx_out o = {0};
  struct fd_export_params p = fx_params(FD_FORMAT_SFT, false);
  p.reactions = true;
  CHECK(fd_export_new(&p, fx_capture, &o, &err) == NULL && strcmp(err.field, "reactions") == 0);
  p = fx_params(FD_FORMAT_TRL, false);
  p.signals = true;
  CHECK(fd_export_new(&p, fx_capture, &o, &err) == NULL && strcmp(err.field, "signals") == 0);
  CHECK(fd_export_reactions_allowed(FD_FORMAT_HH) && fd_export_reactions_allowed(FD_FORMAT_REWARD) &&
        !fd_export_reactions_allowed(FD_FORMAT_PRM) && !fd_export_reactions_allowed(FD_FORMAT_SPANS));
  CHECK(fd_export_signals_allowed(FD_FORMAT_KTO) && !fd_export_signals_allowed(FD_FORMAT_OPENAI));
  CHECK(fd_signal_parse("detected_praise") == FD_SIGNAL_DETECTED_PRAISE && fd_signal_parse("nope") == FD_SIGNAL_OTHER);
  CHECK(fd_signal_sign(FD_SIGNAL_DWELL) == 0 && fd_signal_sign(FD_SIGNAL_RETRY) == -1 &&
        fd_signal_sign(FD_SIGNAL_CONTINUE) == 1);
}

int main(void) {
  RUN(test_reward);
  RUN(test_reactions_make_pairs);
  RUN(test_signals);
  RUN(test_consent);
  RUN(test_parameters);
  return unit_report();
}
