/* validate_fine.h — the fields of span and step events (fine-grained feedback, docs/api.md
 * "Span feedback" and "Step feedback"). Pure C, no I/O; the text arithmetic they share with
 * exports is util/text_steps.h. */
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

#endif
