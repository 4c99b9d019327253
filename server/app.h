/* app.h — the process-wide state of a running `feedbackd serve`: configuration, the
 * database pool and the ingest pipeline. Set once at start-up before the HTTP daemon
 * starts and read-only afterwards (the objects it points to are thread-safe). */
#ifndef FD_APP_H
#define FD_APP_H

#include <stdbool.h>

#include "core/limits.h"
#include "util/config.h"

struct fd_pool;
struct fd_ingest;

struct fd_app {
  const struct fd_config *cfg;
  struct fd_pool *pool;     /* request handlers' connections */
  struct fd_ingest *ingest; /* queue + writer threads (server/ingest) */
  struct fd_limits limits;  /* from cfg, for the validators */
  const char *conninfo;     /* for threads that open their own connection */
  volatile bool shutting_down;
};

extern struct fd_app fd_app;

#endif
