/* detected.h — feedback detected in a logged user turn (docs/detection.md "Stored
 * events"): what the request thread hands the writer, which stores it as a `signal` event
 * on the turn's parent when that parent is a stored assistant message. */
#ifndef FD_INGEST_DETECTED_H
#define FD_INGEST_DETECTED_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest/detect.h"
#include "ingest/rows.h"

#define FD_DETECTED_RULE_BUF 96

struct fd_detected_row {
  char id[FD_ID_BUF];                /* "det-" + 32 hex digits (fd_detected_id) */
  const struct fd_message_row *turn; /* borrowed: the user turn; lives as long as its job */
  const char *signal;                /* static "detected_praise" | "detected_complaint" | "detected_correction" */
  size_t match_offset, match_length; /* the matched text: bytes of turn->content */
  char rule[FD_DETECTED_RULE_BUF];   /* the rule's id, copied (a project's detector may go first) */
};

/* The event id of a detection in turn `turn_id` of `conversation_id`: "det-" + the first 32
 * hex digits of SHA-256(conversation_id "\n" turn_id). Logging the turn again gives the
 * same id, so the event is stored once. out holds FD_ID_BUF bytes. */
void fd_detected_id(const char *conversation_id, const char *turn_id, char out[FD_ID_BUF]);

/* Whether a turn can carry feedback on an answer: a user turn with a parent and some text
 * (whether that parent is an assistant message is the writer's check, in the database). */
bool fd_detect_candidate(const struct fd_message_row *turn);

/* Classify a candidate turn with detector d; true (and *out filled) when it is praise,
 * complaint or correction. */
bool fd_detected_from_turn(const struct fd_detector *d, const struct fd_message_row *turn, struct fd_detected_row *out)
    __attribute__((warn_unused_result));

#endif
