/* metrics.h — process counters and histograms for /metrics (Prometheus text format).
 * Updated with relaxed atomics from any thread; rendered by api/metrics.c. */
#ifndef FD_UTIL_METRICS_H
#define FD_UTIL_METRICS_H

#include <stdint.h>
#include <stdio.h>

#define FD_HIST_BUCKETS 14

struct fd_histogram {
  const double *bounds;                 /* FD_HIST_BUCKETS upper bounds, increasing */
  uint64_t counts[FD_HIST_BUCKETS + 1]; /* last: +Inf */
  uint64_t count;
  uint64_t sum_micro; /* sum of observations, in millionths */
};

extern const double fd_latency_bounds[FD_HIST_BUCKETS]; /* seconds */
extern const double fd_size_bounds[FD_HIST_BUCKETS];    /* counts (batch sizes) */

void fd_histogram_observe(struct fd_histogram *h, double value);
/* Prometheus lines for one histogram; labels like `route="x"` or "" */
void fd_histogram_write(FILE *out, const char *name, const char *labels, const struct fd_histogram *h);

enum fd_stored_kind {
  FD_STORED_RATING,
  FD_STORED_COMMENT,
  FD_STORED_EDIT,
  FD_STORED_COMPARISON,
  FD_STORED_SPAN,
  FD_STORED_STEP,
  FD_STORED_REACTION,
  FD_STORED_SIGNAL,
  FD_STORED_MESSAGE,
  FD_STORED_COUNT
};
extern const char *const fd_stored_kind_names[FD_STORED_COUNT];

/* How the writer stored a batch of feedback rows written outside a transaction (db/ingest_db.h
 * fd_db_store_feedback): by COPY, by INSERT because a project of the batch has a
 * feedback.stored endpoint, or by INSERT after the COPY rolled back (an id already stored). */
enum fd_copy_result { FD_COPY_STORED, FD_COPY_WEBHOOK, FD_COPY_FALLBACK, FD_COPY_COUNT };
extern const char *const fd_copy_result_names[FD_COPY_COUNT];

/* Signal names counted by /metrics: as many as ingest/signal_names.h has (checked there). */
#define FD_METRIC_SIGNALS 10

struct fd_metrics {
  uint64_t stored[FD_STORED_COUNT];     /* rows committed by the writer, by kind */
  uint64_t signals[FD_METRIC_SIGNALS];  /* signal rows committed, by index in fd_signal_names */
  uint64_t copy_batches[FD_COPY_COUNT]; /* batches by how they were stored (enum fd_copy_result) */
  uint64_t duplicates;
  uint64_t conflicts;
  uint64_t rejected_full;                  /* 503 because the ingest queue was full */
  uint64_t held_taken;                     /* large bodies' heads that waited for room and got it */
  uint64_t held_refused;                   /* ... that waited and were refused (503) */
  struct fd_histogram batch_size;          /* rows per writer transaction */
  struct fd_histogram commit_seconds;      /* writer transaction latency */
  struct fd_histogram ingest_wait_seconds; /* per writer transaction: its oldest request's wait */
  uint64_t split_jobs;                     /* requests written as several transactions */
  uint64_t part_us;                        /* writer time spent on parts of split requests */
  uint64_t bulk_throttled_us;              /* time parts were held back for other projects (bulk_share) */
  uint64_t export_records;
  uint64_t exports;
  struct fd_histogram stats_catch_up_seconds; /* one background catch-up of every project */
  uint64_t stats_catch_up_failures;
  struct fd_histogram maintenance_seconds; /* one pass of partition maintenance and retention */
  uint64_t maintenance_failures;
  uint64_t webhook_delivered;    /* attempts answered 2xx */
  uint64_t webhook_retried;      /* attempts that failed, to be retried */
  uint64_t webhook_failed;       /* deliveries given up (retry window over) */
  long webhook_pending;          /* outbox rows still pending, all replicas (as last counted) */
  uint64_t edit_ratios_computed; /* edit ratios the edit-ratio worker computed */
  uint64_t edit_ratio_cpu_ns;    /* the edit-ratio worker's thread CPU in its rounds */
  uint64_t edit_ratio_throttled; /* a project with edits waiting passed over: CPU share used up */
  uint64_t edit_ratio_dropped;   /* edits left without a ratio: backlog (or the project's half) full */
  uint64_t parse_cpu_ns;         /* the parse workers' thread CPU on large bodies */
  uint64_t parse_throttled;      /* a project with a large body waiting passed over: CPU share used up */
};

extern struct fd_metrics fd_metrics;

/* Requests by route and status. The HTTP daemon names its routes once, before its threads
 * start (index i of the routing table is names[i]); an index past them counts as
 * "unmatched". */
void fd_metrics_set_route_names(const char *const *names, int n);
void fd_metrics_request(int route_index, unsigned int status, uint64_t duration_us);
void fd_metrics_write_requests(FILE *out);

/* Reaction rows committed, by name. Names come from the projects' reaction sets (admins'
 * choice, validated, at most 32 per project), not from raters, but many projects could still
 * make many: at most FD_METRIC_REACTION_NAMES distinct names get their own series per
 * process, in the order they were first seen; later ones count under "other".
 * fd_metrics_reaction_name registers a name without counting (the default set's, so their
 * series exist from the start). */
#define FD_METRIC_REACTION_NAMES 64
void fd_metrics_reaction_name(const char *name);
void fd_metrics_reaction(const char *name);
/* Prometheus lines of feedbackd_reactions_stored_total{name} (HELP and TYPE included). */
void fd_metrics_write_reactions(FILE *out);

/* Prometheus lines of a counter with one label: HELP and TYPE, then one line
 * `name{label="names[i]"} values[i]` for each i < n, values read atomically. */
void fd_metrics_write_labelled_counter(FILE *out, const char *name, const char *help, const char *label,
                                       const char *const *names, const uint64_t *values, int n);

#define FD_METRIC_ADD(field, n) __atomic_add_fetch(&(field), (n), __ATOMIC_RELAXED)
#define FD_METRIC_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

#endif
