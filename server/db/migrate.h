/* migrate.h — applies the numbered SQL migrations embedded from migrations/.
 *
 * Each migration runs once, in its own transaction, and is recorded in schema_migrations.
 * The whole run holds a PostgreSQL advisory lock, so replicas starting together apply each
 * migration exactly once: the others wait, then find nothing left to do. */
#ifndef FD_DB_MIGRATE_H
#define FD_DB_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "db/pool.h"

/* Apply all pending migrations. *applied counts the ones this call applied.
 * false with a message in err on failure (the failed migration is rolled back). */
bool fd_migrate_apply(struct fd_db *db, int *applied, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The newest version applied in the database (0 if none or no table) and the newest
 * version this binary knows. false if the database could not be asked. */
bool fd_migrate_versions(struct fd_db *db, int *db_version, int *binary_version) __attribute__((warn_unused_result));

#endif
