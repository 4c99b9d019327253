/* process.c — run a helper program as (possibly) another user (see process.h). */
#include "util/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

bool fd_process_user_lookup(const char *name, struct fd_process_user *out) {
  struct passwd *pw = getpwnam(name);
  if (!pw || pw->pw_uid == 0) return false;
  out->uid = pw->pw_uid;
  out->gid = pw->pw_gid;
  return true;
}

/* In the child, before exec: a clean signal state, a session of its own, the standard
 * streams, the user. Only async-signal-safe calls: the parent may have other threads. */
static void child_setup(const char *log_path, const struct fd_process_user *user) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  setsid();
  int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0640);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, STDIN_FILENO);
  if (user && (setgroups(0, NULL) != 0 || setgid(user->gid) != 0 || setuid(user->uid) != 0)) _exit(126);
}

int fd_process_run(const char *const argv[], const char *log_path, const struct fd_process_user *user) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    child_setup(log_path, user);
    execv(argv[0], (char *const *)argv); /* execv does not modify its arguments */
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
