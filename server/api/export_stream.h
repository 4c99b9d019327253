/* export_stream.h — HTTP exports produced off the HTTP threads.
 *
 * An export's database work (connecting, opening the snapshot, each FETCH, the sorts before
 * the first row, the whole derivation with include_meta) can take seconds to minutes. It runs on
 * a small pool of export worker threads (config export_workers), never on a libmicrohttpd
 * thread:
 *
 *   handler (HTTP thread)   takes a slot (max_concurrent_exports, per project and in total),
 *                           suspends the request and queues the setup
 *   setup (worker)          connection, snapshot, watermark, cursors, audit row; resumes the
 *                           request, whose resume step answers the headers or a JSON error
 *   production (worker)     one chunk (~64 KiB of lines) per turn, then back to the end of the
 *                           queue, so the workers serve every export in turn; stops ("parks")
 *                           while a chunk is waiting for the client
 *   content reader (HTTP)   hands out the ready chunk; with none ready it suspends the
 *                           connection, and the worker resumes it when a chunk is ready
 *
 * Memory per export is two chunks (the one being sent, the one being filled) plus the export
 * core's own state. An export whose client stops reading is parked: its connection times out
 * after export_send_timeout seconds of no progress (libmicrohttpd's per-connection timeout,
 * which does not run while the export itself is working), and the worker then releases the
 * database connection and snapshot. The audit row stays unfinished, as for any export whose
 * client went away. */
#ifndef FD_API_EXPORT_STREAM_H
#define FD_API_EXPORT_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "http/request.h"
#include "util/config.h"

struct fd_pool;
struct fd_export_request; /* api/export_job.h */
struct fd_export_service;
struct fd_export_stream;

/* Start the export workers. conninfo (each export's own connection) and pool (the audit
 * rows) are borrowed and must outlive the service. NULL when out of memory or no thread. */
struct fd_export_service *fd_export_service_start(const struct fd_config *cfg, const char *conninfo,
                                                  struct fd_pool *pool) __attribute__((warn_unused_result));

/* Shutting down, before the HTTP daemon stops (it must not stop with suspended
 * connections): new exports are refused, every suspended export request and connection is
 * resumed (to a 503, or a body cut short) and running queries are cancelled. NULL ok. */
void fd_export_service_cancel(struct fd_export_service *svc);

/* After the HTTP daemon stopped: let the workers release what is left, join them, free.
 * NULL ok. */
void fd_export_service_stop(struct fd_export_service *svc);

enum fd_export_admission {
  FD_EXPORT_ADMITTED, /* the request is suspended; on_ready runs when the setup is over */
  FD_EXPORT_BUSY,     /* max_concurrent_exports reached (project or total): answer 429 */
  FD_EXPORT_STOPPING, /* shutting down: answer 503 */
  FD_EXPORT_NO_MEMORY,
};

/* Admit an export of project_id with parameters *rq (moved into the stream, cleared in *rq
 * on admission). On FD_EXPORT_ADMITTED the stream is req->state (released with the
 * request unless fd_export_stream_respond takes it), the request is suspended and
 * on_ready is its resume step. */
enum fd_export_admission fd_export_stream_admit(struct fd_export_service *svc, struct fd_request *req,
                                                int64_t project_id, struct fd_export_request *rq, fd_handler on_ready)
    __attribute__((warn_unused_result));

/* In on_ready: false with *err (a JSON error to answer, nothing sent yet) when the setup
 * failed; true when the body can start. */
bool fd_export_stream_setup_result(const struct fd_export_stream *s, struct fd_error *err);

/* After a successful setup: the export's id, watermark and parameters. */
const char *fd_export_stream_id(const struct fd_export_stream *s);
const char *fd_export_stream_watermark(const struct fd_export_stream *s);
const struct fd_export_request *fd_export_stream_request(const struct fd_export_stream *s);

/* In on_ready after a successful setup: a response that streams the body (the response
 * now owns the stream; req->state is cleared), bound to req's connection. NULL when out of
 * memory (the stream stays with the request). */
struct MHD_Response *fd_export_stream_response(struct fd_request *req) __attribute__((warn_unused_result));

#endif
