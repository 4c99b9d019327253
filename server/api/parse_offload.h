/* parse_offload.h — large ingest bodies validated off the HTTP threads.
 *
 * A 1 MiB inline-context event or a 1000-item batch costs tens of milliseconds of
 * validation and row building (bench/README.md "hostile"); on an HTTP thread every other
 * connection of that thread waits that long. A body of FD_PARSE_OFFLOAD_BYTES or more is
 * handed to a small pool of `parse_workers` threads (`fd-parse`) instead:
 *
 *   handler (HTTP thread)   the checks that come before any parsing (the project's queue
 *                           share), then takes a place in the pool (a bounded number in all
 *                           and per project; none free: 503 with Retry-After), suspends the
 *                           connection and queues the work
 *   work (fd-parse)         the handler's own code, unchanged: parsing, validation, row
 *                           building, rate limit, the hand-off to the writers. A reply it
 *                           makes is kept (http/request.h `offload`); a job handed to the
 *                           writers takes the suspended connection with it
 *   resume (HTTP thread)    the kept reply is queued, or, after the writers, the handler's
 *                           usual resume step answers
 *
 * Smaller bodies (single events) keep running on the HTTP thread: nothing is added to them.
 *
 * CPU budget (`parse_cpu_share`, docs/operations.md): while another project is active (a
 * large body of it waiting, parsed or done in the last second, or its events taken by a
 * writer in the last second), the workers' thread CPU spent on a project's requests is its
 * debt, draining at the share of one core (util/cpu_debt.h, as the edit-ratio worker's); a
 * request of a project that owes waits, keeping its place, while other projects' requests
 * are parsed. A project alone owes nothing and keeps the workers' full speed (bulk imports);
 * at shutdown nothing waits. */
#ifndef FD_API_PARSE_OFFLOAD_H
#define FD_API_PARSE_OFFLOAD_H

#include <stdbool.h>

#include "http/request.h"
#include "util/config.h"

/* Bodies from this size are validated on the parse workers (the size from which
 * api/ingest_request.h checks the queue share before parsing). */
#define FD_PARSE_OFFLOAD_BYTES (64 * 1024)
/* Requests waiting for or on a parse worker, in all and per project: a place is held from
 * the hand-off to the end of the work (~60 ms for 1 MiB on an idle core). */
#define FD_PARSE_QUEUE 8
#define FD_PARSE_QUEUE_PER_PROJECT 4

struct fd_parse_service;
struct fd_ingest;

/* Start cfg->parse_workers threads. NULL when parse_workers is 0 (*failed false: large
 * bodies stay on the HTTP threads) or on failure (*failed true). ingest (which must outlive
 * the service; NULL: only large bodies count as activity) tells whether other projects'
 * events are being written. */
struct fd_parse_service *fd_parse_service_start(const struct fd_config *cfg, struct fd_ingest *ingest, bool *failed);

/* Run the queued work (each answers or hands its job to the writers, which must still be
 * running), join the threads, free. Before the writers stop. NULL ok. */
void fd_parse_service_stop(struct fd_parse_service *svc);

/* Called by a handler before it parses req's body: true when the request was handed to a
 * parse worker, which runs work(req) there, or answered 503 (no place free); the handler
 * returns. false: run work(req) here (a small body, no service, out of memory). */
bool fd_parse_offload(struct fd_parse_service *svc, struct fd_request *req, fd_handler work)
    __attribute__((warn_unused_result));

/* Tests only: the environment variable FEEDBACKD_TEST_SLOW_VALIDATION_MS (read once) makes
 * the validation of every body of FD_PARSE_OFFLOAD_BYTES or more sleep that long first,
 * wherever it runs, so that tests can tell which thread waits. Unset: nothing. */
void fd_parse_test_delay(const struct fd_request *req);

#endif
