/* test_export_dedup.c — rule 4 (dedup across the whole export, with merged evidence and the
 * kept occurrence's split), the train/test split, the model/since/until filters and the
 * driver's contract (conversation order, two passes). */
#include <math.h>
#include <openssl/sha.h>

#include "export/split.h"
#include "test_export_fixture.h"

#define HI_PROMPT "[{\"role\":\"user\",\"content\":\"Hi\"}]"
#define A_(text) "[{\"role\":\"assistant\",\"content\":\"" text "\"}]"
#define HELLO_OVER_GO "{\"prompt\":" HI_PROMPT ",\"chosen\":" A_("Hello!") ",\"rejected\":" A_("Go away.") "}"

/* "Hi" answered "Hello!" (rated up by `user`) and "Go away." (rated down). */
static struct fd_conversation *greeting(const char *id, const char *user, const char *up_id, const char *down_id) {
  struct fd_conversation *c = fx_conv(id);
  fx_msg(c, "u", NULL, FD_ROLE_USER, "Hi", NULL, 1);
  fx_msg(c, "a", "u", FD_ROLE_ASSISTANT, "Hello!", "chat-v7", 2);
  fx_msg(c, "b", "u", FD_ROLE_ASSISTANT, "Go away.", "chat-v7", 3);
  if (up_id) fx_rate(c, up_id, "a", user, 1, 2, 10);
  if (down_id) fx_rate(c, down_id, "b", user, -1, 2, 11);
  return c;
}

/* The bucket the spec defines, computed here with OpenSSL directly. */
static uint64_t bucket_ref(const char *slug, const char *conv) {
  char buf[256];
  unsigned char d[SHA256_DIGEST_LENGTH];
  int n = snprintf(buf, sizeof buf, "%s:%s", slug, conv);
  SHA256((const unsigned char *)buf, (size_t)n, d);
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | d[i];
  return v;
}

static void test_split(void) {
  uint64_t b = 0;
  CHECK(fd_split_bucket64("proj", "c1", &b));
  /* printf 'proj:c1' | sha256sum | cut -c1-16 */
  CHECK(b == 0xa7d4c48ff648c565ULL);
  CHECK(b == bucket_ref("proj", "c1"));
  CHECK(fd_split_bucket64("proj", "c2", &b) && b == 0x421ba562155c7307ULL);
  CHECK(fd_split_bucket64("other", "c1", &b) && b == bucket_ref("other", "c1"));

  /* Exactly at the boundary: the largest double fraction whose 2^64 multiple is <= the
   * bucket gives train, the next one up gives test. */
  uint64_t b1 = 0xa7d4c48ff648c565ULL;
  double lo = ldexp((double)(b1 & ~0x7ffULL), -64), hi = ldexp((double)((b1 & ~0x7ffULL) + 0x800), -64);
  enum fd_split s = FD_SPLIT_TEST;
  CHECK(fd_split_of("proj", "c1", lo, &s) && s == FD_SPLIT_TRAIN);
  CHECK(fd_split_of("proj", "c1", hi, &s) && s == FD_SPLIT_TEST);
  CHECK(fd_split_of("proj", "c1", 0.6555, &s) && s == FD_SPLIT_TRAIN); /* bucket = 0.65559... */
  CHECK(fd_split_of("proj", "c1", 0.6556, &s) && s == FD_SPLIT_TEST);
  CHECK(fd_split_of("proj", "c1", 0.0, &s) && s == FD_SPLIT_TRAIN);
  CHECK(fd_split_of("proj", "c1", 1.0, &s) && s == FD_SPLIT_TEST);
  CHECK(fd_split_of("proj", "c2", 0.5, &s) && s == FD_SPLIT_TEST); /* 0.258... */
  CHECK(fd_split_of("proj", "c1", 0.5, &s) && s == FD_SPLIT_TRAIN);

  /* A long id takes the heap path and gives the same answer as the reference. */
  char longid[1200];
  memset(longid, 'x', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  char buf[1300];
  unsigned char d[SHA256_DIGEST_LENGTH];
  int n = snprintf(buf, sizeof buf, "proj:%s", longid);
  SHA256((const unsigned char *)buf, (size_t)n, d);
  uint64_t want = 0;
  for (int i = 0; i < 8; i++) want = want << 8 | d[i];
  CHECK(fd_split_bucket64("proj", longid, &b) && b == want);

  /* The record's meta and by_split follow the conversation's split. */
  struct fd_conversation *c = greeting("c1", "u1", "r1", "r2");
  struct fd_export_params p = fx_params(FD_FORMAT_TRL, true);
  p.test_fraction = 0.6556;
  struct fx_out o;
  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 1 && o.split[0] == FD_SPLIT_TEST);
  CHECK_STR(json_string_value(fx_meta(&o, 0, "split")), "test");
  CHECK(fx_count(&o, "by_split", "test") == 1);
  CHECK(fx_count(&o, "by_split", "train") == 0);
  fx_out_clear(&o);
  p.test_fraction = 0.6555;
  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 1 && o.split[0] == FD_SPLIT_TRAIN);
  CHECK_STR(json_string_value(fx_meta(&o, 0, "split")), "train");
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

/* The same record in c1 (train at 0.5) and c2 (test at 0.5). */
static void test_dedup_across_conversations(void) {
  struct fd_conversation *cs[2] = {greeting("c1", "u1", "r1", "r2"), greeting("c2", "u2", "r3", "r4")};
  struct fd_export_params p = fx_params(FD_FORMAT_TRL, true);
  p.test_fraction = 0.5;
  struct fx_out o;
  char buf[128];

  /* Two passes (include_meta): kept in c1 with c1's split, evidence of both. */
  fx_run(&p, cs, 2, &o);
  CHECK(o.ok);
  CHECK(o.n == 1);
  CHECK(strncmp(o.lines[0], HELLO_OVER_GO, strlen(HELLO_OVER_GO) - 1) == 0);
  CHECK_STR(json_string_value(fx_meta(&o, 0, "conversation_id")), "c1");
  CHECK_STR(json_string_value(fx_meta(&o, 0, "parent_id")), "u");
  CHECK_STR(json_string_value(fx_meta(&o, 0, "split")), "train");
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "r1,r2,r3,r4");
  CHECK(json_integer_value(fx_meta(&o, 0, "n_votes")) == 4);
  CHECK(json_real_value(fx_meta(&o, 0, "margin")) == 2.0);
  CHECK(o.split[0] == FD_SPLIT_TRAIN);
  CHECK(fx_count(&o, NULL, "records") == 1);
  CHECK(fx_count(&o, "by_split", "train") == 1);
  CHECK(fx_count(&o, "by_split", "test") == 0);
  CHECK(fx_count(&o, "skipped", "duplicate") == 1);
  CHECK(fx_count(&o, "by_origin", "ratings") == 1);
  fx_out_clear(&o);

  /* One pass (no meta): the same single record. */
  p.include_meta = false;
  fx_run(&p, cs, 2, &o);
  CHECK(o.n == 1);
  CHECK_STR(o.lines[0], HELLO_OVER_GO "\n");
  CHECK(fx_count(&o, "skipped", "duplicate") == 1);
  fx_out_clear(&o);

  /* split=test: the record belongs to train (c1) and is not written; c2's copy is a
   * duplicate in the exported split. */
  p.split = FD_SPLIT_SELECT_TEST;
  fx_run(&p, cs, 2, &o);
  CHECK(o.ok && o.n == 0);
  CHECK(fx_count(&o, NULL, "records") == 0);
  CHECK(fx_count(&o, "skipped", "duplicate") == 1);
  fx_out_clear(&o);
  /* split=train: written; the duplicate lives in the other split, not counted here. */
  p.split = FD_SPLIT_SELECT_TRAIN;
  fx_run(&p, cs, 2, &o);
  CHECK(o.n == 1);
  CHECK(fx_count(&o, "skipped", "duplicate") == 0);
  fx_out_clear(&o);
  fx_free_convs(cs, 2);

  /* The later conversation holds the record as an edit: counted once, under edit. */
  cs[0] = greeting("c1", "u1", "r1", "r2");
  cs[1] = greeting("c2", "u2", NULL, NULL);
  fx_edit(cs[1], "e1", "b", "u2", "Hello!", 12);
  p = fx_params(FD_FORMAT_TRL, false);
  fx_run(&p, cs, 2, &o);
  CHECK(o.n == 1);
  CHECK(fx_count(&o, "by_origin", "edit") == 1);
  CHECK(fx_count(&o, "by_origin", "ratings") == 0);
  CHECK(fx_count(&o, "skipped", "duplicate") == 1);
  fx_out_clear(&o);
  p.include_meta = true;
  fx_run(&p, cs, 2, &o);
  CHECK(o.n == 1);
  CHECK(fx_count(&o, "by_origin", "edit") == 1);
  CHECK(fx_count(&o, "by_origin", "ratings") == 0);
  CHECK_STR(json_string_value(fx_meta(&o, 0, "conversation_id")), "c1");
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "e1,r1,r2");
  CHECK(json_integer_value(fx_meta(&o, 0, "n_votes")) == 3);
  fx_out_clear(&o);
  fx_free_convs(cs, 2);
}

/* Inside one conversation the parent id orders the occurrences, not creation time. */
static void test_dedup_parent_order(void) {
  struct fd_conversation *c = fx_conv("c3");
  fx_msg(c, "p2", NULL, FD_ROLE_USER, "Hi", NULL, 1);
  fx_msg(c, "p1", NULL, FD_ROLE_USER, "Hi", NULL, 2);
  fx_msg(c, "a2", "p2", FD_ROLE_ASSISTANT, "Hello!", NULL, 3);
  fx_msg(c, "b2", "p2", FD_ROLE_ASSISTANT, "Go away.", NULL, 4);
  fx_msg(c, "a1", "p1", FD_ROLE_ASSISTANT, "Hello!", NULL, 5);
  fx_msg(c, "b1", "p1", FD_ROLE_ASSISTANT, "Go away.", NULL, 6);
  fx_rate(c, "ra2", "a2", "u1", 1, 2, 10);
  fx_rate(c, "rb2", "b2", "u1", -1, 2, 10);
  fx_rate(c, "ra1", "a1", "u2", 1, 2, 10);
  fx_rate(c, "rb1", "b1", "u2", -1, 2, 10);
  struct fd_export_params p = fx_params(FD_FORMAT_TRL, true);
  struct fx_out o;
  char buf[128];
  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 1);
  CHECK_STR(json_string_value(fx_meta(&o, 0, "parent_id")), "p1");
  CHECK_STR(fx_ids(&o, 0, buf, sizeof buf), "ra1,ra2,rb1,rb2");
  CHECK(fx_count(&o, "skipped", "duplicate") == 1);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

/* model / since / until select among candidates, skipped ones included. */
static void test_filters(void) {
  struct fd_conversation *c = fx_france("c1");
  c->messages[3].model = "chat-v8"; /* m4 "Paris." is from chat-v8 (the conversation frees
                                     * only what it copied) */
  fx_rate(c, "r1", "m4", "u1", 1, 2, 100);
  fx_rate(c, "r2", "m3", "u1", -1, 2, 100);
  fx_edit(c, "e1", "m3", "u2", "Paris!", 300);  /* M = m3, chat-v7 */
  fx_edit(c, "e2", "m4", "u3", "Paris. ", 300); /* trivial, M = m4, chat-v8 */
#define EDIT_LINE                                                                                \
  "{\"prompt\":[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":" \
  "\"Capital of France?\"}],\"chosen\":" A_("Paris!") ",\"rejected\":" A_("Lyon.") "}\n"
#define PAIR_LINE                                                                                \
  "{\"prompt\":[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\",\"content\":" \
  "\"Capital of France?\"}],\"chosen\":" A_("Paris.") ",\"rejected\":" A_("Lyon.") "}\n"
  struct fd_export_params p = fx_params(FD_FORMAT_TRL, false);
  struct fx_out o;

  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 2);
  if (o.n == 2) {
    CHECK_STR(o.lines[0], EDIT_LINE);
    CHECK_STR(o.lines[1], PAIR_LINE);
  }
  CHECK(fx_count(&o, "skipped", "trivial_edit") == 1);
  fx_out_clear(&o);

  p.model = "chat-v8"; /* the rated pair's chosen; the trivial edit of m4 */
  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 1);
  if (o.n == 1) CHECK_STR(o.lines[0], PAIR_LINE);
  CHECK(fx_count(&o, "skipped", "trivial_edit") == 1);
  fx_out_clear(&o);

  p.model = "chat-v7"; /* the edit record (M's model) and the pair's rejected */
  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 2);
  CHECK(fx_count(&o, "skipped", "trivial_edit") == 0);
  fx_out_clear(&o);

  p.model = "chat-v9";
  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 0);
  fx_out_clear(&o);
  p.model = NULL;

  p.has_since = true;
  p.since = 250;
  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 1);
  if (o.n == 1) CHECK_STR(o.lines[0], EDIT_LINE);
  CHECK(fx_count(&o, "skipped", "trivial_edit") == 1);
  fx_out_clear(&o);

  p.since = 300; /* inclusive */
  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 1);
  fx_out_clear(&o);

  p.has_since = false;
  p.has_until = true;
  p.until = 300; /* exclusive */
  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 1);
  if (o.n == 1) CHECK_STR(o.lines[0], PAIR_LINE);
  CHECK(fx_count(&o, "skipped", "trivial_edit") == 0);
  fx_out_clear(&o);

  p.has_since = true;
  p.since = 100;
  p.until = 101;
  fx_run(&p, &c, 1, &o);
  CHECK(o.n == 1);
  fx_out_clear(&o);

  p.since = 101;
  p.until = 300;
  fx_run(&p, &c, 1, &o);
  CHECK(o.ok && o.n == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

static bool write_ok(void *cls, enum fd_split split, const char *line, size_t len) {
  (void)cls, (void)split, (void)line, (void)len;
  return true;
}

static bool write_fails(void *cls, enum fd_split split, const char *line, size_t len) {
  (void)cls, (void)split, (void)line, (void)len;
  return false;
}

static void test_driver_contract(void) {
  struct fd_conversation *cs[2] = {greeting("c2", "u1", "r1", "r2"), greeting("c1", "u2", "r3", "r4")};
  struct fd_export_params p = fx_params(FD_FORMAT_TRL, false);
  struct fx_out o;
  /* Out of bytewise order. */
  fx_run(&p, cs, 2, &o);
  CHECK(!o.ok);
  CHECK(strstr(o.error, "order") != NULL);
  fx_out_clear(&o);
  /* The same conversation twice in one pass. */
  struct fd_conversation *twice[2] = {cs[1], cs[1]};
  fx_run(&p, twice, 2, &o);
  CHECK(!o.ok);
  fx_out_clear(&o);

  /* Bytewise, not locale order: "C2" < "c1". */
  fd_conversation_free(cs[0]);
  cs[0] = greeting("C2", "u1", "r1", "r2");
  struct fd_conversation *ordered[2] = {cs[0], cs[1]};
  fx_run(&p, ordered, 2, &o);
  CHECK(o.ok && o.n == 1);
  fx_out_clear(&o);

  /* include_meta: the spilled body goes out in pieces through fd_export_flush, and nothing
   * can be added once it flushes. */
  p.include_meta = true;
  struct fx_out o2 = {0};
  struct fd_export *x = fd_export_new(&p, fx_capture, &o2, NULL);
  CHECK(x != NULL);
  CHECK(fd_export_add_conversation(x, cs[0]));
  CHECK(fd_export_add_conversation(x, cs[1]));
  CHECK(o2.n == 0); /* spilled, not written yet */
  int r;
  while ((r = fd_export_flush(x)) > 0) {}
  CHECK(r == 0);
  CHECK(o2.n == 1);
  CHECK(!fd_export_add_conversation(x, cs[1]));
  fd_export_free(x);
  fx_out_clear(&o2);

  /* A failing writer fails an include_meta export when its body is flushed. */
  x = fd_export_new(&p, write_fails, NULL, NULL);
  CHECK(fd_export_add_conversation(x, cs[0]));
  CHECK(!fd_export_finish(x));
  CHECK(strstr(fd_export_error(x), "output closed") != NULL);
  fd_export_free(x);

  /* A failing writer fails the export, and it stays failed. */
  p.include_meta = false;
  x = fd_export_new(&p, write_fails, NULL, NULL);
  CHECK(!fd_export_add_conversation(x, cs[0]));
  CHECK(!fd_export_add_conversation(x, cs[1]));
  CHECK(!fd_export_finish(x));
  fd_export_free(x);

  /* Invalid parameters are reported by name. */
  struct fd_error err;
  p.test_fraction = 1.5;
  CHECK(fd_export_new(&p, write_ok, NULL, &err) == NULL);
  CHECK(err.code == FD_ERR_INVALID_PARAMETER);
  CHECK_STR(err.field, "test_fraction");
  p.test_fraction = 0.1;
  p.min_margin = -1;
  CHECK(fd_export_new(&p, write_ok, NULL, &err) == NULL);
  CHECK_STR(err.field, "min_margin");
  p.min_margin = 1.0;
  p.format = (enum fd_export_format)42;
  CHECK(fd_export_new(&p, write_ok, NULL, &err) == NULL);
  CHECK_STR(err.field, "format");
  enum fd_split_select sel;
  CHECK(fd_split_select_parse("test", &sel) && sel == FD_SPLIT_SELECT_TEST);
  CHECK(!fd_split_select_parse("validation", &sel));
  fd_export_free(NULL);
  fx_free_convs(cs, 2);
}

/* Incremental exports: only the sibling groups a change touched yield records. */
static void run_touched(struct fd_conversation *c, const struct fd_touch *t, size_t n, struct fx_out *o) {
  memset(o, 0, sizeof *o);
  struct fd_export_params p = fx_params(FD_FORMAT_TRL, false);
  struct fd_export *x = fd_export_new(&p, fx_capture, o, NULL);
  o->ok = x && fd_export_add_conversation_touched(x, c, t, n) && fd_export_finish(x);
  o->counts = x ? fd_export_counts_new(x) : NULL;
  fd_export_free(x);
}

static void test_touched_groups(void) {
  struct fd_conversation *c = fx_conv("c1");
  fx_msg(c, "u1", NULL, FD_ROLE_USER, "Hi", NULL, 1);
  fx_msg(c, "a1", "u1", FD_ROLE_ASSISTANT, "Hello!", NULL, 2);
  fx_msg(c, "b1", "u1", FD_ROLE_ASSISTANT, "Go away.", NULL, 3);
  fx_msg(c, "u2", "a1", FD_ROLE_USER, "More?", NULL, 4);
  fx_msg(c, "a2", "u2", FD_ROLE_ASSISTANT, "Sure.", NULL, 5);
  fx_msg(c, "b2", "u2", FD_ROLE_ASSISTANT, "No.", NULL, 6);
  fx_rate(c, "r1", "a1", "u1", 1, 2, 10);
  fx_rate(c, "r2", "b1", "u1", -1, 2, 10);
  fx_rate(c, "r3", "a2", "u1", 1, 2, 10);
  fx_rate(c, "r4", "b2", "u1", -1, 2, 10);
#define G1 "{\"prompt\":" HI_PROMPT ",\"chosen\":" A_("Hello!") ",\"rejected\":" A_("Go away.") "}\n"
#define G2_PROMPT                                                                            \
  "[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello!\"}," \
  "{\"role\":\"user\",\"content\":\"More?\"}]"
#define G2 "{\"prompt\":" G2_PROMPT ",\"chosen\":" A_("Sure.") ",\"rejected\":" A_("No.") "}\n"
  struct fx_out o;
  struct fd_touch event_g1 = {"a1", false}, event_g2 = {"b2", false}, turn_u2 = {"u2", true}, turn_u1 = {"u1", true};

  run_touched(c, &event_g1, 1, &o); /* a new rating of a1: group under u1 */
  CHECK(o.ok && o.n == 1);
  if (o.n == 1) CHECK_STR(o.lines[0], G1);
  fx_out_clear(&o);

  run_touched(c, &event_g2, 1, &o);
  CHECK(o.ok && o.n == 1);
  if (o.n == 1) CHECK_STR(o.lines[0], G2);
  fx_out_clear(&o);

  run_touched(c, &turn_u2, 1, &o); /* a new user turn u2: the groups below it only */
  CHECK(o.ok && o.n == 1);
  if (o.n == 1) CHECK_STR(o.lines[0], G2);
  fx_out_clear(&o);

  run_touched(c, &turn_u1, 1, &o); /* the root turn: everything below */
  CHECK(o.ok && o.n == 2);
  if (o.n == 2) {
    CHECK_STR(o.lines[0], G1);
    CHECK_STR(o.lines[1], G2);
  }
  fx_out_clear(&o);

  run_touched(c, NULL, 0, &o);
  CHECK(o.ok && o.n == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);

  /* A turn the children waited for: its group was unknown_turn, now touched. */
  c = fx_conv("c1");
  fx_msg(c, "x", "p0", FD_ROLE_USER, "Q?", NULL, 1);
  fx_msg(c, "y", "x", FD_ROLE_ASSISTANT, "a", NULL, 2);
  fx_rate(c, "r1", "y", "u1", 1, 2, 10);
  struct fd_touch p0 = {"p0", true}, other = {"zz", true};
  run_touched(c, &p0, 1, &o);
  CHECK(fx_count(&o, "skipped", "unknown_turn") == 1);
  fx_out_clear(&o);
  run_touched(c, &other, 1, &o);
  CHECK(fx_count(&o, "skipped", "unknown_turn") == 0);
  fx_out_clear(&o);
  fx_free_convs(&c, 1);
}

int main(void) {
  RUN(test_split);
  RUN(test_dedup_across_conversations);
  RUN(test_dedup_parent_order);
  RUN(test_filters);
  RUN(test_driver_contract);
  RUN(test_touched_groups);
  return unit_report();
}
