/* signal_names.h — the names of kind "signal" (docs/api.md "Implicit signals"): the ones a
 * client may send, then the ones the server's detection stores (docs/api.md "Naturally
 * occurring feedback"). One list for validation, stats and /metrics. */
#ifndef FD_INGEST_SIGNAL_NAMES_H
#define FD_INGEST_SIGNAL_NAMES_H

#define FD_SIGNALS_CLIENT 7 /* copy .. retry: what POST /v1/feedback accepts */
#define FD_SIGNALS_ALL 10   /* plus detected_praise, detected_complaint, detected_correction */

/* FD_SIGNALS_ALL names, then NULL. */
extern const char *const fd_signal_names[FD_SIGNALS_ALL + 1];

/* The index of `name` in fd_signal_names, or -1. */
int fd_signal_index(const char *name);

#endif
