/* edit_ratios.h — the edit-ratio worker (private to pipeline/): a thread with its own
 * connection that fills feedback.edit_ratio for edits after they are committed, so no
 * request waits for a ratio and no writer computes one (docs/edit-ratio.md). */
#ifndef FD_PIPELINE_EDIT_RATIOS_H
#define FD_PIPELINE_EDIT_RATIOS_H

#include <stdbool.h>
#include <stdint.h>

struct fd_edit_ratios;

/* Start the worker; `capacity` edits may wait for it; one project's ratios may use
 * `cpu_share` of one core (0 or >= 1: no budget). NULL on failure. */
struct fd_edit_ratios *fd_edit_ratios_start(const char *conninfo, bool prepared, long capacity, double cpu_share)
    __attribute__((warn_unused_result));

/* Hand over one stored edit (never blocks). Projects' edits are taken in turn, a project
 * whose ratios have used more than its CPU share passed over until it is back within it.
 * When the backlog is full, or the edit's project already holds half of it, the edit is
 * dropped and its ratio stays NULL: the figure is descriptive, ingestion must not wait for it. */
void fd_edit_ratios_add(struct fd_edit_ratios *er, int64_t project_id, const char *id);

/* Finish the round in progress, drop the rest of the backlog, stop the thread. NULL ok. */
void fd_edit_ratios_stop(struct fd_edit_ratios *er);

#endif
