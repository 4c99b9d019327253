/* reactions.h — a project's set of emoji reactions (kind "reaction", docs/api.md
 * "Reactions"): parsing and validating the `reactions` project setting, the built-in
 * default set, and looking a reaction up by its name or its emoji character. Pure C. */
#ifndef FD_INGEST_REACTIONS_H
#define FD_INGEST_REACTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/errors.h"

#define FD_REACTIONS_MAX 32
#define FD_REACTION_NAME_MAX 32  /* bytes, [a-z0-9_] */
#define FD_REACTION_EMOJI_MAX 32 /* bytes of UTF-8 */

/* The default set as JSON, used where a project has no `reactions` setting: by the SQL that
 * shows a project (db/projects_db.c) and by fd_reaction_set_default. One source for both. */
#define FD_REACTIONS_DEFAULT_JSON                                                 \
  "[{\"name\": \"love\", \"emoji\": \"\xe2\x9d\xa4\xef\xb8\x8f\", \"value\": 1}," \
  " {\"name\": \"like\", \"emoji\": \"\xf0\x9f\x91\x8d\", \"value\": 1},"         \
  " {\"name\": \"laugh\", \"emoji\": \"\xf0\x9f\x98\x82\", \"value\": 0.5},"      \
  " {\"name\": \"wow\", \"emoji\": \"\xf0\x9f\x98\xae\", \"value\": 0},"          \
  " {\"name\": \"sad\", \"emoji\": \"\xf0\x9f\x98\xa2\", \"value\": -0.5},"       \
  " {\"name\": \"angry\", \"emoji\": \"\xf0\x9f\x98\xa1\", \"value\": -1},"       \
  " {\"name\": \"dislike\", \"emoji\": \"\xf0\x9f\x91\x8e\", \"value\": -1}]"

struct fd_reaction {
  char name[FD_REACTION_NAME_MAX + 1];
  char emoji[FD_REACTION_EMOJI_MAX + 1];
  double value; /* -1 .. 1 */
};

struct fd_reaction_set {
  size_t n;
  struct fd_reaction r[FD_REACTIONS_MAX];
};

/* Validate `list` (the value of the `reactions` setting: 1..32 objects {name, emoji, value},
 * names [a-z0-9_]{1,32} and unique, emoji 1..32 bytes and unique, value a number in
 * [-1, 1]) into *out. Errors are invalid_field with the field "reactions" or
 * "reactions[i].member". */
bool fd_reaction_set_parse(const json_t *list, struct fd_reaction_set *out, struct fd_error *err)
    __attribute__((warn_unused_result));

/* The built-in default set. */
void fd_reaction_set_default(struct fd_reaction_set *out);

/* The reaction whose name or emoji character is `text`, or NULL. */
const struct fd_reaction *fd_reaction_find(const struct fd_reaction_set *set, const char *text);

#endif
