/* detected.c — from a logged user turn to the detected signal the writer stores
 * (see detected.h). */
#include "ingest/detected.h"

#include <stdio.h>
#include <string.h>

#include "ingest/validate_common.h"
#include "util/crypto.h"

void fd_detected_id(const char *conversation_id, const char *turn_id, char out[FD_ID_BUF]) {
  char buf[2 * FD_ID_BUF + 2];
  int n = snprintf(buf, sizeof buf, "%s\n%s", conversation_id, turn_id);
  char hex[FD_SHA256_HEX_LEN + 1];
  fd_sha256_hex(buf, n > 0 ? (size_t)n : 0, hex);
  snprintf(out, FD_ID_BUF, "det-%.32s", hex);
}

bool fd_detect_candidate(const struct fd_message_row *turn) {
  return turn->parent_id[0] && turn->content_len > 0 && strcmp(turn->role, "user") == 0;
}

bool fd_detected_from_turn(const struct fd_detector *d, const struct fd_message_row *turn,
                           struct fd_detected_row *out) {
  struct fd_detect_match m;
  enum fd_detect_class c = fd_detect(d, turn->content, turn->content_len, &m);
  if (c == FD_DETECT_NONE) return false;
  static const char *const signals[] = {
      [FD_DETECT_PRAISE] = "detected_praise",
      [FD_DETECT_COMPLAINT] = "detected_complaint",
      [FD_DETECT_CORRECTION] = "detected_correction",
  };
  memset(out, 0, sizeof *out);
  fd_detected_id(turn->conversation_id, turn->id, out->id);
  out->turn = turn;
  out->signal = signals[c];
  /* a match starts and ends at a word, so on character boundaries; checked all the same,
   * since text that is not UTF-8 would fail the writer's whole batch */
  bool inside = m.offset <= turn->content_len && m.length <= turn->content_len - m.offset;
  if (inside && fd_utf8_valid(turn->content + m.offset, m.length)) {
    out->match_offset = m.offset;
    out->match_length = m.length;
  }
  snprintf(out->rule, sizeof out->rule, "%s", m.rule);
  return true;
}
