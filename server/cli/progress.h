/* progress.h — the progress bar `feedbackd export` draws on stderr while it runs:
 * conversations done of the pass's total, records written so far, records per second and,
 * for a two-pass export (include_meta), which pass it is in. */
#ifndef FD_CLI_PROGRESS_H
#define FD_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct fd_progress {
  bool on;              /* draw at all (stderr is a terminal) */
  long total;           /* conversations in one pass */
  long done;            /* conversations of the current pass so far */
  int pass;             /* 1-based */
  int n_passes;         /* 1, or 2 with include_meta */
  double t0, last_draw; /* seconds (monotonic) */
};

/* Start at pass 1 with nothing done; the clock starts now. */
void fd_progress_start(struct fd_progress *p, bool on, long total, int n_passes);

/* Redraw the bar in place: at most every 0.1 s, unless final (which also ends the line). */
void fd_progress_draw(struct fd_progress *p, uint64_t records, bool final);

#endif
