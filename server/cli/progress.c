/* progress.c — the export's progress bar on stderr (see progress.h). */
#include "cli/progress.h"

#include <stdio.h>

#include "util/clock.h"

#define BAR_WIDTH 30

static double now_s(void) { return (double)fd_now_us() / 1e6; }

void fd_progress_start(struct fd_progress *p, bool on, long total) {
  *p = (struct fd_progress){.on = on, .total = total, .t0 = now_s()};
}

void fd_progress_draw(struct fd_progress *p, uint64_t records, bool final) {
  double t = now_s();
  /* A terminal redrawn on every conversation would cost more than the export itself. */
  if (!p->on || (!final && t - p->last_draw < 0.1)) return;
  p->last_draw = t;
  double frac = p->total > 0 ? (double)p->done / (double)p->total : 1.0;
  if (frac > 1) frac = 1;
  char bar[BAR_WIDTH + 1];
  int filled = (int)(frac * BAR_WIDTH);
  for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  double el = t - p->t0;
  fprintf(stderr, "\r[%s] %3.0f%% %ld/%ld conversations, %llu records, %.0f records/s  ", bar, frac * 100, p->done,
          p->total, (unsigned long long)records, el > 0 ? (double)records / el : 0.0);
  if (final) fputc('\n', stderr);
  fflush(stderr);
}
