"""Embedded mode (docs/api.md "Operating contract"): `feedbackd serve` without a database URL runs
its own private PostgreSQL in the data dir; the first start creates the default project
and prints an admin and an ingest key once; SIGINT stops everything; data survives."""

import os
import re
import signal
import subprocess

import pytest

from helpers import Feedbackd, IS_ROOT, processes_using, wait_until


@pytest.fixture
def embedded():
    fd = Feedbackd(database_url=None, project=None, name="emb")
    # the cluster runs as `postgres` when we are root: it must reach the data dir
    fd.data_dir = os.path.join(fd.dir, "var")
    yield fd
    fd.destroy()


def serve_env(fd):
    env = fd.env()
    env.pop("FEEDBACKD_DATABASE_URL", None)
    return env


KEY_LINE = re.compile(r"^\s*(ADMIN|INGEST) KEY\b.*?:\s*(\S+)\s*$", re.M)


def test_embedded_first_start_keys_and_restart(embedded):
    fd = embedded
    pgdata = os.path.join(fd.data_dir, "postgres")
    fd.start(env=serve_env(fd), wait=False)
    fd.wait_ready(timeout=120)  # initdb on first start
    assert fd.get("/healthz").status_code == 200

    keys = dict(KEY_LINE.findall(fd.stdout()))
    assert set(keys) == {"ADMIN", "INGEST"}, fd.stdout()
    r = fd.get("/v1/project", key=keys["ADMIN"])
    assert r.status_code == 200, r.text
    assert r.json()["slug"] == "default"
    # the ingest key is an ingest key only
    assert fd.get("/v1/project", key=keys["INGEST"]).status_code == 403
    assert os.path.exists(os.path.join(pgdata, "PG_VERSION"))
    if IS_ROOT:
        assert os.stat(pgdata).st_uid != 0, "PostgreSQL must not run as root"
    assert processes_using(pgdata), "the embedded postgres should be running"

    code = fd.stop(signal.SIGINT, timeout=60)
    assert code == 0, fd.log()
    wait_until(lambda: not processes_using(pgdata), timeout=10, what="embedded postgres gone")
    assert not os.path.exists(os.path.join(pgdata, "postmaster.pid"))

    # second start: same data, no new keys printed
    printed_before = fd.stdout()
    fd.start(env=serve_env(fd), wait=False)
    fd.wait_ready(timeout=60)
    new_output = fd.stdout()[len(printed_before):]
    assert not KEY_LINE.search(new_output), new_output
    r = fd.get("/v1/project", key=keys["ADMIN"])
    assert r.status_code == 200 and r.json()["slug"] == "default"
    code = fd.stop(signal.SIGTERM, timeout=60)
    assert code == 0, fd.log()
    wait_until(lambda: not processes_using(pgdata), timeout=10, what="embedded postgres gone")


def test_embedded_cli_uses_the_same_cluster(embedded):
    """Operator commands without a database URL reach the embedded cluster too."""
    fd = embedded
    env = serve_env(fd)

    def cli(*args):
        r = subprocess.run([fd.bin, *args], env=env, capture_output=True, text=True, timeout=120, cwd=fd.dir)
        assert r.returncode == 0, f"feedbackd {' '.join(args)}: {r.stderr}"
        return r

    cli("migrate")  # creates the cluster on first use
    cli("projects", "create", "shop", "--name", "Shop")
    key = cli("keys", "create", "--project", "shop", "--scopes", "admin").stdout.strip()
    pgdata = os.path.join(fd.data_dir, "postgres")
    # a CLI command that started the cluster stops it again
    wait_until(lambda: not processes_using(pgdata), timeout=10, what="cluster stopped after the CLI")
    fd.start(env=env, wait=False)
    fd.wait_ready(timeout=60)
    r = fd.get("/v1/project", key=key)
    assert r.status_code == 200 and r.json()["slug"] == "shop"
    # a project existed already: no default project, no keys printed
    assert not KEY_LINE.search(fd.stdout())
    assert fd.stop(signal.SIGINT, timeout=60) == 0
