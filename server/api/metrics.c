/* metrics.c — GET /metrics in the Prometheus text exposition format (version 0.0.4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "db/pool.h"
#include "http/reply.h"
#include "ingest/reactions.h"
#include "ingest/signal_names.h"
#include "pipeline/pipeline.h"
#include "util/crypto.h"
#include "util/metrics.h"

static bool token_ok(struct fd_request *req) {
  const char *token = fd_api_app_of(req)->cfg->metrics_token;
  if (!token || !*token) return true;
  const char *h = fd_request_header(req, "Authorization");
  if (!h || strncmp(h, "Bearer ", 7) != 0) return false;
  unsigned char a[FD_SHA256_LEN], b[FD_SHA256_LEN];
  fd_sha256(h + 7, strlen(h + 7), a);
  fd_sha256(token, strlen(token), b);
  return fd_const_time_eq(a, b, sizeof a);
}

void fd_api_metrics_init(void) {
  struct fd_reaction_set defaults;
  fd_reaction_set_default(&defaults);
  for (size_t r = 0; r < defaults.n; r++) fd_metrics_reaction_name(defaults.r[r].name);
}

void fd_api_metrics(struct fd_request *req) {
  const struct fd_api_app *app = fd_api_app_of(req);
  if (!token_ok(req)) {
    fd_reply_error(req, FD_ERR_UNAUTHORIZED, NULL, "/metrics needs the metrics token");
    return;
  }
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  if (!out) {
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "out of memory");
    return;
  }
  fd_metrics_write_requests(out);

  fd_metrics_write_labelled_counter(out, "feedbackd_events_stored_total",
                                    "Rows committed by the ingest writer, by kind.", "kind", fd_stored_kind_names,
                                    fd_metrics.stored, FD_STORED_COUNT);
  /* by name: the registered reaction names (fd_api_metrics_init) and every signal name,
   * zeros included */
  fd_metrics_write_reactions(out);
  fd_metrics_write_labelled_counter(out, "feedbackd_signals_stored_total",
                                    "Signal events committed by the ingest writer, by signal name.", "name",
                                    fd_signal_names, fd_metrics.signals, FD_SIGNALS_ALL);
  fd_metrics_write_labelled_counter(out, "feedbackd_ingest_copy_batches_total",
                                    "Writer batches of feedback rows by how they were stored: binary COPY, INSERT for a"
                                    " project with a feedback.stored endpoint, INSERT after the COPY rolled back.",
                                    "result", fd_copy_result_names, fd_metrics.copy_batches, FD_COPY_COUNT);
  fprintf(out,
          "# HELP feedbackd_events_duplicate_total Events and messages answered as duplicates.\n"
          "# TYPE feedbackd_events_duplicate_total counter\nfeedbackd_events_duplicate_total %llu\n"
          "# HELP feedbackd_events_conflict_total Ids reused with different content.\n"
          "# TYPE feedbackd_events_conflict_total counter\nfeedbackd_events_conflict_total %llu\n"
          "# HELP feedbackd_ingest_rejected_total Requests answered 503 because the ingest queue was full.\n"
          "# TYPE feedbackd_ingest_rejected_total counter\nfeedbackd_ingest_rejected_total %llu\n",
          (unsigned long long)FD_METRIC_GET(fd_metrics.duplicates),
          (unsigned long long)FD_METRIC_GET(fd_metrics.conflicts),
          (unsigned long long)FD_METRIC_GET(fd_metrics.rejected_full));
  const char *held_outcomes[] = {"taken", "refused"};
  const uint64_t held[] = {FD_METRIC_GET(fd_metrics.held_taken), FD_METRIC_GET(fd_metrics.held_refused)};
  fd_metrics_write_labelled_counter(out, "feedbackd_ingest_held_total",
                                    "Large ingest bodies whose head waited for its project's queue share, by outcome.",
                                    "outcome", held_outcomes, held, 2);
  fprintf(out,
          "# HELP feedbackd_ingest_queue_depth Events waiting for the writer.\n"
          "# TYPE feedbackd_ingest_queue_depth gauge\nfeedbackd_ingest_queue_depth %ld\n"
          "# HELP feedbackd_ingest_queue_capacity Bound of the ingest queue.\n"
          "# TYPE feedbackd_ingest_queue_capacity gauge\nfeedbackd_ingest_queue_capacity %d\n",
          app->ingest ? fd_ingest_depth(app->ingest) : 0L, app->cfg->queue_capacity);
  fputs(
      "# HELP feedbackd_ingest_batch_size Rows per writer transaction.\n"
      "# TYPE feedbackd_ingest_batch_size histogram\n",
      out);
  fd_histogram_write(out, "feedbackd_ingest_batch_size", "", &fd_metrics.batch_size);
  fputs(
      "# HELP feedbackd_ingest_commit_duration_seconds Writer transaction time, BEGIN to COMMIT.\n"
      "# TYPE feedbackd_ingest_commit_duration_seconds histogram\n",
      out);
  fd_histogram_write(out, "feedbackd_ingest_commit_duration_seconds", "", &fd_metrics.commit_seconds);
  fputs(
      "# HELP feedbackd_ingest_wait_duration_seconds Per writer transaction, how long its oldest request"
      " waited for a writer since its body was read.\n"
      "# TYPE feedbackd_ingest_wait_duration_seconds histogram\n",
      out);
  fd_histogram_write(out, "feedbackd_ingest_wait_duration_seconds", "", &fd_metrics.ingest_wait_seconds);
  fprintf(out,
          "# HELP feedbackd_ingest_split_total Requests of more than batch_size rows, written as several"
          " transactions.\n"
          "# TYPE feedbackd_ingest_split_total counter\nfeedbackd_ingest_split_total %llu\n",
          (unsigned long long)FD_METRIC_GET(fd_metrics.split_jobs));
  fprintf(out,
          "# HELP feedbackd_ingest_part_seconds_total Writer time spent on parts of requests written as several"
          " transactions.\n"
          "# TYPE feedbackd_ingest_part_seconds_total counter\nfeedbackd_ingest_part_seconds_total %.6f\n"
          "# HELP feedbackd_ingest_bulk_throttled_seconds_total Time parts of such requests were held back"
          " after a part while another project sent events (bulk_share).\n"
          "# TYPE feedbackd_ingest_bulk_throttled_seconds_total counter\n"
          "feedbackd_ingest_bulk_throttled_seconds_total %.6f\n",
          (double)FD_METRIC_GET(fd_metrics.part_us) / 1e6, (double)FD_METRIC_GET(fd_metrics.bulk_throttled_us) / 1e6);
  fprintf(out,
          "# HELP feedbackd_edit_ratio_computed_total Edit ratios computed by the edit-ratio worker.\n"
          "# TYPE feedbackd_edit_ratio_computed_total counter\nfeedbackd_edit_ratio_computed_total %llu\n"
          "# HELP feedbackd_edit_ratio_cpu_seconds_total CPU time of the edit-ratio worker's thread in its"
          " rounds (reading, computing, storing ratios), all projects.\n"
          "# TYPE feedbackd_edit_ratio_cpu_seconds_total counter\nfeedbackd_edit_ratio_cpu_seconds_total %.6f\n"
          "# HELP feedbackd_edit_ratio_throttled_total Times a project with edits waiting was passed over"
          " because its ratios had used their CPU share (edit_ratio_cpu_share), once per debt.\n"
          "# TYPE feedbackd_edit_ratio_throttled_total counter\nfeedbackd_edit_ratio_throttled_total %llu\n"
          "# HELP feedbackd_edit_ratio_dropped_total Stored edits left with a null edit_ratio because the"
          " worker's backlog, or their project's half of it, was full.\n"
          "# TYPE feedbackd_edit_ratio_dropped_total counter\nfeedbackd_edit_ratio_dropped_total %llu\n",
          (unsigned long long)FD_METRIC_GET(fd_metrics.edit_ratios_computed),
          (double)FD_METRIC_GET(fd_metrics.edit_ratio_cpu_ns) / 1e9,
          (unsigned long long)FD_METRIC_GET(fd_metrics.edit_ratio_throttled),
          (unsigned long long)FD_METRIC_GET(fd_metrics.edit_ratio_dropped));
  fprintf(out,
          "# HELP feedbackd_parse_cpu_seconds_total CPU time of the parse workers' threads on ingest bodies of"
          " 64 KiB or more (parsing, validation, row building, queueing), all projects.\n"
          "# TYPE feedbackd_parse_cpu_seconds_total counter\nfeedbackd_parse_cpu_seconds_total %.6f\n"
          "# HELP feedbackd_parse_throttled_total Times a project's large body was passed over by the parse"
          " workers because its bodies had used their CPU share while another project was active"
          " (parse_cpu_share), once per debt.\n"
          "# TYPE feedbackd_parse_throttled_total counter\nfeedbackd_parse_throttled_total %llu\n",
          (double)FD_METRIC_GET(fd_metrics.parse_cpu_ns) / 1e9,
          (unsigned long long)FD_METRIC_GET(fd_metrics.parse_throttled));
  fputs(
      "# HELP feedbackd_stats_catch_up_duration_seconds Background stats catch-ups (every project),"
      " each applying the events written since the one before.\n"
      "# TYPE feedbackd_stats_catch_up_duration_seconds histogram\n",
      out);
  fd_histogram_write(out, "feedbackd_stats_catch_up_duration_seconds", "", &fd_metrics.stats_catch_up_seconds);
  fprintf(out,
          "# HELP feedbackd_stats_catch_up_failures_total Background stats catch-ups that failed.\n"
          "# TYPE feedbackd_stats_catch_up_failures_total counter\nfeedbackd_stats_catch_up_failures_total %llu\n",
          (unsigned long long)FD_METRIC_GET(fd_metrics.stats_catch_up_failures));
  fputs(
      "# HELP feedbackd_maintenance_duration_seconds Background maintenance passes: feedback partitions"
      " created ahead, retention enforced.\n"
      "# TYPE feedbackd_maintenance_duration_seconds histogram\n",
      out);
  fd_histogram_write(out, "feedbackd_maintenance_duration_seconds", "", &fd_metrics.maintenance_seconds);
  fprintf(out,
          "# HELP feedbackd_maintenance_failures_total Background maintenance passes that failed.\n"
          "# TYPE feedbackd_maintenance_failures_total counter\nfeedbackd_maintenance_failures_total %llu\n",
          (unsigned long long)FD_METRIC_GET(fd_metrics.maintenance_failures));

  fprintf(out,
          "# HELP feedbackd_webhook_deliveries_total Webhook delivery attempts of this process by result: delivered"
          " (2xx), retry (failed, retried later), failed (given up after the retry window).\n"
          "# TYPE feedbackd_webhook_deliveries_total counter\n"
          "feedbackd_webhook_deliveries_total{result=\"delivered\"} %llu\n"
          "feedbackd_webhook_deliveries_total{result=\"retry\"} %llu\n"
          "feedbackd_webhook_deliveries_total{result=\"failed\"} %llu\n"
          "# HELP feedbackd_webhook_pending Webhook deliveries waiting in the outbox, all projects and replicas"
          " (counted by this process's delivery threads once per poll).\n"
          "# TYPE feedbackd_webhook_pending gauge\nfeedbackd_webhook_pending %ld\n",
          (unsigned long long)FD_METRIC_GET(fd_metrics.webhook_delivered),
          (unsigned long long)FD_METRIC_GET(fd_metrics.webhook_retried),
          (unsigned long long)FD_METRIC_GET(fd_metrics.webhook_failed), FD_METRIC_GET(fd_metrics.webhook_pending));

  int size = 0, in_use = 0;
  long waits = 0, errors = 0;
  fd_pool_stats(app->pool, &size, &in_use, &waits, &errors);
  fprintf(out,
          "# HELP feedbackd_db_pool_connections Size of the request handlers' connection pool.\n"
          "# TYPE feedbackd_db_pool_connections gauge\nfeedbackd_db_pool_connections %d\n"
          "# HELP feedbackd_db_pool_in_use Pool connections checked out.\n"
          "# TYPE feedbackd_db_pool_in_use gauge\nfeedbackd_db_pool_in_use %d\n"
          "# HELP feedbackd_db_pool_waits_total Checkouts that had to wait for a free connection.\n"
          "# TYPE feedbackd_db_pool_waits_total counter\nfeedbackd_db_pool_waits_total %ld\n"
          "# HELP feedbackd_db_errors_total Failed database statements and connection attempts.\n"
          "# TYPE feedbackd_db_errors_total counter\nfeedbackd_db_errors_total %ld\n",
          size, in_use, waits, errors);
  fprintf(out,
          "# HELP feedbackd_exports_total Exports started.\n"
          "# TYPE feedbackd_exports_total counter\nfeedbackd_exports_total %llu\n"
          "# HELP feedbackd_export_records_total Records written by exports.\n"
          "# TYPE feedbackd_export_records_total counter\nfeedbackd_export_records_total %llu\n",
          (unsigned long long)FD_METRIC_GET(fd_metrics.exports),
          (unsigned long long)FD_METRIC_GET(fd_metrics.export_records));
  if (fclose(out) != 0 || !buf) {
    free(buf);
    fd_reply_error(req, FD_ERR_INTERNAL, NULL, "out of memory");
    return;
  }
  req->reply_bytes = len;
  struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  fd_reply_response(req, 200, r);
}
