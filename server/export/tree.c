/* tree.c — message lookup by id and prompt reconstruction (see tree.h). */
#include "export/tree.h"

#include <stdlib.h>
#include <string.h>

static int cmp_msg_id(const void *pa, const void *pb, void *ctx) {
  const struct fd_conversation *conv = ctx;
  size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
  return strcmp(conv->messages[a].id, conv->messages[b].id);
}

bool fd_tree_init(struct fd_tree *t, const struct fd_conversation *conv) {
  t->conv = conv;
  t->by_id = malloc((conv->n_messages ? conv->n_messages : 1) * sizeof *t->by_id);
  if (!t->by_id) return false;
  for (size_t i = 0; i < conv->n_messages; i++) t->by_id[i] = i;
  qsort_r(t->by_id, conv->n_messages, sizeof *t->by_id, cmp_msg_id, (void *)conv);
  return true;
}

void fd_tree_clear(struct fd_tree *t) {
  free(t->by_id);
  t->by_id = NULL;
}

bool fd_tree_find(const struct fd_tree *t, const char *id, size_t *idx) {
  if (!id) return false;
  size_t lo = 0, hi = t->conv->n_messages;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(t->conv->messages[t->by_id[mid]].id, id);
    if (c == 0) {
      *idx = t->by_id[mid];
      return true;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}

enum fd_prompt_status fd_tree_prompt(const struct fd_tree *t, const char *parent_id, size_t *turns, size_t *n) {
  size_t count = 0, limit = t->conv->n_messages;
  const char *id = parent_id;
  /* Walk up collecting the chain leaf-first; more steps than turns means a cycle. */
  while (id) {
    size_t idx;
    if (!fd_tree_find(t, id, &idx) || count == limit) return FD_PROMPT_UNKNOWN_TURN;
    turns[count++] = idx;
    id = t->conv->messages[idx].parent_id;
  }
  if (count == 0) return FD_PROMPT_INVALID;
  for (size_t i = 0; i < count / 2; i++) {
    size_t tmp = turns[i];
    turns[i] = turns[count - 1 - i];
    turns[count - 1 - i] = tmp;
  }
  *n = count;
  enum fd_role last = t->conv->messages[turns[count - 1]].role;
  return last == FD_ROLE_USER || last == FD_ROLE_TOOL ? FD_PROMPT_OK : FD_PROMPT_INVALID;
}
