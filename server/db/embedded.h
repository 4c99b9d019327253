/* embedded.h — the private PostgreSQL cluster feedbackd runs when no database URL is set.
 *
 * Lives in <data_dir>/postgres: created with initdb on first use, listening only on a unix
 * socket inside that directory (listen_addresses = ''), never on TCP. When feedbackd runs as
 * root, the cluster runs as an unprivileged OS user (setting embedded_user), since
 * PostgreSQL refuses root. A cluster that is already running (a `serve` in another
 * process) is reused and left running; one this process started is stopped by
 * fd_embedded_stop. */
#ifndef FD_DB_EMBEDDED_H
#define FD_DB_EMBEDDED_H

#include <stdbool.h>
#include <stddef.h>

struct fd_embedded;

/* Make sure the cluster exists and runs. On success returns a handle and writes a libpq
 * connection string into conninfo; *created tells whether initdb ran just now.
 * NULL with a clear message in err on failure. */
struct fd_embedded *fd_embedded_start(const char *data_dir, const char *bindir, const char *user, char *conninfo,
                                      size_t conninfo_len, bool *created, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Stop the cluster if this handle started it, then free the handle. NULL ok. */
void fd_embedded_stop(struct fd_embedded *emb);

/* Find the directory of initdb/pg_ctl: `hint` if non-empty, else pg_config --bindir, else
 * the newest /usr/lib/postgresql/N/bin. false if none has initdb. */
bool fd_embedded_find_bindir(const char *hint, char *out, size_t len);

#endif
