/* exclude.h — the raters an export leaves out (parameter exclude_users=u1,u2, docs/api.md
 * "Export"): a data team that judged some raters unreliable (GET /v1/agreement) drops their
 * feedback from the training data. Their events are treated as if they had never been sent:
 * they count nowhere, so they neither make records nor hide their own earlier votes. */
#ifndef FD_EXPORT_EXCLUDE_H
#define FD_EXPORT_EXCLUDE_H

#include <stdbool.h>
#include <stddef.h>

struct fd_user_set {
  char *buf;          /* the list's copy, cut at the commas */
  const char **users; /* sorted, without repeats */
  size_t n;
};

/* Parse "u1,u2,…" (NULL: the empty set). False on an empty name (",," or a comma at either
 * end) or when out of memory (*oom then true); the set is then empty. */
bool fd_user_set_parse(const char *list, struct fd_user_set *set, bool *oom) __attribute__((warn_unused_result));
bool fd_user_set_has(const struct fd_user_set *set, const char *user);
void fd_user_set_free(struct fd_user_set *set);

#endif
