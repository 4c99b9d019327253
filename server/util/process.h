/* process.h — running a helper program to completion, optionally as another OS user.
 *
 * For the tools feedbackd drives (initdb, pg_ctl): the child runs in a session of its own, so
 * a terminal's Ctrl-C reaches feedbackd only and feedbackd decides the order of shutdown; it
 * starts with no signals blocked and SIGPIPE at its default (whatever the daemon set for its
 * own threads); stdin is /dev/null and stdout/stderr are appended to a log file. */
#ifndef FD_UTIL_PROCESS_H
#define FD_UTIL_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

/* An OS user to run a program as. */
struct fd_process_user {
  uid_t uid;
  gid_t gid;
};

/* The unprivileged OS user `name`: false when there is no such user or it is root. */
bool fd_process_user_lookup(const char *name, struct fd_process_user *out);

/* Run argv (argv[0] a path, NULL-terminated) and wait for it. Output goes to log_path
 * (created 0640 if need be). With user non-NULL, the child drops its supplementary groups
 * and switches to user's gid and uid first (the caller must be root). Returns the exit
 * status; -1 when it could not run or was killed by a signal. */
int fd_process_run(const char *const argv[], const char *log_path, const struct fd_process_user *user);

#endif
