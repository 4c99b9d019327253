/* migrate_cmd.c — `feedbackd migrate`: apply pending migrations and exit. */
#include <stdio.h>

#include "cli/cli.h"
#include "db/migrate.h"

int fd_cli_migrate(const struct fd_config *cfg, int argc, char **argv) {
  struct fd_embedded *emb;
  char conninfo[2048], err[1024];
  struct fd_db *db = fd_cli_connect(cfg, &emb, conninfo, sizeof conninfo, NULL);
  if (!db) return 1;
  int applied = 0;
  bool ok = fd_migrate_apply(db, &applied, err, sizeof err);
  int have = 0, want = 0;
  if (ok && fd_migrate_versions(db, &have, &want))
    printf("schema version %d (%d migration%s applied)\n", have, applied, applied == 1 ? "" : "s");
  else if (!ok)
    fprintf(stderr, "feedbackd: %s\n", err);
  fd_db_close(db);
  fd_embedded_stop(emb);
  return ok ? 0 : 1;
}
