/* config.c — the settings table and the file/env/flag loaders (precedence in config.h). */
#include "util/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/netaddr.h"

enum setting_type { T_STRING, T_INT, T_BOOL, T_DOUBLE };

struct setting {
  const char *key;
  enum setting_type type;
  size_t offset;
  const char *def;
  long min, max; /* for T_INT; for T_DOUBLE max > 0 is its bound (min is 0) */
  bool secret;
  const char *help;
  /* extra validation of a T_STRING value, or NULL */
  bool (*check)(const char *value, char *err, size_t errlen);
};

#define S(key, type, def, min, max, secret, help) \
  { #key, type, offsetof(struct fd_config, key), def, min, max, secret, help, NULL }
#define S_CHECKED(key, def, check, help) \
  { #key, T_STRING, offsetof(struct fd_config, key), def, 0, 0, false, help, check }
#define S_FRACTION(key, def, help) \
  { #key, T_DOUBLE, offsetof(struct fd_config, key), def, 0, 0, false, help, check_fraction }

static bool check_address_ranges(const char *value, char *err, size_t errlen) {
  struct fd_netranges r;
  if (!fd_netranges_parse(value, &r, err, errlen)) return false;
  fd_netranges_free(&r);
  return true;
}

/* a share: more than 0, at most 1 */
static bool check_fraction(const char *value, char *err, size_t errlen) {
  char *end;
  errno = 0;
  double v = strtod(value, &end);
  if (errno || end == value || *end || !(v > 0 && v <= 1)) {
    snprintf(err, errlen, "must be a number greater than 0 and at most 1, not '%s'", value);
    return false;
  }
  return true;
}

static const struct setting settings[] = {
    S(database_url, T_STRING, "", 0, 0, true, "libpq connection string or URI; empty = embedded private PostgreSQL"),
    S(read_database_url, T_STRING, "", 0, 0, true,
      "libpq connection string of a hot standby that serves reads (empty = everything on database_url)"),
    S(listen, T_STRING, "127.0.0.1:8080", 0, 0, false, "HTTP listen address host:port"),
    S(threads, T_INT, "0", 0, 256, false, "HTTP worker threads (0 = number of cores)"),
    S(data_dir, T_STRING, "./var", 0, 0, false, "directory of the embedded cluster and state"),
    S(log_level, T_STRING, "info", 0, 0, false, "debug, info, warn or error"),
    S(metrics_token, T_STRING, "", 0, 0, true, "bearer token required by /metrics (empty = none)"),
    S(embedded_user, T_STRING, "postgres", 0, 0, false, "OS user running the embedded cluster when started as root"),
    S(pg_bindir, T_STRING, "", 0, 0, false, "PostgreSQL server binaries (empty = pg_config --bindir)"),
    S(migrate, T_BOOL, "true", 0, 0, false, "serve applies pending migrations at start-up"),
    S(prepared_statements, T_BOOL, "true", 0, 0, false,
      "prepare statements per connection (off for PgBouncer transaction pooling)"),
    S(db_retry_seconds, T_INT, "30", 0, 3600, false, "how long serve waits for the database at start-up"),
    S(pool_size, T_INT, "8", 1, 1000, false, "PostgreSQL connections shared by request handlers"),
    S(connection_limit, T_INT, "4096", 16, 1000000, false, "concurrent HTTP connections"),
    S(per_ip_connection_limit, T_INT, "64", 0, 1000000, false,
      "concurrent HTTP connections per client IP (0 = no limit; trusted_proxies are exempt)"),
    S_CHECKED(trusted_proxies, "", check_address_ranges,
              "addresses/CIDR ranges of load balancers: no per-IP limit, client from X-Forwarded-For"),
    S(connection_timeout, T_INT, "60", 1, 86400, false, "seconds an idle HTTP connection is kept open"),
    S(request_head_timeout, T_INT, "10", 1, 3600, false,
      "seconds a client has to send a whole request head (request line and headers)"),
    S(request_body_min_rate, T_INT, "1024", 0, 1073741824, false,
      "bytes/s a request body must keep up: it gets request_head_timeout + bytes/rate seconds (0 = off)"),
    S(shutdown_timeout, T_INT, "20", 0, 3600, false, "seconds to finish in-flight requests on SIGTERM"),
    S(batch_size, T_INT, "500", 1, 5000, false, "rows per writer transaction, at most"),
    S(part_rows, T_INT, "100", 1, 5000, false,
      "a request of more rows is written in parts of this many, one per writer transaction"),
    S(batch_wait_ms, T_INT, "1", 0, 1000, false, "how long the writer waits to fill a batch (ms)"),
    S(queue_capacity, T_INT, "20000", 1, 10000000, false, "ingest queue bound in events; full answers 503"),
    S(writers, T_INT, "2", 1, 64, false, "writer threads (each its own database connection)"),
    S_FRACTION(bulk_share, "0.25",
               "share of one writer's time the parts of large requests take while other projects send (1 = no limit)"),
    S(stats_catch_up_ms, T_INT, "1000", 0, 3600000, false,
      "how often the stats tables catch up with new events in the background (ms; 0 = only when stats are read)"),
    S(maintenance_interval_ms, T_INT, "60000", 0, 86400000, false,
      "how often feedback partitions are created ahead and retention is enforced in the background (ms; 0 = never)"),
    S(retention_batch, T_INT, "5000", 1, 1000000, false,
      "rows one retention step deletes at most (each step its own short transaction)"),
    S(export_workers, T_INT, "2", 1, 64, false, "threads that run HTTP exports (their database work)"),
    S(parse_workers, T_INT, "1", 0, 16, false,
      "threads that validate ingest bodies of 64 KiB or more off the HTTP threads (0 = on the HTTP threads)"),
    S(edit_ratio_cpu_share, T_DOUBLE, "0.1", 0, 1, false,
      "fraction of one core one project's edit ratios may use (0 or 1 = no budget)"),
    S(parse_cpu_share, T_DOUBLE, "0.1", 0, 1, false,
      "fraction of one core the parse workers spend on one project's large bodies while another project is "
      "active (0 or 1 = no budget)"),
    S(max_concurrent_exports, T_INT, "8", 1, 10000, false,
      "HTTP exports running at once, all projects together (each holds a database connection); over: 429"),
    S(max_concurrent_exports_per_project, T_INT, "2", 1, 10000, false,
      "HTTP exports running at once per project; over: 429"),
    S(export_send_timeout, T_INT, "60", 1, 86400, false,
      "seconds an HTTP export waits for a client that stopped reading before it closes the connection"),
    S(webhook_workers, T_INT, "2", 0, 64, false,
      "threads that deliver webhooks (each its own database connection; 0 = this replica delivers none)"),
    S(webhook_poll_ms, T_INT, "1000", 10, 60000, false,
      "how often an idle webhook thread looks for due deliveries (ms)"),
    S(webhook_connect_timeout_ms, T_INT, "5000", 100, 60000, false,
      "webhook delivery: connect timeout per destination address (ms)"),
    S(webhook_timeout_ms, T_INT, "15000", 100, 300000, false,
      "webhook delivery: one attempt, connect to the answer's status line (ms)"),
    S(webhook_retry_base_ms, T_INT, "5000", 10, 3600000, false,
      "webhook delivery: delay before the first retry (ms), doubled per attempt, with jitter"),
    S(webhook_retry_max_delay_ms, T_INT, "3600000", 10, 86400000, false,
      "webhook delivery: longest delay between two attempts (ms)"),
    S(webhook_retry_window_s, T_INT, "86400", 1, 2592000, false,
      "webhook delivery: a delivery still failing this long after its event is marked failed (s)"),
    S(webhook_allow_private, T_BOOL, "false", 0, 0, false,
      "deliver webhooks to loopback, private and link-local addresses (off: refused after DNS resolution)"),
    S(rate_limit_rps, T_DOUBLE, "0", 0, 0, false, "events per second per API key (0 = off)"),
    S(rate_limit_burst, T_INT, "0", 0, 10000000, false, "burst size per API key (0 = same as rate_limit_rps)"),
    S(max_body_bytes, T_INT, "1048576", 1024, 1073741824, false, "request body limit"),
    S(max_batch_items, T_INT, "1000", 1, 100000, false, "items per batch request"),
    S(max_text_bytes, T_INT, "262144", 1, 1073741824, false, "content, edited_content and comment length"),
    S(max_metadata_bytes, T_INT, "16384", 2, 1073741824, false, "metadata object size (compact JSON)"),
    S(max_metadata_depth, T_INT, "16", 1, 1000, false, "metadata nesting depth (the object itself is level 1)"),
    S(max_tags, T_INT, "32", 0, 10000, false, "tags per event"),
    S(max_tag_bytes, T_INT, "64", 1, 10000, false, "length of one tag"),
    S(max_user_bytes, T_INT, "128", 1, 10000, false, "length of user"),
    S(max_model_bytes, T_INT, "128", 1, 10000, false, "length of model"),
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

static const struct setting *find_setting(const char *key) {
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (strcmp(settings[i].key, key) == 0) return &settings[i];
  return NULL;
}

static bool parse_bool(const char *v, bool *out) {
  static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
  for (int i = 0; i < 4; i++) {
    if (strcasecmp(v, yes[i]) == 0) return *out = true, true;
    if (strcasecmp(v, no[i]) == 0) return *out = false, true;
  }
  return false;
}

bool fd_config_set(struct fd_config *cfg, const char *key, const char *value, char *err, size_t errlen) {
  const struct setting *s = find_setting(key);
  if (!s) {
    snprintf(err, errlen, "unknown setting '%s'", key);
    return false;
  }
  void *field = (char *)cfg + s->offset;
  switch (s->type) {
    case T_STRING: {
      if (s->check && !s->check(value, err, errlen)) return false;
      char *copy = strdup(value);
      if (!copy) {
        snprintf(err, errlen, "out of memory");
        return false;
      }
      free(*(char **)field);
      *(char **)field = copy;
      return true;
    }
    case T_INT: {
      char *end;
      errno = 0;
      long v = strtol(value, &end, 10);
      if (errno || end == value || *end || v < s->min || v > s->max) {
        snprintf(err, errlen, "%s must be an integer in %ld..%ld, not '%s'", key, s->min, s->max, value);
        return false;
      }
      *(int *)field = (int)v;
      return true;
    }
    case T_BOOL:
      if (!parse_bool(value, (bool *)field)) {
        snprintf(err, errlen, "%s must be true or false, not '%s'", key, value);
        return false;
      }
      return true;
    case T_DOUBLE: {
      char why[160];
      if (s->check && !s->check(value, why, sizeof why)) {
        snprintf(err, errlen, "%s %s", key, why);
        return false;
      }
      char *end;
      errno = 0;
      double v = strtod(value, &end);
      if (errno || end == value || *end || !isfinite(v) || v < 0) {
        snprintf(err, errlen, "%s must be a non-negative number, not '%s'", key, value);
        return false;
      }
      if (s->max > 0 && v > (double)s->max) {
        snprintf(err, errlen, "%s must be between 0 and %ld, not '%s'", key, s->max, value);
        return false;
      }
      *(double *)field = v;
      return true;
    }
  }
  return false;
}

void fd_config_defaults(struct fd_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  char err[256];
  for (size_t i = 0; i < N_SETTINGS; i++) {
    /* defaults are constants of this file and valid by construction */
    if (!fd_config_set(cfg, settings[i].key, settings[i].def, err, sizeof err)) abort();
  }
}

void fd_config_free(struct fd_config *cfg) {
  if (!cfg) return;
  for (size_t i = 0; i < N_SETTINGS; i++) {
    if (settings[i].type == T_STRING) {
      char **p = (char **)(void *)((char *)cfg + settings[i].offset);
      free(*p);
      *p = NULL;
    }
  }
  free(cfg->config_path);
  cfg->config_path = NULL;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

/* `key = value` lines; '#' or ';' starts a comment line; values may be "double quoted". */
static bool load_file(struct fd_config *cfg, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "feedbackd: cannot read config file %s: %s\n", path, strerror(errno));
    return false;
  }
  char line[4096], err[256];
  int lineno = 0;
  bool ok = true;
  while (ok && fgets(line, sizeof line, f)) {
    lineno++;
    char *s = trim(line);
    if (!*s || *s == '#' || *s == ';') continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      fprintf(stderr, "feedbackd: %s:%d: expected 'key = value'\n", path, lineno);
      ok = false;
      break;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    size_t vl = strlen(value);
    if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
      value[vl - 1] = '\0';
      value++;
    }
    if (!fd_config_set(cfg, key, value, err, sizeof err)) {
      fprintf(stderr, "feedbackd: %s:%d: %s\n", path, lineno, err);
      ok = false;
    }
  }
  fclose(f);
  return ok;
}

static bool load_env(struct fd_config *cfg) {
  char name[128], err[256];
  for (size_t i = 0; i < N_SETTINGS; i++) {
    int n = snprintf(name, sizeof name, "FEEDBACKD_%s", settings[i].key);
    for (int j = 10; j < n; j++) name[j] = (char)toupper((unsigned char)name[j]);
    const char *v = getenv(name);
    if (!v) continue;
    if (!fd_config_set(cfg, settings[i].key, v, err, sizeof err)) {
      fprintf(stderr, "feedbackd: %s: %s\n", name, err);
      return false;
    }
  }
  return true;
}

/* "--batch-size" -> "batch_size" in buf; false if arg is not a long option. */
static bool flag_key(const char *arg, char *buf, size_t len, const char **inline_value) {
  if (strncmp(arg, "--", 2) != 0 || !arg[2]) return false;
  const char *name = arg + 2, *eq = strchr(name, '=');
  size_t n = eq ? (size_t)(eq - name) : strlen(name);
  if (n >= len) return false;
  for (size_t i = 0; i < n; i++) buf[i] = name[i] == '-' ? '_' : name[i];
  buf[n] = '\0';
  *inline_value = eq ? eq + 1 : NULL;
  return true;
}

enum fd_config_result fd_config_load(struct fd_config *cfg, int *argc, char **argv) {
  fd_config_defaults(cfg);
  char key[128], err[256];
  const char *iv;
  /* pass 1: --help, --version and --config, which decide what else is read */
  const char *config_path = getenv("FEEDBACKD_CONFIG");
  for (int i = 1; i < *argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return FD_CONFIG_HELP;
    if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) return FD_CONFIG_VERSION;
    if (strcmp(argv[i], "--config") == 0 && i + 1 < *argc)
      config_path = argv[i + 1];
    else if (strncmp(argv[i], "--config=", 9) == 0)
      config_path = argv[i] + 9;
  }
  if (config_path && *config_path) {
    if (!load_file(cfg, config_path)) return FD_CONFIG_ERROR;
    cfg->config_path = strdup(config_path);
  }
  if (!load_env(cfg)) return FD_CONFIG_ERROR;
  /* pass 2: setting flags, anywhere on the line; everything else stays, in order */
  int out = 1;
  for (int i = 1; i < *argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--config") == 0) {
      i++;
      continue;
    }
    if (strncmp(arg, "--config=", 9) == 0) continue;
    if (flag_key(arg, key, sizeof key, &iv)) {
      const struct setting *s = find_setting(key);
      if (!s && strncmp(key, "no_", 3) == 0 && (s = find_setting(key + 3)) && s->type == T_BOOL && !iv) {
        if (!fd_config_set(cfg, s->key, "false", err, sizeof err)) return FD_CONFIG_ERROR;
        continue;
      }
      if (s) {
        const char *value = iv;
        if (!value && s->type == T_BOOL) value = "true";
        if (!value) {
          if (i + 1 >= *argc) {
            fprintf(stderr, "feedbackd: --%s needs a value\n", arg + 2);
            return FD_CONFIG_ERROR;
          }
          value = argv[++i];
        }
        if (!fd_config_set(cfg, s->key, value, err, sizeof err)) {
          fprintf(stderr, "feedbackd: %s\n", err);
          return FD_CONFIG_ERROR;
        }
        continue;
      }
    }
    argv[out++] = argv[i];
  }
  *argc = out;
  argv[out] = NULL;
  return FD_CONFIG_OK;
}

void fd_config_dump(const struct fd_config *cfg, FILE *out) {
  for (size_t i = 0; i < N_SETTINGS; i++) {
    const struct setting *s = &settings[i];
    const void *field = (const char *)cfg + s->offset;
    fprintf(out, "%s = ", s->key);
    switch (s->type) {
      case T_STRING: {
        const char *v = *(char *const *)field;
        fprintf(out, "\"%s\"\n", s->secret && v && *v ? "********" : (v ? v : ""));
        break;
      }
      case T_INT: fprintf(out, "%d\n", *(const int *)field); break;
      case T_BOOL: fprintf(out, "%s\n", *(const bool *)field ? "true" : "false"); break;
      case T_DOUBLE: fprintf(out, "%g\n", *(const double *)field); break;
    }
  }
}

void fd_config_print_help(void) {
  printf("Settings (flag --name-with-dashes VALUE, environment FEEDBACKD_NAME, config file name = value):\n");
  for (size_t i = 0; i < N_SETTINGS; i++) {
    printf("  %-26s %s (default: %s)\n", settings[i].key, settings[i].help,
           settings[i].def[0] ? settings[i].def : "\"\"");
  }
}

struct fd_limits fd_config_limits(const struct fd_config *cfg) {
  struct fd_limits lim = fd_limits_default();
  lim.body_max_bytes = (size_t)cfg->max_body_bytes;
  lim.batch_max_items = (size_t)cfg->max_batch_items;
  lim.content_max_bytes = lim.edited_content_max_bytes = lim.comment_max_bytes = (size_t)cfg->max_text_bytes;
  lim.metadata_max_bytes = (size_t)cfg->max_metadata_bytes;
  lim.metadata_max_depth = (size_t)cfg->max_metadata_depth;
  lim.tags_max_items = (size_t)cfg->max_tags;
  lim.tag_max_bytes = (size_t)cfg->max_tag_bytes;
  lim.user_max_bytes = (size_t)cfg->max_user_bytes;
  lim.model_max_bytes = (size_t)cfg->max_model_bytes;
  return lim;
}
