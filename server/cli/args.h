/* args.h — tiny option reader for subcommand flags (--name VALUE or --name=VALUE). */
#ifndef FD_CLI_ARGS_H
#define FD_CLI_ARGS_H

#include <stdbool.h>

/* Find --name in argv[from..argc); returns its value (NULL if absent). *bad is set when the
 * flag is present without a value. */
const char *fd_arg_value(int argc, char **argv, int from, const char *name, bool *bad);

/* The n-th operand (an argument that is neither a flag nor a flag's value), or NULL.
 * `valued` lists the flags that take a value, NULL-terminated. */
const char *fd_arg_operand(int argc, char **argv, int from, int n, const char *const *valued);

/* The first argument of argv[from..argc) a command does not take: a flag not in `valued`
 * (as --name or --name=value), or an operand after the first `operands`; NULL when there is
 * none. Lets a command refuse a mistyped flag instead of ignoring it. */
const char *fd_arg_stray(int argc, char **argv, int from, int operands, const char *const *valued);

#endif
