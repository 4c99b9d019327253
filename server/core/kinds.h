/* kinds.h — the feedback kinds of docs/api.md "Feedback events": one enum and one spelling
 * shared by ingestion (validation, the writer's rows), the export (rows read back from the
 * database) and the list filter of GET /v1/feedback. */
#ifndef FD_CORE_KINDS_H
#define FD_CORE_KINDS_H

#include <stdbool.h>

enum fd_feedback_kind {
  FD_KIND_RATING = 0,
  FD_KIND_COMMENT,
  FD_KIND_EDIT,
  FD_KIND_COMPARISON,
  FD_KIND_SPAN,
  FD_KIND_STEP,
  FD_KIND_REACTION,
  FD_KIND_SIGNAL,
};
/* Not in the enum: switches over the kinds stay checked for completeness by -Wswitch. */
#define FD_KIND_COUNT (FD_KIND_SIGNAL + 1)

/* The string form of a kind ("rating", ...; "unknown" out of range), and back (false for an
 * unknown name or NULL; *out untouched then). */
const char *fd_feedback_kind_name(enum fd_feedback_kind kind);
bool fd_feedback_kind_parse(const char *name, enum fd_feedback_kind *out) __attribute__((warn_unused_result));

#endif
