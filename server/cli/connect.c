/* connect.c — how every subcommand reaches its database (see cli.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/log.h"

struct fd_db *fd_cli_connect(const struct fd_config *cfg, struct fd_embedded **emb, char *conninfo, size_t len,
                             bool *created_cluster) {
  char err[1024];
  *emb = NULL;
  if (created_cluster) *created_cluster = false;
  if (cfg->database_url && *cfg->database_url) {
    snprintf(conninfo, len, "%s", cfg->database_url);
  } else {
    bool created = false;
    *emb =
        fd_embedded_start(cfg->data_dir, cfg->pg_bindir, cfg->embedded_user, conninfo, len, &created, err, sizeof err);
    if (!*emb) {
      fprintf(stderr, "feedbackd: embedded PostgreSQL: %s\n", err);
      return NULL;
    }
    if (created_cluster) *created_cluster = created;
  }
  /* A database that is still starting (docker-compose, a restart) gets the retry window. */
  for (int waited = 0;; waited++) {
    struct fd_db *db = fd_db_connect(conninfo, cfg->prepared_statements, err, sizeof err);
    if (db) return db;
    if (waited >= cfg->db_retry_seconds) {
      fprintf(stderr, "feedbackd: cannot connect to the database after %d s: %s\n", cfg->db_retry_seconds, err);
      break;
    }
    if (waited == 0)
      fd_log(FD_LOG_WARN, "msg=\"database not reachable yet, retrying\" retry_seconds=%d", cfg->db_retry_seconds);
    sleep(1);
  }
  fd_embedded_stop(*emb);
  *emb = NULL;
  return NULL;
}
