/* config.h — every setting of feedbackd, and how it is loaded.
 *
 * Precedence (docs/api.md "Operating contract"): command-line flags > environment (FEEDBACKD_*)
 * > config file (--config PATH, `key = value` lines) > defaults. One table in config.c names
 * each setting once; the file key, the environment name (FEEDBACKD_ + upper case) and the
 * flag (--key-with-dashes) all derive from it, so they cannot drift apart. */
#ifndef FD_UTIL_CONFIG_H
#define FD_UTIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct fd_config {
  char *database_url;      /* NULL/empty: run the embedded private PostgreSQL */
  char *read_database_url; /* a hot standby for reads (docs/operations.md "Read routing"); empty = primary */
  char *listen;            /* host:port */
  int threads;             /* HTTP worker threads; 0 = number of cores */
  char *data_dir;          /* embedded cluster and state */
  char *log_level;
  char *metrics_token;         /* when set, /metrics needs `Authorization: Bearer <token>` */
  char *embedded_user;         /* OS user that runs the embedded cluster when feedbackd runs as root */
  char *pg_bindir;             /* PostgreSQL server binaries; empty = pg_config --bindir or /usr/lib/postgresql/N/bin */
  bool migrate;                /* serve applies pending migrations at start-up */
  bool prepared_statements;    /* off for PgBouncer in transaction pooling mode */
  int db_retry_seconds;        /* how long serve waits for the database at start-up */
  int pool_size;               /* PostgreSQL connections for request handlers */
  int connection_limit;        /* concurrent HTTP connections */
  int per_ip_connection_limit; /* per TCP peer address; 0 = none; trusted proxies exempt */
  char *trusted_proxies;       /* comma-separated addresses/CIDR ranges of load balancers */
  int connection_timeout;      /* seconds an idle HTTP connection is kept */
  int request_head_timeout;    /* seconds to send a whole request head */
  int request_body_min_rate;   /* bytes/s; a body gets request_head_timeout + bytes/rate seconds; 0 = off */
  int shutdown_timeout;        /* seconds to finish in-flight requests on SIGTERM */
  int batch_size;              /* rows per writer transaction, at most */
  int part_rows;               /* a larger request is written in parts of this many rows */
  int batch_wait_ms;           /* how long the writer waits to fill a batch */
  int queue_capacity;          /* ingest queue bound, in events; full -> 503 */
  int writers;                 /* writer threads */
  double bulk_share;           /* share of one writer's time parts take while other projects send (1 = all) */
  int stats_catch_up_ms;       /* background stats catch-up interval (0 = only on reads) */
  int maintenance_interval_ms; /* background partition maintenance and retention (0 = never) */
  int retention_batch;         /* rows per retention step */
  int export_workers;          /* threads that run the HTTP exports' database work */
  int parse_workers;           /* threads that validate large ingest bodies; 0 = the HTTP threads */
  double edit_ratio_cpu_share; /* of one core, one project's edit ratios at most; 0 or 1 = no budget */
  double parse_cpu_share;      /* of one core, one project's large bodies while others are active; 0 or 1 = none */
  int max_concurrent_exports;  /* HTTP exports running at once, all projects */
  int max_concurrent_exports_per_project; /* ... and per project; over either -> 429 */
  int export_send_timeout;                /* seconds an export waits for a client that stopped reading */
  int webhook_workers;                    /* delivery threads of this replica; 0 = none */
  int webhook_poll_ms;                    /* how often an idle delivery thread looks for due deliveries */
  int webhook_connect_timeout_ms;         /* per destination address */
  int webhook_timeout_ms;                 /* one delivery attempt, connect to status line */
  int webhook_retry_base_ms;              /* first retry delay; doubled per attempt */
  int webhook_retry_max_delay_ms;         /* cap of one retry delay */
  int webhook_retry_window_s;             /* a delivery retried this long after its event is marked failed */
  bool webhook_allow_private;             /* deliver to loopback/private/link-local addresses (SSRF) */
  double rate_limit_rps;                  /* events per second per key; 0 = off */
  int rate_limit_burst;
  int max_body_bytes;
  int max_batch_items;
  int max_text_bytes; /* content, edited_content, comment */
  int max_metadata_bytes;
  int max_metadata_depth;
  int max_tags;
  int max_tag_bytes;
  int max_user_bytes;
  int max_model_bytes;
  char *config_path; /* the file that was read, if any */
};

enum fd_config_result { FD_CONFIG_OK, FD_CONFIG_ERROR, FD_CONFIG_HELP, FD_CONFIG_VERSION };

/* Fill *cfg from defaults, the config file, the environment and argv (in that order of
 * increasing precedence). Flags that are not settings are left in argv: on return
 * *argc/argv hold the remaining arguments (subcommand and its operands) in order.
 * On FD_CONFIG_ERROR a message was printed to stderr. */
enum fd_config_result fd_config_load(struct fd_config *cfg, int *argc, char **argv) __attribute__((warn_unused_result));

/* Set one setting by its file key ("batch_size"); false with a message in err if the key
 * is unknown or the value invalid. Used by the loader and by tests. */
bool fd_config_set(struct fd_config *cfg, const char *key, const char *value, char *err, size_t errlen);

void fd_config_defaults(struct fd_config *cfg);

/* The ingest limits these settings describe (validators read struct fd_limits). */
#include "core/limits.h"
struct fd_limits fd_config_limits(const struct fd_config *cfg);
void fd_config_free(struct fd_config *cfg);

/* Print every setting with its value (secrets masked) in config-file syntax. */
void fd_config_dump(const struct fd_config *cfg, FILE *out);

/* The usage text of settings for --help. */
void fd_config_print_help(void);

#endif
