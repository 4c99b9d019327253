/* embedded.c — initdb/pg_ctl management of the private cluster (contract in embedded.h). */
#include "db/embedded.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"

#define EMB_DB "feedbackd"
#define EMB_ROLE "feedbackd"
#define EMB_PORT "5432"

struct fd_embedded {
  char bindir[PATH_MAX];
  char pgdata[PATH_MAX + 16];
  char logfile[PATH_MAX + 16];
  uid_t uid;
  gid_t gid;
  bool as_user;
  bool started_here;
};

static bool is_exec(const char *dir, const char *name) {
  char path[PATH_MAX + 64];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return false;
  return access(path, X_OK) == 0;
}

bool fd_embedded_find_bindir(const char *hint, char *out, size_t len) {
  if (hint && *hint) {
    snprintf(out, len, "%s", hint);
    return is_exec(out, "initdb");
  }
  FILE *p = popen("pg_config --bindir 2>/dev/null", "r");
  if (p) {
    char line[PATH_MAX] = "";
    if (fgets(line, sizeof line, p)) line[strcspn(line, "\n")] = '\0';
    pclose(p);
    if (*line && is_exec(line, "initdb")) {
      snprintf(out, len, "%s", line);
      return true;
    }
  }
  /* Debian's layout: /usr/lib/postgresql/<major>/bin; take the newest major */
  DIR *d = opendir("/usr/lib/postgresql");
  int best = -1;
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      int v = atoi(e->d_name);
      char dir[PATH_MAX + 64];
      snprintf(dir, sizeof dir, "/usr/lib/postgresql/%s/bin", e->d_name);
      if (v > best && is_exec(dir, "initdb")) {
        best = v;
        snprintf(out, len, "%s", dir);
      }
    }
    closedir(d);
  }
  return best >= 0;
}

/* Run argv (argv[0] a path) as the cluster's user, in its own session so a terminal's
 * Ctrl-C reaches feedbackd only (feedbackd then stops the cluster in order), with stdout
 * and stderr appended to the log file. Returns the exit status, -1 if it could not run. */
static int run_as_user(const struct fd_embedded *emb, const char *const argv[]) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    setsid();
    int fd = open(emb->logfile, O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    if (emb->as_user) {
      if (setgroups(0, NULL) != 0 || setgid(emb->gid) != 0 || setuid(emb->uid) != 0) _exit(126);
    }
    execv(argv[0], (char *const *)argv); /* execv does not modify its arguments */
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool mkdir_p(const char *path, mode_t mode) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, mode) != 0 && errno != EEXIST) return false;
    *p = '/';
  }
  return mkdir(buf, mode) == 0 || errno == EEXIST;
}

static bool file_exists(const char *dir, const char *name) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

static bool append_conf(const struct fd_embedded *emb) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/postgresql.conf", emb->pgdata);
  FILE *f = fopen(path, "a");
  if (!f) return false;
  /* The socket lives in the data directory (the server chdirs there, so '.' is it):
   * reachable only by its owner (and root), never over TCP. */
  fputs(
      "\n# added by feedbackd: private cluster, unix socket only\n"
      "listen_addresses = ''\n"
      "unix_socket_directories = '.'\n"
      "port = " EMB_PORT
      "\n"
      "max_connections = 200\n"
      "shared_buffers = 128MB\n"
      "log_timezone = 'UTC'\n"
      "timezone = 'UTC'\n",
      f);
  return fclose(f) == 0;
}

static bool ensure_database(const char *pgdata, char *err, size_t errlen) {
  char ci[PATH_MAX + 128];
  snprintf(ci, sizeof ci, "host=%s port=" EMB_PORT " dbname=postgres user=" EMB_ROLE, pgdata);
  PGconn *c = PQconnectdb(ci);
  bool ok = false;
  if (PQstatus(c) != CONNECTION_OK) {
    snprintf(err, errlen, "cannot connect to the embedded cluster: %s", PQerrorMessage(c));
    goto out;
  }
  PGresult *r = PQexec(c, "SELECT 1 FROM pg_database WHERE datname = '" EMB_DB "'");
  bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  PQclear(r);
  if (!exists) {
    r = PQexec(c, "CREATE DATABASE " EMB_DB);
    /* a concurrent creator may have won the race: that is fine */
    ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
         strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : "", "42P04") == 0;
    if (!ok) snprintf(err, errlen, "CREATE DATABASE failed: %s", PQresultErrorMessage(r));
    PQclear(r);
  } else {
    ok = true;
  }
out:
  PQfinish(c);
  return ok;
}

struct fd_embedded *fd_embedded_start(const char *data_dir, const char *bindir, const char *user, char *conninfo,
                                      size_t conninfo_len, bool *created, char *err, size_t errlen) {
  *created = false;
  struct fd_embedded *emb = calloc(1, sizeof *emb);
  if (!emb) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (!fd_embedded_find_bindir(bindir, emb->bindir, sizeof emb->bindir)) {
    snprintf(err, errlen,
             "no PostgreSQL server binaries found (looked for initdb via pg_config --bindir and in "
             "/usr/lib/postgresql/*/bin); install postgresql (apt-get install -y postgresql-15), set pg_bindir, "
             "or set FEEDBACKD_DATABASE_URL to use an external database");
    goto fail;
  }
  if (!mkdir_p(data_dir, 0755)) {
    snprintf(err, errlen, "cannot create data directory %s: %s", data_dir, strerror(errno));
    goto fail;
  }
  char abs[PATH_MAX];
  if (!realpath(data_dir, abs)) {
    snprintf(err, errlen, "cannot resolve data directory %s: %s", data_dir, strerror(errno));
    goto fail;
  }
  snprintf(emb->pgdata, sizeof emb->pgdata, "%s/postgres", abs);
  snprintf(emb->logfile, sizeof emb->logfile, "%s/postgres.log", abs);
  /* the socket path must fit in sockaddr_un.sun_path */
  if (strlen(emb->pgdata) + sizeof "/.s.PGSQL." EMB_PORT > sizeof(((struct sockaddr_un *)0)->sun_path)) {
    snprintf(err, errlen, "data directory path %s is too long for a unix socket; choose a shorter data_dir", abs);
    goto fail;
  }
  if (geteuid() == 0) {
    struct passwd *pw = getpwnam(user);
    if (!pw || pw->pw_uid == 0) {
      snprintf(err, errlen,
               "running as root: PostgreSQL must run as an unprivileged user, but user '%s' does not exist "
               "(create it, e.g. useradd --system %s, or set embedded_user)",
               user, user);
      goto fail;
    }
    emb->as_user = true;
    emb->uid = pw->pw_uid;
    emb->gid = pw->pw_gid;
    /* the log file is written by the cluster's user */
    int fd = open(emb->logfile, O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (fd >= 0) {
      if (fchown(fd, emb->uid, emb->gid) != 0) { /* the cluster then logs nothing: not fatal */
      }
      close(fd);
    }
  }
  if (!file_exists(emb->pgdata, "PG_VERSION")) {
    if (mkdir(emb->pgdata, 0700) != 0 && errno != EEXIST) {
      snprintf(err, errlen, "cannot create %s: %s", emb->pgdata, strerror(errno));
      goto fail;
    }
    if (emb->as_user && chown(emb->pgdata, emb->uid, emb->gid) != 0) {
      snprintf(err, errlen, "cannot hand %s to user %s: %s", emb->pgdata, user, strerror(errno));
      goto fail;
    }
    fd_log(FD_LOG_INFO, "msg=\"initialising embedded PostgreSQL cluster\" pgdata=%s", emb->pgdata);
    char initdb[PATH_MAX + 16];
    snprintf(initdb, sizeof initdb, "%s/initdb", emb->bindir);
    const char *const argv[] = {initdb, "-D",   emb->pgdata,  "-U",           EMB_ROLE,
                                "-E",   "UTF8", "--locale=C", "--auth=trust", NULL};
    if (run_as_user(emb, argv) != 0) {
      snprintf(err, errlen,
               "initdb failed (see %s); as root, user '%s' must be able to reach every parent directory of %s",
               emb->logfile, user, emb->pgdata);
      goto fail;
    }
    if (!append_conf(emb)) {
      snprintf(err, errlen, "cannot write %s/postgresql.conf", emb->pgdata);
      goto fail;
    }
    *created = true;
  }
  char pg_ctl[PATH_MAX + 16];
  snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", emb->bindir);
  const char *const status_argv[] = {pg_ctl, "status", "-D", emb->pgdata, NULL};
  if (run_as_user(emb, status_argv) != 0) {
    fd_log(FD_LOG_INFO, "msg=\"starting embedded PostgreSQL\" pgdata=%s log=%s", emb->pgdata, emb->logfile);
    const char *const start_argv[] = {pg_ctl, "start", "-D", emb->pgdata, "-l", emb->logfile, "-w", "-t", "60", NULL};
    if (run_as_user(emb, start_argv) != 0) {
      snprintf(err, errlen, "the embedded PostgreSQL did not start (see %s)", emb->logfile);
      goto fail;
    }
    emb->started_here = true;
  }
  if (!ensure_database(emb->pgdata, err, errlen)) goto fail;
  snprintf(conninfo, conninfo_len, "host=%s port=" EMB_PORT " dbname=" EMB_DB " user=" EMB_ROLE, emb->pgdata);
  return emb;
fail:
  fd_embedded_stop(emb);
  return NULL;
}

void fd_embedded_stop(struct fd_embedded *emb) {
  if (!emb) return;
  if (emb->started_here) {
    char pg_ctl[PATH_MAX + 16];
    snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", emb->bindir);
    const char *const argv[] = {pg_ctl, "stop", "-D", emb->pgdata, "-m", "fast", "-w", "-t", "60", NULL};
    if (run_as_user(emb, argv) != 0)
      fd_log(FD_LOG_WARN, "msg=\"embedded PostgreSQL did not stop cleanly\" log=%s", emb->logfile);
    else
      fd_log(FD_LOG_INFO, "msg=\"embedded PostgreSQL stopped\"");
  }
  free(emb);
}
