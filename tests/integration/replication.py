"""replication.py — a PostgreSQL 15 primary with a streaming hot standby, both real processes
(tests/integration/helpers.py PgCluster), for the failover and read-routing tests.

The standby is cloned with `pg_basebackup -R` over a physical replication slot, so it never
misses WAL the primary recycled. With sync=True the primary waits for the standby to flush
every commit (synchronous_standby_names = '*', synchronous_commit = on): an acknowledged
commit is then on both servers, which is what makes a failover lose nothing acknowledged.
"""

import os

from helpers import PG_BIN, PgCluster, wait_until

# The primary's settings for streaming replication (docker-compose.ha.yml gives its primary the
# same, test_compose.py checks), and those that make it synchronous
# (config/ha/primary-init.sh sets these).
STREAMING = {"wal_level": "replica", "max_wal_senders": "5", "max_replication_slots": "5", "hot_standby": "on",
             "wal_receiver_status_interval": "1s"}
SYNCHRONOUS = {"synchronous_commit": "on", "synchronous_standby_names": "'*'"}


def conf_lines(settings):
    return "".join(f"{k} = {v}\n" for k, v in settings.items())


class ReplicatedPair:
    def __init__(self, sync=True):
        self.primary = PgCluster("prim")
        self.standby = PgCluster("stby")
        self.sync = sync

    def start(self):
        p = self.primary
        p.init()
        with open(os.path.join(p.pgdata, "postgresql.conf"), "a") as f:
            # later lines win: the throwaway defaults above turned synchronous_commit off
            f.write("\n# streaming replication (tests/integration/replication.py)\n" + conf_lines(STREAMING))
            if self.sync:
                f.write(conf_lines(SYNCHRONOUS))
        p.start()
        s = self.standby
        # initdb's pg_hba.conf trusts local replication connections; -R writes standby.signal
        # and primary_conninfo (with this socket directory and port) into the clone
        p._run([f"{PG_BIN}/pg_basebackup", "-h", p.host, "-p", str(p.port), "-U", p.user, "-D", s.pgdata,
                "-R", "-X", "stream", "-C", "-S", "standby_slot", "--no-sync"])
        with open(os.path.join(s.pgdata, "postgresql.conf"), "a") as f:
            # the clone copied the primary's synchronous_standby_names: promoted with it, the new
            # primary would wait forever for a standby it does not have, so every commit hangs
            f.write("\n# the standby's own socket (tests/integration/replication.py)\n"
                    f"unix_socket_directories = '{s.dir}'\nport = {s.port}\n"
                    "synchronous_standby_names = ''\n")
        s.start()
        if self.sync:
            wait_until(lambda: p.sql("SELECT sync_state FROM pg_stat_replication") == [("sync",)], 30,
                       what="the standby streaming synchronously")
        else:
            wait_until(lambda: p.sql("SELECT state FROM pg_stat_replication") == [("streaming",)], 30,
                       what="the standby streaming")
        return self

    def multi_host_url(self, dbname):
        """Both servers in one libpq connection string: libpq tries them in order and keeps
        the first that accepts writes (target_session_attrs=read-write)."""
        p, s = self.primary, self.standby
        return (f"host={p.host},{s.host} port={p.port},{s.port} dbname={dbname} user={p.user}"
                " target_session_attrs=read-write connect_timeout=2")

    def wait_replayed(self, timeout=30):
        """Until the standby replayed everything the primary wrote so far."""
        lsn = self.primary.sql("SELECT pg_current_wal_insert_lsn()::text")[0][0]
        wait_until(lambda: self.standby.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))[0][0], timeout,
                   what=f"the standby replaying up to {lsn}")

    def promote(self):
        self.standby._run([f"{PG_BIN}/pg_ctl", "-D", self.standby.pgdata, "-w", "-t", "60", "promote"])

    def destroy(self):
        self.standby.destroy()
        self.primary.destroy()
