/* kinds.c — the kinds' spellings (see kinds.h). */
#include "core/kinds.h"

#include <string.h>

static const char *const kind_names[FD_KIND_COUNT] = {
    [FD_KIND_RATING] = "rating",         [FD_KIND_COMMENT] = "comment", [FD_KIND_EDIT] = "edit",
    [FD_KIND_COMPARISON] = "comparison", [FD_KIND_SPAN] = "span",       [FD_KIND_STEP] = "step",
    [FD_KIND_REACTION] = "reaction",     [FD_KIND_SIGNAL] = "signal",
};

const char *fd_feedback_kind_name(enum fd_feedback_kind kind) {
  return (unsigned)kind < FD_KIND_COUNT ? kind_names[kind] : "unknown";
}

bool fd_feedback_kind_parse(const char *name, enum fd_feedback_kind *out) {
  if (!name) return false;
  for (int i = 0; i < FD_KIND_COUNT; i++)
    if (strcmp(name, kind_names[i]) == 0) {
      *out = (enum fd_feedback_kind)i;
      return true;
    }
  return false;
}
