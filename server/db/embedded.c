/* embedded.c — the private cluster's life cycle: where it lives, which user it runs as,
 * initdb, pg_ctl start/stop, its database (contract in embedded.h). Running the tools
 * themselves is util/process.c. */
#include "db/embedded.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"
#include "util/process.h"

#define EMB_DB "feedbackd"
#define EMB_ROLE "feedbackd"
#define EMB_PORT "5432"

struct fd_embedded {
  char bindir[PATH_MAX];
  char pgdata[PATH_MAX + 16];
  char logfile[PATH_MAX + 16];
  struct fd_process_user user;
  bool as_user; /* feedbackd is root: the cluster runs as `user` */
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

/* Run one of the cluster's tools as the cluster's user, its output appended to the log. */
static int run_tool(const struct fd_embedded *emb, const char *const argv[]) {
  return fd_process_run(argv, emb->logfile, emb->as_user ? &emb->user : NULL);
}

/* The path of tool `name` (initdb, pg_ctl) in the cluster's bindir. */
static void tool_path(const struct fd_embedded *emb, const char *name, char out[PATH_MAX + 16]) {
  snprintf(out, PATH_MAX + 16, "%s/%s", emb->bindir, name);
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

/* The binaries, the data directory (created if need be) and the paths inside it. */
static bool locate_cluster(struct fd_embedded *emb, const char *data_dir, const char *bindir, char *err,
                           size_t errlen) {
  if (!fd_embedded_find_bindir(bindir, emb->bindir, sizeof emb->bindir)) {
    snprintf(err, errlen,
             "no PostgreSQL server binaries found (looked for initdb via pg_config --bindir and in "
             "/usr/lib/postgresql/*/bin); install postgresql (apt-get install -y postgresql-15), set pg_bindir, "
             "or set FEEDBACKD_DATABASE_URL to use an external database");
    return false;
  }
  if (!mkdir_p(data_dir, 0755)) {
    snprintf(err, errlen, "cannot create data directory %s: %s", data_dir, strerror(errno));
    return false;
  }
  char abs[PATH_MAX];
  if (!realpath(data_dir, abs)) {
    snprintf(err, errlen, "cannot resolve data directory %s: %s", data_dir, strerror(errno));
    return false;
  }
  snprintf(emb->pgdata, sizeof emb->pgdata, "%s/postgres", abs);
  snprintf(emb->logfile, sizeof emb->logfile, "%s/postgres.log", abs);
  /* the socket path must fit in sockaddr_un.sun_path */
  if (strlen(emb->pgdata) + sizeof "/.s.PGSQL." EMB_PORT > sizeof(((struct sockaddr_un *)0)->sun_path)) {
    snprintf(err, errlen, "data directory path %s is too long for a unix socket; choose a shorter data_dir", abs);
    return false;
  }
  return true;
}

/* As root, the cluster runs as the unprivileged `user` (PostgreSQL refuses root), who must
 * be able to write the log file. */
static bool choose_cluster_user(struct fd_embedded *emb, const char *user, char *err, size_t errlen) {
  if (geteuid() != 0) return true;
  if (!fd_process_user_lookup(user, &emb->user)) {
    snprintf(err, errlen,
             "running as root: PostgreSQL must run as an unprivileged user, but user '%s' does not exist "
             "(create it, e.g. useradd --system %s, or set embedded_user)",
             user, user);
    return false;
  }
  emb->as_user = true;
  int fd = open(emb->logfile, O_WRONLY | O_CREAT | O_APPEND, 0640);
  if (fd >= 0) {
    if (fchown(fd, emb->user.uid, emb->user.gid) != 0) { /* the cluster then logs nothing: not fatal */
    }
    close(fd);
  }
  return true;
}

/* initdb, unless the cluster exists (*created then stays false). */
static bool init_cluster(struct fd_embedded *emb, const char *user, bool *created, char *err, size_t errlen) {
  if (file_exists(emb->pgdata, "PG_VERSION")) return true;
  if (mkdir(emb->pgdata, 0700) != 0 && errno != EEXIST) {
    snprintf(err, errlen, "cannot create %s: %s", emb->pgdata, strerror(errno));
    return false;
  }
  if (emb->as_user && chown(emb->pgdata, emb->user.uid, emb->user.gid) != 0) {
    snprintf(err, errlen, "cannot hand %s to user %s: %s", emb->pgdata, user, strerror(errno));
    return false;
  }
  fd_log(FD_LOG_INFO, "msg=\"initialising embedded PostgreSQL cluster\" pgdata=%s", emb->pgdata);
  char initdb[PATH_MAX + 16];
  tool_path(emb, "initdb", initdb);
  const char *const argv[] = {initdb, "-D",   emb->pgdata,  "-U",           EMB_ROLE,
                              "-E",   "UTF8", "--locale=C", "--auth=trust", NULL};
  if (run_tool(emb, argv) != 0) {
    snprintf(err, errlen,
             "initdb failed (see %s); as root, user '%s' must be able to reach every parent directory of %s",
             emb->logfile, user, emb->pgdata);
    return false;
  }
  if (!append_conf(emb)) {
    snprintf(err, errlen, "cannot write %s/postgresql.conf", emb->pgdata);
    return false;
  }
  *created = true;
  return true;
}

/* pg_ctl start, unless the cluster already runs (another feedbackd process: left to it). */
static bool run_cluster(struct fd_embedded *emb, char *err, size_t errlen) {
  char pg_ctl[PATH_MAX + 16];
  tool_path(emb, "pg_ctl", pg_ctl);
  const char *const status_argv[] = {pg_ctl, "status", "-D", emb->pgdata, NULL};
  if (run_tool(emb, status_argv) == 0) return true;
  fd_log(FD_LOG_INFO, "msg=\"starting embedded PostgreSQL\" pgdata=%s log=%s", emb->pgdata, emb->logfile);
  const char *const start_argv[] = {pg_ctl, "start", "-D", emb->pgdata, "-l", emb->logfile, "-w", "-t", "60", NULL};
  if (run_tool(emb, start_argv) != 0) {
    snprintf(err, errlen, "the embedded PostgreSQL did not start (see %s)", emb->logfile);
    return false;
  }
  emb->started_here = true;
  return true;
}

struct fd_embedded *fd_embedded_start(const char *data_dir, const char *bindir, const char *user, char *conninfo,
                                      size_t conninfo_len, bool *created, char *err, size_t errlen) {
  *created = false;
  struct fd_embedded *emb = calloc(1, sizeof *emb);
  if (!emb) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (!locate_cluster(emb, data_dir, bindir, err, errlen) || !choose_cluster_user(emb, user, err, errlen) ||
      !init_cluster(emb, user, created, err, errlen) || !run_cluster(emb, err, errlen) ||
      !ensure_database(emb->pgdata, err, errlen)) {
    fd_embedded_stop(emb);
    return NULL;
  }
  snprintf(conninfo, conninfo_len, "host=%s port=" EMB_PORT " dbname=" EMB_DB " user=" EMB_ROLE, emb->pgdata);
  return emb;
}

void fd_embedded_stop(struct fd_embedded *emb) {
  if (!emb) return;
  if (emb->started_here) {
    char pg_ctl[PATH_MAX + 16];
    tool_path(emb, "pg_ctl", pg_ctl);
    const char *const argv[] = {pg_ctl, "stop", "-D", emb->pgdata, "-m", "fast", "-w", "-t", "60", NULL};
    if (run_tool(emb, argv) != 0)
      fd_log(FD_LOG_WARN, "msg=\"embedded PostgreSQL did not stop cleanly\" log=%s", emb->logfile);
    else
      fd_log(FD_LOG_INFO, "msg=\"embedded PostgreSQL stopped\"");
  }
  free(emb);
}
