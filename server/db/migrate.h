/* migrate.h — applies the numbered SQL migrations embedded from migrations/.
 *
 * Each migration runs once, in its own transaction, and is recorded in schema_migrations
 * with the SHA-256 of its file. An applied migration whose file has changed since (its
 * recorded checksum differs from the file compiled into the binary) stops the runner:
 * history must not be rewritten. Rows recorded before checksums existed (checksum NULL) get
 * the current file's checksum on the runner's next start: trust on first use.
 * The check and each migration run in transactions that hold a transaction-level PostgreSQL
 * advisory lock (so the runner also works through PgBouncer in transaction pooling): replicas
 * starting together apply each migration exactly once, the others wait, then find it done. */
#ifndef FD_DB_MIGRATE_H
#define FD_DB_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "db/pool.h"

/* Check the applied migrations' checksums (filling missing ones), then apply all pending
 * migrations. *applied counts the ones this call applied. false with a message in err on
 * failure (a checksum mismatch names the file and both checksums; a failed migration is
 * rolled back). */
bool fd_migrate_apply(struct fd_db *db, int *applied, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The newest version applied in the database (0 if none or no table) and the newest
 * version this binary knows. false if the database could not be asked. */
bool fd_migrate_versions(struct fd_db *db, int *db_version, int *binary_version) __attribute__((warn_unused_result));

/* Only the check, read-only (missing checksums stay missing): true when every recorded
 * checksum matches its compiled-in file. false with a message in err otherwise; *mismatch
 * tells a checksum mismatch from a database failure. */
bool fd_migrate_verify(struct fd_db *db, bool *mismatch, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
