/* replica_db.c — see replica_db.h. */
#include "db/replica_db.h"

#include <stdio.h>
#include <unistd.h>

#include "util/clock.h"

static struct fd_stmt stmt_lsn = {"replica_primary_lsn", "SELECT pg_current_wal_insert_lsn()::text", 0};

/* pg_last_wal_replay_lsn() is NULL on a server that is not in recovery: a standby promoted
 * since we connected has everything the (old) primary acknowledged, so it counts as replayed */
static struct fd_stmt stmt_replayed = {
    "replica_replayed", "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, NOT pg_is_in_recovery())", 0};

/* between two polls: a standby streaming from a busy primary replays within milliseconds */
#define POLL_US 5000

enum fd_db_status fd_replica_primary_lsn(struct fd_db *primary, char *lsn, size_t len) {
  PGresult *r = fd_db_exec(primary, &stmt_lsn, 0, NULL);
  enum fd_db_status st = fd_db_result(primary, r);
  if (st == FD_DB_ONE) snprintf(lsn, len, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return st;
}

bool fd_replica_wait_replayed(struct fd_db *standby, const char *lsn, int timeout_ms) {
  uint64_t deadline = fd_now_us() + (uint64_t)timeout_ms * 1000;
  for (;;) {
    PGresult *r = fd_db_exec(standby, &stmt_replayed, 1, (const char *[]){lsn});
    bool ok = fd_db_result(standby, r) == FD_DB_ONE;
    bool replayed = ok && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (replayed) return true;
    if (!ok || fd_now_us() >= deadline) return false;
    usleep(POLL_US);
  }
}
