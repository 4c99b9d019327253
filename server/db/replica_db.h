/* replica_db.h — the SQL of read routing (docs/operations.md "Read routing"): where the
 * primary's WAL ends, and whether a hot standby has replayed up to there. */
#ifndef FD_DB_REPLICA_DB_H
#define FD_DB_REPLICA_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "db/pool.h"
#include "db/status.h"

/* The primary's current WAL insert position (text such as "0/3000148") into lsn: the
 * records of everything committed before this call lie below it. Not pg_current_wal_lsn(),
 * the write position: with synchronous_commit = off a commit is acknowledged while its
 * record is still in the WAL buffers, above that position. FD_DB_ONE on success. */
enum fd_db_status fd_replica_primary_lsn(struct fd_db *primary, char *lsn, size_t len)
    __attribute__((warn_unused_result));

/* Whether the standby behind db has replayed the WAL up to lsn, polled until timeout_ms has
 * passed. false also when the standby cannot be asked (the caller reads elsewhere). */
bool fd_replica_wait_replayed(struct fd_db *standby, const char *lsn, int timeout_ms)
    __attribute__((warn_unused_result));

#endif
