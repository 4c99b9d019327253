/* signal_names.c — see signal_names.h. */
#include "ingest/signal_names.h"

#include <string.h>

const char *const fd_signal_names[FD_SIGNALS_ALL + 1] = {
    "copy",  "share", "regenerate",      "continue",           "abandon",
    "dwell", "retry", "detected_praise", "detected_complaint", "detected_correction",
    NULL};

int fd_signal_index(const char *name) {
  for (int i = 0; name && i < FD_SIGNALS_ALL; i++)
    if (strcmp(name, fd_signal_names[i]) == 0) return i;
  return -1;
}
