/* exclude.c — see exclude.h. */
#include "export/exclude.h"

#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

bool fd_user_set_parse(const char *list, struct fd_user_set *set, bool *oom) {
  *set = (struct fd_user_set){0};
  *oom = false;
  if (!list) return true;
  size_t n = 1;
  for (const char *p = list; *p; p++) n += *p == ',';
  set->buf = strdup(list);
  set->users = malloc(n * sizeof *set->users);
  if (!set->buf || !set->users) {
    fd_user_set_free(set);
    *oom = true;
    return false;
  }
  char *s = set->buf;
  for (size_t i = 0; i < n; i++) {
    char *comma = strchr(s, ',');
    if (comma) *comma = '\0';
    if (!*s) {
      fd_user_set_free(set);
      return false;
    }
    set->users[i] = s;
    s = comma ? comma + 1 : s;
  }
  qsort(set->users, n, sizeof *set->users, cmp_str);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (u == 0 || strcmp(set->users[u - 1], set->users[i]) != 0) set->users[u++] = set->users[i];
  set->n = u;
  return true;
}

bool fd_user_set_has(const struct fd_user_set *set, const char *user) {
  return user && set->n && bsearch(&user, set->users, set->n, sizeof *set->users, cmp_str);
}

void fd_user_set_free(struct fd_user_set *set) {
  free(set->buf);
  free(set->users);
  *set = (struct fd_user_set){0};
}
