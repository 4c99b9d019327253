"""Fixtures for the integration tests: the real feedbackd binary against a real PostgreSQL 15
(in the spirit of PgBouncer's test/conftest.py). Run with Debian's /usr/bin/python3 -m pytest
tests/integration (as root, `postgres` runs the clusters; as another user, that user does).

Binary: $FEEDBACKD_BIN (relative to the repository root), default build/feedbackd.
FEEDBACKD_TEST_KEEP=1 keeps the temp dirs (clusters, daemon logs) for a post-mortem.

Fixtures (use them from any test module; classes and helpers live in helpers.py):

  pg                 session   PgCluster — a throwaway cluster (initdb + pg_ctl in /tmp/fdpg-*,
                               unix socket in that dir, no TCP, fsync=off for speed).
                               pg.conninfo(db), pg.sql(query, params, dbname=...) -> rows,
                               pg.connect(db) (psycopg2, autocommit), pg.create_database(prefix).
  module_db          module    name of a fresh database on `pg` for the calling module.
  feedbackd          module    a running Feedbackd on module_db, shared by the module's tests:
                               .base_url, .port, .project ("test"), .keys {ingest, read, export,
                               admin} (one key per scope, made with `feedbackd keys create`),
                               .get/.post/.patch/.delete(path, key="admin"|raw|None, json=...,
                               data=..., headers=...) -> requests.Response, .cli(*args) ->
                               CompletedProcess, .stop(sig) -> exit code, .start(), .restart(),
                               .log(), .metrics(), .database_url. Do not stop it in a test (use
                               the factory for that).
  feedbackd_factory  function  make(**kw) -> a new Feedbackd, each on its own fresh database
                               (or database_url=...), torn down after the test. Keywords:
                               args=[serve flags], env={FEEDBACKD_*: ...}, project="test"
                               (None: no project/keys), origins=[...], start=True,
                               setup=True (migrate + project + keys), database_url=None.
  pg_factory         function  make() -> a new private, started PgCluster (for tests that stop
                               PostgreSQL: pg.stop() / pg.start()), destroyed after the test.
  db_sql             module    db_sql(query, params=None) -> rows, on module_db.

Every process and cluster started here is stopped at teardown, also when a test fails.
A feedbackd whose log holds a sanitizer report (ASan, LSan, UBSan) fails its test at teardown
(helpers.Feedbackd.destroy): an aborted daemon is otherwise only a dropped connection.
"""

import os
import re
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from helpers import Feedbackd, PgCluster  # noqa: E402


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    # A CI timeout or `kill` sends SIGTERM: turn it into an interrupt so the fixtures' teardown
    # still stops the clusters and daemons instead of leaving them running.
    signal.signal(signal.SIGTERM, _interrupt)


@pytest.fixture(scope="session")
def pg():
    cluster = PgCluster("pg").init().start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="module")
def module_db(pg, request):
    return pg.create_database(re.sub(r"\W", "_", request.module.__name__.split(".")[-1]))


@pytest.fixture(scope="module")
def db_sql(pg, module_db):
    def run(query, params=None):
        return pg.sql(query, params, dbname=module_db)
    return run


@pytest.fixture(scope="module")
def feedbackd(pg, module_db):
    fd = Feedbackd(pg.conninfo(module_db), name="mod")
    try:
        fd.setup()
        fd.start()
        yield fd
    finally:
        fd.destroy()


@pytest.fixture
def feedbackd_factory(pg, request):
    made = []
    prefix = re.sub(r"\W", "_", request.node.name)[:30]

    def make(*, args=(), env=None, project="test", origins=None, start=True, setup=True, database_url=None):
        url = database_url or pg.conninfo(pg.create_database(prefix))
        fd = Feedbackd(url, args=args, env=env, project=project, origins=origins)
        made.append(fd)
        if setup:
            fd.setup()
        if start:
            fd.start()
        return fd

    yield make
    for fd in made:
        fd.destroy()


@pytest.fixture
def pg_factory():
    made = []

    def make():
        cluster = PgCluster("own")
        made.append(cluster)
        return cluster.init().start()

    yield make
    for cluster in made:
        cluster.destroy()
