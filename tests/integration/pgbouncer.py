"""pgbouncer.py — a throwaway PgBouncer (Debian's package) in transaction pooling mode in front
of one test cluster, as feedbackd is deployed behind one (docs/operations.md, "PgBouncer").

PgCluster starts one when FEEDBACKD_TEST_PGBOUNCER=1 (the integration-pgbouncer suite of
scripts/test.sh): feedbackd is then given the pooler's address, while the tests' own psycopg2
checks keep talking to PostgreSQL directly (they need session features a transaction pooler
does not give). Tests that want a pooler regardless (test_replicas.py) start one themselves.

Unix socket only, in the cluster's directory (a different port number names a different
socket file there); auth_type trust, as the cluster itself.
"""

import os
import pwd
import subprocess
import time

import psycopg2

PGBOUNCER_BIN = os.environ.get("PGBOUNCER_BIN", "/usr/sbin/pgbouncer")
IS_ROOT = os.geteuid() == 0


# The migration runner's lock among pg_locks: the one-bigint key 727465686466 of
# server/db/migrate.c (classid = high 32 bits, objid = low 32 bits, objsubid 1). The stats
# catch-up takes two-int advisory locks (objsubid 2) of its own, briefly, inside its CALL.
MIGRATION_LOCK = " AND l.objsubid = 1 AND (l.classid::bigint << 32) + l.objid::bigint = 727465686466"


def pooler_requested():
    return os.environ.get("FEEDBACKD_TEST_PGBOUNCER") == "1"


class PgBouncer:
    """PgBouncer for `cluster` (a started PgCluster): every database of the cluster, pool_mode
    transaction. server_round_robin = 1 spreads transactions over the server connections (the
    setting under which a session-level advisory lock leaked reliably). `settings` adds or
    overrides lines of the [pgbouncer] section."""

    def __init__(self, cluster, port, *, pool_size=20, settings=None):
        self.cluster = cluster
        self.dir = cluster.dir
        self.host = cluster.dir
        self.port = port
        self.ini = os.path.join(self.dir, f"pgbouncer-{port}.ini")
        self.logfile = os.path.join(self.dir, f"pgbouncer-{port}.log")
        self.pidfile = os.path.join(self.dir, f"pgbouncer-{port}.pid")
        self.proc = None
        conf = {
            "listen_addr": "",
            "listen_port": str(port),
            "unix_socket_dir": self.dir,
            "auth_type": "trust",
            "auth_file": os.path.join(self.dir, "pgbouncer-users.txt"),
            "admin_users": cluster.user,
            "pool_mode": "transaction",
            "server_round_robin": "1",
            "default_pool_size": str(pool_size),
            "max_client_conn": "2000",
            # the suite makes a database per test: idle server connections of finished tests
            # must go back to PostgreSQL, whose max_connections the direct checks share
            "server_idle_timeout": "5",
            # as docs/operations.md ("PgBouncer") recommends: while PostgreSQL is down, a query
            # waits for a server connection at most 2 s (default 120 s), then fails, so feedbackd
            # answers 503 promptly instead of hanging; and the login is retried every second
            # (default 15 s), so it resumes promptly when PostgreSQL is back
            "query_wait_timeout": "2",
            "server_login_retry": "1",
            "logfile": self.logfile,
            "pidfile": self.pidfile,
        }
        conf.update(settings or {})
        self.conf = conf

    def _write_config(self):
        with open(self.conf["auth_file"], "w") as f:
            f.write(f'"{self.cluster.user}" ""\n')  # trust: the user must still be listed
        with open(self.ini, "w") as f:
            f.write("; throwaway PgBouncer (tests/integration/pgbouncer.py)\n[databases]\n")
            f.write(f"* = host={self.cluster.host} port={self.cluster.port}\n\n[pgbouncer]\n")
            for k, v in self.conf.items():
                f.write(f"{k} = {v}\n")
        if IS_ROOT:
            pw = pwd.getpwnam("postgres")
            for p in (self.ini, self.conf["auth_file"]):
                os.chown(p, pw.pw_uid, pw.pw_gid)

    def start(self, timeout=30):
        """Start it and wait until it answers. As root it switches to `postgres` itself (-u:
        it refuses to run as root), so self.proc is PgBouncer and SIGTERM reaches it."""
        self._write_config()
        cmd = [PGBOUNCER_BIN, *(["-u", "postgres"] if IS_ROOT else []), self.ini]
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.admin("SHOW VERSION")
                return self
            except psycopg2.Error:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pgbouncer did not start:\n{self.log_tail()}")
                time.sleep(0.05)

    def conninfo(self, dbname):
        return f"host={self.host} port={self.port} dbname={dbname} user={self.cluster.user}"

    def admin(self, command):
        """One command on the admin console (SHOW POOLS, SHOW SERVERS, ...): a list of dicts."""
        conn = psycopg2.connect(self.conninfo("pgbouncer"))
        conn.autocommit = True  # the console takes no BEGIN
        try:
            with conn.cursor() as cur:
                cur.execute(command)
                if not cur.description:
                    return []
                names = [d[0] for d in cur.description]
                return [dict(zip(names, row)) for row in cur.fetchall()]
        finally:
            conn.close()

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()  # a fast exit: clients are disconnected
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self, n=3000):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""
