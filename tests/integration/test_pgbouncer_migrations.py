"""Start-up migrations through PgBouncer in transaction pooling: the migration lock must not
outlive the run on a pooled server connection (else the next replica's start-up waits for it
forever). Runs with a pooler of its own, whatever FEEDBACKD_TEST_PGBOUNCER says."""

import subprocess
import threading

import psycopg2
import pytest

from helpers import clean_env, feedbackd_bin, free_port
from pgbouncer import MIGRATION_LOCK, PgBouncer

POOL = 4


@pytest.fixture
def pooler(pg):
    # long server_idle_timeout: the warmed-up server connections must stay for the whole test
    p = PgBouncer(pg, free_port(), pool_size=POOL, settings={"server_idle_timeout": "120"}).start()
    yield p
    p.stop()


def warm_up(pooler, db):
    """Make PgBouncer open POOL server connections (POOL transactions at once), so that with
    server_round_robin consecutive transactions of one client land on different ones."""
    conns = [psycopg2.connect(pooler.conninfo(db)) for _ in range(POOL)]
    barrier = threading.Barrier(POOL)

    def hold(conn):
        with conn.cursor() as cur:
            cur.execute("SELECT 1")  # psycopg2 opens a transaction: a server connection each
            barrier.wait(timeout=30)
        conn.rollback()
        conn.close()

    threads = [threading.Thread(target=hold, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    servers = [s for s in pooler.admin("SHOW SERVERS") if s["database"] == db]
    assert len(servers) == POOL, servers


def test_repeated_migrate_through_pgbouncer_leaves_no_lock(pg, pooler):
    db = pg.create_database("mig_pooler")
    warm_up(pooler, db)
    env = clean_env(FEEDBACKD_DATABASE_URL=pooler.conninfo(db), FEEDBACKD_PREPARED_STATEMENTS="false")
    for run in range(3):
        try:
            r = subprocess.run([feedbackd_bin(), "migrate"], env=env, capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"run {run + 1} of `feedbackd migrate` through PgBouncer hung (a leaked migration lock?)")
        assert r.returncode == 0, r.stderr
        held = pg.sql("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                      "WHERE l.locktype = 'advisory' AND d.datname = %s" + MIGRATION_LOCK, (db,))[0][0]
        assert held == 0, f"an advisory lock outlived run {run + 1} of `feedbackd migrate`"
