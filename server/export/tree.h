/* tree.h — a conversation as a tree: find a turn by id, rebuild the prompt of a response
 * (docs/export.md "The prompt of a response").
 *
 * The prompt of an assistant message M is the chain of turns from the conversation's root
 * down to M's parent. It is `unknown_turn` when a turn of the chain is not logged (a parent_id
 * naming no turn of this conversation, or a cycle), and `invalid_prompt` when it is empty (M is
 * a root) or its last turn is neither `user` nor `tool`. */
#ifndef FD_EXPORT_TREE_H
#define FD_EXPORT_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "export/model.h"

enum fd_prompt_status { FD_PROMPT_OK, FD_PROMPT_UNKNOWN_TURN, FD_PROMPT_INVALID };

/* An index of one conversation's messages by id. Borrows conv, which must outlive it. */
struct fd_tree {
  const struct fd_conversation *conv;
  size_t *by_id; /* message indices sorted by id (bytewise) */
};

/* False when out of memory. On success release with fd_tree_clear. */
bool fd_tree_init(struct fd_tree *t, const struct fd_conversation *conv) __attribute__((warn_unused_result));
void fd_tree_clear(struct fd_tree *t);

/* The index in conv->messages of the turn named id; false when not logged here (or id NULL). */
bool fd_tree_find(const struct fd_tree *t, const char *id, size_t *idx);

/* Rebuild the prompt that ends at turn `parent_id` (an assistant message's parent; NULL for a
 * root message). On FD_PROMPT_OK, turns[0..*n) hold message indices root first; `turns` must
 * have room for conv->n_messages entries. */
enum fd_prompt_status fd_tree_prompt(const struct fd_tree *t, const char *parent_id, size_t *turns, size_t *n);

#endif
