/* serve_cmd.c — `feedbackd serve`: database, migrations, first-start bootstrap, the ingest
 * writers and the HTTP daemon; then waits for SIGTERM/SIGINT and shuts down in order:
 * stop accepting, finish requests in flight (every acknowledged event is committed), stop
 * the writers, stop the embedded cluster, exit 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "api/export_stream.h"
#include "api/parse_offload.h"
#include "cli/cli.h"
#include "db/keys_db.h"
#include "db/migrate.h"
#include "db/periodic.h"
#include "db/projects_db.h"
#include "http/daemon.h"
#include "http/request.h"
#include "pipeline/pipeline.h"
#include "pipeline/webhooks.h"
#include "util/log.h"

/* On the very first start there is no project and no key: make the default project
 * (open to this server's own origin, so /demo works) and print one admin and one ingest
 * key, once. */
static bool bootstrap(struct fd_db *db, const struct fd_config *cfg) {
  long n = 0;
  if (fd_db_failed(fd_projects_count(db, &n))) return false;
  if (n != 0) return true;
  const char *port = strrchr(cfg->listen, ':');
  char origins[512];
  snprintf(origins, sizeof origins, "http://%s,http://localhost%s,http://127.0.0.1%s", cfg->listen, port ? port : "",
           port ? port : "");
  json_t *o = fd_origins_from_csv(origins);
  char err[512];
  int64_t pid = 0;
  enum fd_db_status st = fd_projects_create(db, "default", "Default project", o, &pid, err, sizeof err);
  json_decref(o);
  if (st != FD_DB_ONE) return st == FD_DB_NONE; /* NONE: a replica created it at the same moment */
  json_t *admin = NULL, *ingest = NULL;
  if (fd_db_failed(fd_keys_create(db, pid, FD_SCOPE_ADMIN, "bootstrap admin", &admin)) ||
      fd_db_failed(fd_keys_create(db, pid, FD_SCOPE_INGEST, "bootstrap ingest", &ingest))) {
    json_decref(admin);
    json_decref(ingest);
    return false;
  }
  printf(
      "\nfeedbackd: first start — created project \"default\". These keys are shown once; keep them:\n"
      "  ADMIN KEY  (scopes: admin — keys, settings, erasure, read, export): %s\n"
      "  INGEST KEY (scopes: ingest — browser-safe, for chat pages):         %s\n"
      "  Try the demo chat: http://%s/demo?key=%s\n"
      "  Dashboard:         http://%s/dashboard  (use the admin key, or create a read key)\n\n",
      json_string_value(json_object_get(admin, "key")), json_string_value(json_object_get(ingest, "key")), cfg->listen,
      json_string_value(json_object_get(ingest, "key")), cfg->listen);
  fflush(stdout);
  json_decref(admin);
  json_decref(ingest);
  return true;
}

/* Months of feedback partitions kept ready beyond the current one, and the most retention
 * steps one maintenance pass takes (a backlog is worked off over several passes). */
#define FD_PARTITIONS_AHEAD 2
#define FD_MAINTENANCE_STEPS 200

int fd_cli_serve(const struct fd_config *cfg, int argc, char **argv) {
  /* Signals go to this thread's sigwait only: block them before any thread exists. */
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  signal(SIGPIPE, SIG_IGN);

  int rc = 1;
  struct fd_embedded *emb = NULL;
  struct fd_daemon *daemon = NULL;
  struct fd_periodic *stats = NULL, *maintenance = NULL;
  struct fd_webhooks *webhooks = NULL; /* delivery threads: an attempt in flight is finished or leased */
  struct fd_api_app app = {0};         /* what the handlers share; outlives the daemon */
  char conninfo[2048], err[1024];
  struct fd_db *db = fd_cli_connect(cfg, &emb, conninfo, sizeof conninfo, NULL);
  if (!db) return 1;
  int applied = 0;
  bool mismatch = false;
  /* without migrating, still refuse a schema whose applied migrations have changed */
  if (cfg->migrate ? !fd_migrate_apply(db, &applied, err, sizeof err)
                   : !fd_migrate_verify(db, &mismatch, err, sizeof err)) {
    fprintf(stderr, "feedbackd: %s\n", err);
    goto out;
  }
  if (!bootstrap(db, cfg)) {
    fprintf(stderr,
            "feedbackd: could not create the default project (are migrations applied? run feedbackd migrate)\n");
    goto out;
  }
  app.cfg = cfg;
  app.limits = fd_config_limits(cfg);
  fd_api_metrics_init();
  app.conninfo = conninfo;
  app.pool = fd_pool_new(conninfo, cfg->pool_size, cfg->prepared_statements);
  if (!app.pool) goto out;
  if (cfg->read_database_url && *cfg->read_database_url) {
    /* opened on demand like the primary's: a standby that is down only sends reads to the primary */
    app.read_pool = fd_pool_new(cfg->read_database_url, cfg->pool_size, cfg->prepared_statements);
    if (!app.read_pool) goto out;
    fd_log(FD_LOG_INFO, "msg=\"reads routed to a hot standby\" replay_wait_ms=%d", FD_READ_REPLAY_WAIT_MS);
  }
  app.ingest = fd_ingest_start(cfg, conninfo);
  if (!app.ingest) {
    fprintf(stderr, "feedbackd: cannot start the ingest writers\n");
    goto out;
  }
  app.exports = fd_export_service_start(cfg, conninfo, app.pool);
  if (!app.exports) {
    fprintf(stderr, "feedbackd: cannot start the export workers\n");
    goto out;
  }
  bool parse_failed = false;
  app.parse = fd_parse_service_start(cfg, app.ingest, &parse_failed);
  if (parse_failed) {
    fprintf(stderr, "feedbackd: cannot start the parse workers\n");
    goto out;
  }
  /* CALL outside a transaction block: the procedures commit after each project, each step */
  struct fd_periodic_job catch_up = {"stats catch-up",
                                     "CALL fd_stats_catch_up_all()",
                                     cfg->stats_catch_up_ms,
                                     false,
                                     &fd_metrics.stats_catch_up_seconds,
                                     &fd_metrics.stats_catch_up_failures};
  stats = fd_periodic_start(conninfo, &catch_up);
  /* partitions ahead and retention, right at start (a server down for months finds its
   * month's partition made before much lands in the default one), then every interval */
  char maintain_sql[96];
  snprintf(maintain_sql, sizeof maintain_sql, "CALL fd_maintenance(%d, %d, %d)", cfg->retention_batch,
           FD_PARTITIONS_AHEAD, FD_MAINTENANCE_STEPS);
  struct fd_periodic_job maintain = {"maintenance",
                                     maintain_sql,
                                     cfg->maintenance_interval_ms,
                                     true,
                                     &fd_metrics.maintenance_seconds,
                                     &fd_metrics.maintenance_failures};
  maintenance = fd_periodic_start(conninfo, &maintain);
  webhooks = fd_webhooks_start(cfg, conninfo);
  if (cfg->webhook_workers > 0 && !webhooks) {
    fprintf(stderr, "feedbackd: cannot start the webhook delivery threads\n");
    goto out;
  }
  struct fd_http_deps deps = {.pool = app.pool, .app = &app};
  daemon = fd_daemon_start(cfg, fd_api_routes, &deps, err, sizeof err);
  if (!daemon) {
    fprintf(stderr, "feedbackd: %s\n", err);
    goto out;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  fd_log(FD_LOG_INFO, "msg=\"shutting down\" signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  fd_daemon_quiesce(daemon);
  if (!fd_daemon_drain(daemon, cfg->shutdown_timeout * 1000))
    fd_log(FD_LOG_WARN, "msg=\"requests still in flight at shutdown timeout\"");
  rc = 0;
out:
  /* large bodies still being validated: each is answered or handed to the writers */
  fd_parse_service_stop(app.parse);
  /* writers next: they commit what is queued and resume the waiting connections */
  fd_ingest_stop(app.ingest);
  /* exports still running are cut short: the daemon must not stop with suspended connections */
  fd_export_service_cancel(app.exports);
  /* requests the writers just resumed (a timed-out drain) get their answer before the
   * connections close */
  if (daemon && !fd_daemon_drain(daemon, 2000))
    fd_log(FD_LOG_WARN, "msg=\"closing connections with requests in flight\"");
  fd_daemon_stop(daemon);
  fd_export_service_stop(app.exports); /* after the daemon: it has released every export */
  fd_periodic_stop(stats);
  fd_periodic_stop(maintenance);
  fd_webhooks_stop(webhooks);
  fd_ingest_free(app.ingest);
  fd_pool_free(app.read_pool);
  fd_pool_free(app.pool);
  fd_db_close(db);
  fd_embedded_stop(emb);
  if (rc == 0) fd_log(FD_LOG_INFO, "msg=\"stopped\"");
  return rc;
}
