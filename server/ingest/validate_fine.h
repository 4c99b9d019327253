/* validate_fine.h — the fields of span and step events (fine-grained feedback, docs/api.md
 * "Span feedback" and "Step feedback") and the text arithmetic they share with exports:
 * code-point offsets and the steps of a message. Pure C, no I/O. */
#ifndef FD_INGEST_VALIDATE_FINE_H
#define FD_INGEST_VALIDATE_FINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/errors.h"
#include "core/limits.h"
#include "ingest/rows.h"

/* A span label name is 1..64 bytes; a quote at most the content limit. */
#define FD_SPAN_LABEL_MAX_BYTES 64

/* start, end, label, quote of a span event (shape only: the label's membership and the
 * offsets' fit need the project and the message, fd_feedback_check_target). */
bool fd_check_span_fields(const json_t *ev, const struct fd_limits *lim, const char *path, struct fd_feedback_row *row,
                          struct fd_error *err) __attribute__((warn_unused_result));
/* step and value of a step event. */
bool fd_check_step_fields(const json_t *ev, const char *path, struct fd_feedback_row *row, struct fd_error *err)
    __attribute__((warn_unused_result));

/* Byte offset of code point `cp` in valid UTF-8 s[0..len) (cp may equal the number of code
 * points: then len). False when s has fewer code points. */
bool fd_utf8_cp_to_byte(const char *s, size_t len, long long cp, size_t *byte) __attribute__((warn_unused_result));

/* The steps of a message: its content split on "\n", lines that are empty or only ASCII
 * whitespace (space, tab, CR, VT, FF) dropped. Calls each(i, line, line_len, arg) for step
 * i = 0, 1, ... (stops early when it returns false) and returns the number of steps seen. */
size_t fd_steps_each(const char *s, size_t len, bool (*each)(size_t i, const char *line, size_t n, void *arg),
                     void *arg);

#endif
