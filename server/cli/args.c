/* args.c — subcommand flags (see args.h). */
#include "cli/args.h"

#include <string.h>

const char *fd_arg_value(int argc, char **argv, int from, const char *name, bool *bad) {
  size_t n = strlen(name);
  for (int i = from; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0) continue;
    if (a[2 + n] == '=') return a + 3 + n;
    if (a[2 + n] == '\0') {
      if (i + 1 < argc) return argv[i + 1];
      if (bad) *bad = true;
      return NULL;
    }
  }
  return NULL;
}

static bool takes_value(const char *arg, const char *const *valued) {
  for (int i = 0; valued && valued[i]; i++)
    if (strncmp(arg, "--", 2) == 0 && strcmp(arg + 2, valued[i]) == 0) return true;
  return false;
}

const char *fd_arg_operand(int argc, char **argv, int from, int n, const char *const *valued) {
  int seen = 0;
  for (int i = from; i < argc; i++) {
    if (strncmp(argv[i], "--", 2) == 0) {
      if (takes_value(argv[i], valued)) i++;
      continue;
    }
    if (seen++ == n) return argv[i];
  }
  return NULL;
}

const char *fd_arg_stray(int argc, char **argv, int from, int operands, const char *const *valued) {
  int seen = 0;
  for (int i = from; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0) {
      if (seen++ == operands) return a;
      continue;
    }
    size_t n = strcspn(a + 2, "=");
    bool known = false;
    for (int k = 0; valued && valued[k] && !known; k++)
      known = strlen(valued[k]) == n && strncmp(a + 2, valued[k], n) == 0;
    if (!known) return a;
    if (a[2 + n] == '\0') i++; /* --name VALUE: the value is no operand */
  }
  return NULL;
}
