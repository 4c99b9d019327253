/* test_detected.c — from a logged user turn to the detected signal the writer stores
 * (ingest/detected.h, docs/detection.md "Stored events"): the det- id computed here with
 * OpenSSL directly, which turns are candidates, and the signal, match span and rule of a
 * classified turn. */
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "ingest/detected.h"
#include "unit.h"

static struct fd_message_row turn(const char *id, const char *parent, const char *role, const char *content) {
  struct fd_message_row t = {0};
  snprintf(t.id, sizeof t.id, "%s", id);
  snprintf(t.parent_id, sizeof t.parent_id, "%s", parent);
  t.conversation_id = "conv-1";
  t.role = role;
  t.content = content;
  t.content_len = strlen(content);
  return t;
}

static void test_id(void) {
  const char *text = "conv-1\nturn-7";
  unsigned char h[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)text, strlen(text), h);
  char want[64] = "det-";
  for (int i = 0; i < 16; i++) snprintf(want + 4 + 2 * i, 3, "%02x", h[i]);
  char got[FD_ID_BUF];
  fd_detected_id("conv-1", "turn-7", got);
  CHECK_STR(got, want);
  CHECK(strlen(got) == 36);
}

static void test_candidates(void) {
  struct fd_message_row t = turn("u2", "a1", "user", "thanks");
  CHECK(fd_detect_candidate(&t));
  t = turn("u2", "", "user", "thanks"); /* a root turn */
  CHECK(!fd_detect_candidate(&t));
  t = turn("u2", "a1", "user", ""); /* no text */
  CHECK(!fd_detect_candidate(&t));
  t = turn("a2", "u1", "assistant", "That's wrong."); /* assistant turns are never read */
  CHECK(!fd_detect_candidate(&t));
  t = turn("s1", "u1", "system", "That's wrong.");
  CHECK(!fd_detect_candidate(&t));
}

static void test_from_turn(struct fd_detector *d) {
  struct fd_message_row t = turn("u2", "a1", "user", "Hmm. That's completely WRONG, sorry.");
  struct fd_detected_row r;
  CHECK(fd_detected_from_turn(d, &t, &r));
  CHECK_STR(r.signal, "detected_complaint");
  CHECK(r.turn == &t);
  char id[FD_ID_BUF];
  fd_detected_id("conv-1", "u2", id);
  CHECK_STR(r.id, id);
  /* the span lies inside the text and holds the judgement as written */
  CHECK(r.match_offset + r.match_length <= t.content_len && r.match_length > 0);
  char span[64];
  snprintf(span, sizeof span, "%.*s", (int)r.match_length, t.content + r.match_offset);
  CHECK(strstr(span, "WRONG") != NULL);
  CHECK(strncmp(r.rule, "en.complaint.", 13) == 0);

  t = turn("u3", "a1", "user", "Perfect, thanks!");
  CHECK(fd_detected_from_turn(d, &t, &r));
  CHECK_STR(r.signal, "detected_praise");
  t = turn("u4", "a1", "user", "No, it's Canberra.");
  CHECK(fd_detected_from_turn(d, &t, &r));
  CHECK_STR(r.signal, "detected_correction");
  t = turn("u5", "a1", "user", "no problem");
  CHECK(!fd_detected_from_turn(d, &t, &r));
}

int main(void) {
  struct fd_detector *d = fd_detector_new(NULL, NULL, 0);
  CHECK(d != NULL);
  RUN(test_id);
  RUN(test_candidates);
  if (d) test_from_turn(d);
  fd_detector_free(d);
  return unit_report();
}
