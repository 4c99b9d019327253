/* cli.h — the subcommands of the feedbackd binary (docs/api.md "Operating contract").
 * Each returns the process exit status. */
#ifndef FD_CLI_CLI_H
#define FD_CLI_CLI_H

#include "db/embedded.h"
#include "db/pool.h"
#include "util/config.h"

int fd_cli_serve(const struct fd_config *cfg, int argc, char **argv);
int fd_cli_migrate(const struct fd_config *cfg, int argc, char **argv);
int fd_cli_projects(const struct fd_config *cfg, int argc, char **argv);
int fd_cli_keys(const struct fd_config *cfg, int argc, char **argv);
int fd_cli_export(const struct fd_config *cfg, int argc, char **argv);

/* The database a command talks to: FEEDBACKD_DATABASE_URL, else the embedded cluster
 * (started if it is not running; *emb then must be passed to fd_embedded_stop). Retries
 * for cfg->db_retry_seconds. NULL after printing why. conninfo receives the string used. */
struct fd_db *fd_cli_connect(const struct fd_config *cfg, struct fd_embedded **emb, char *conninfo, size_t len,
                             bool *created_cluster);

/* "--origins a,b" -> ["a","b"]; "*" -> "*"; NULL -> []. New reference. */
#include <jansson.h>
json_t *fd_origins_from_csv(const char *csv);

#endif
