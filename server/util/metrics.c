/* metrics.c — counters and histograms (see metrics.h). */
#include "util/metrics.h"

#include <pthread.h>
#include <string.h>

const double fd_latency_bounds[FD_HIST_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const double fd_size_bounds[FD_HIST_BUCKETS] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000};
const char *const fd_copy_result_names[FD_COPY_COUNT] = {"copy", "webhook", "fallback"};

const char *const fd_stored_kind_names[FD_STORED_COUNT] = {"rating", "comment",  "edit",   "comparison", "span",
                                                           "step",   "reaction", "signal", "message"};

struct fd_metrics fd_metrics = {
    .batch_size = {.bounds = fd_size_bounds},
    .commit_seconds = {.bounds = fd_latency_bounds},
    .ingest_wait_seconds = {.bounds = fd_latency_bounds},
    .stats_catch_up_seconds = {.bounds = fd_latency_bounds},
    .maintenance_seconds = {.bounds = fd_latency_bounds},
};

void fd_histogram_observe(struct fd_histogram *h, double value) {
  int i = 0;
  while (i < FD_HIST_BUCKETS && value > h->bounds[i]) i++;
  __atomic_add_fetch(&h->counts[i], 1, __ATOMIC_RELAXED);
  __atomic_add_fetch(&h->count, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch(&h->sum_micro, (uint64_t)(value * 1e6), __ATOMIC_RELAXED);
}

void fd_histogram_write(FILE *out, const char *name, const char *labels, const struct fd_histogram *h) {
  uint64_t cum = 0;
  const char *sep = labels && *labels ? "," : "";
  for (int i = 0; i <= FD_HIST_BUCKETS; i++) {
    cum += __atomic_load_n(&h->counts[i], __ATOMIC_RELAXED);
    if (i < FD_HIST_BUCKETS)
      fprintf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, h->bounds[i], (unsigned long long)cum);
    else
      fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
  }
  const char *open = labels && *labels ? "{" : "", *close = labels && *labels ? "}" : "";
  fprintf(out, "%s_sum%s%s%s %.6f\n", name, open, labels, close,
          (double)__atomic_load_n(&h->sum_micro, __ATOMIC_RELAXED) / 1e6);
  fprintf(out, "%s_count%s%s%s %llu\n", name, open, labels, close,
          (unsigned long long)__atomic_load_n(&h->count, __ATOMIC_RELAXED));
}

/* statuses we count separately; anything else is folded into its class (e.g. "418" -> 4xx) */
static const unsigned int statuses[] = {200, 201, 204, 206, 304, 400, 401, 403, 404,
                                        405, 409, 413, 415, 429, 500, 501, 503};
#define N_STATUS (sizeof statuses / sizeof statuses[0])
#define MAX_ROUTES 64

static uint64_t request_counts[MAX_ROUTES + 1][N_STATUS + 1];
static struct fd_histogram request_seconds[MAX_ROUTES + 1];
static const char *route_names[MAX_ROUTES]; /* set once before the HTTP threads start */
static int n_route_names;

void fd_metrics_set_route_names(const char *const *names, int n) {
  n_route_names = n < MAX_ROUTES ? n : MAX_ROUTES;
  for (int i = 0; i < n_route_names; i++) route_names[i] = names[i];
}

static const char *route_name(int index) { return index < n_route_names ? route_names[index] : NULL; }

/* Routes that share a name (GET and POST /v1/feedback, the static pages) share one series:
 * the first route of that name counts for all, so no series is written twice. */
static int route_series(int route_index) {
  const char *name = route_name(route_index);
  for (int i = 0; name && i < route_index; i++)
    if (strcmp(route_names[i], name) == 0) return i;
  return route_index;
}

void fd_metrics_request(int route_index, unsigned int status, uint64_t duration_us) {
  if (route_index < 0 || route_index >= MAX_ROUTES)
    route_index = MAX_ROUTES;
  else
    route_index = route_series(route_index);
  size_t s = 0;
  while (s < N_STATUS && statuses[s] != status) s++;
  __atomic_add_fetch(&request_counts[route_index][s], 1, __ATOMIC_RELAXED);
  struct fd_histogram *h = &request_seconds[route_index];
  if (!h->bounds) h->bounds = fd_latency_bounds; /* same value from every thread: benign */
  fd_histogram_observe(h, (double)duration_us / 1e6);
}

void fd_metrics_write_requests(FILE *out) {
  fputs(
      "# HELP feedbackd_http_requests_total HTTP requests answered, by route and status.\n"
      "# TYPE feedbackd_http_requests_total counter\n",
      out);
  for (int r = 0; r <= MAX_ROUTES; r++) {
    const char *name = r < MAX_ROUTES ? route_name(r) : "unmatched";
    if (!name) continue;
    for (size_t s = 0; s <= N_STATUS; s++) {
      uint64_t n = __atomic_load_n(&request_counts[r][s], __ATOMIC_RELAXED);
      if (!n) continue;
      if (s < N_STATUS)
        fprintf(out, "feedbackd_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n", name, statuses[s],
                (unsigned long long)n);
      else
        fprintf(out, "feedbackd_http_requests_total{route=\"%s\",status=\"other\"} %llu\n", name,
                (unsigned long long)n);
    }
  }
  fputs(
      "# HELP feedbackd_http_request_duration_seconds Time from request start to reply completion.\n"
      "# TYPE feedbackd_http_request_duration_seconds histogram\n",
      out);
  for (int r = 0; r <= MAX_ROUTES; r++) {
    const char *name = r < MAX_ROUTES ? route_name(r) : "unmatched";
    if (!name || !__atomic_load_n(&request_seconds[r].count, __ATOMIC_RELAXED)) continue;
    char labels[128];
    snprintf(labels, sizeof labels, "route=\"%s\"", name);
    fd_histogram_write(out, "feedbackd_http_request_duration_seconds", labels, &request_seconds[r]);
  }
}

/* Reaction names: a fixed table filled once per name under a lock; counts are atomics. */
#define REACTION_NAME_BYTES 33 /* [a-z0-9_]{1,32} and the NUL */
static pthread_mutex_t reaction_lock = PTHREAD_MUTEX_INITIALIZER;
static char reaction_names[FD_METRIC_REACTION_NAMES][REACTION_NAME_BYTES];
static uint64_t reaction_counts[FD_METRIC_REACTION_NAMES + 1]; /* last: "other" */
static int n_reaction_names;

/* The slot of `name`, registered if there is room; FD_METRIC_REACTION_NAMES ("other") when
 * there is not or the name does not fit. */
static int reaction_slot(const char *name) {
  if (!name || strlen(name) >= REACTION_NAME_BYTES) return FD_METRIC_REACTION_NAMES;
  pthread_mutex_lock(&reaction_lock);
  int i = 0;
  while (i < n_reaction_names && strcmp(reaction_names[i], name) != 0) i++;
  if (i == n_reaction_names && i < FD_METRIC_REACTION_NAMES) strcpy(reaction_names[n_reaction_names++], name);
  pthread_mutex_unlock(&reaction_lock);
  return i;
}

void fd_metrics_reaction_name(const char *name) { (void)reaction_slot(name); }

void fd_metrics_reaction(const char *name) { FD_METRIC_ADD(reaction_counts[reaction_slot(name)], 1); }

void fd_metrics_write_labelled_counter(FILE *out, const char *name, const char *help, const char *label,
                                       const char *const *names, const uint64_t *values, int n) {
  fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
  for (int i = 0; i < n; i++)
    fprintf(out, "%s{%s=\"%s\"} %llu\n", name, label, names[i], (unsigned long long)FD_METRIC_GET(values[i]));
}

void fd_metrics_write_reactions(FILE *out) {
  /* the registered names (a slot's name never changes once set) and "other" last */
  const char *names[FD_METRIC_REACTION_NAMES + 1];
  uint64_t counts[FD_METRIC_REACTION_NAMES + 1];
  pthread_mutex_lock(&reaction_lock);
  int n = n_reaction_names;
  for (int i = 0; i < n; i++) {
    names[i] = reaction_names[i];
    counts[i] = FD_METRIC_GET(reaction_counts[i]);
  }
  pthread_mutex_unlock(&reaction_lock);
  names[n] = "other";
  counts[n] = FD_METRIC_GET(reaction_counts[FD_METRIC_REACTION_NAMES]);
  fd_metrics_write_labelled_counter(out, "feedbackd_reactions_stored_total",
                                    "Reaction events committed by the ingest writer, by reaction name.", "name", names,
                                    counts, n + 1);
}
