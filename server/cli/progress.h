/* progress.h — the progress bar `feedbackd export` draws on stderr while it runs:
 * conversations done of the total, records written so far and records per second (with
 * include_meta the records are written after the last conversation: export.h "SPILL"). */
#ifndef FD_CLI_PROGRESS_H
#define FD_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct fd_progress {
  bool on;              /* draw at all (stderr is a terminal) */
  long total;           /* conversations */
  long done;            /* conversations so far */
  double t0, last_draw; /* seconds (monotonic) */
};

/* Start with nothing done; the clock starts now. */
void fd_progress_start(struct fd_progress *p, bool on, long total);

/* Redraw the bar in place: at most every 0.1 s, unless final (which also ends the line). */
void fd_progress_draw(struct fd_progress *p, uint64_t records, bool final);

#endif
