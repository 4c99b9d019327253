"""Migrations: `feedbackd migrate` is idempotent and safe to run concurrently."""

import os
import re
import subprocess

from helpers import IS_ROOT, PG_BIN, REPO, clean_env, feedbackd_bin


def migration_versions():
    """Versions expected, from the file names in migrations/ (NNNN_name.sql), not from the binary."""
    names = [f for f in os.listdir(os.path.join(REPO, "migrations")) if re.match(r"^\d{4}_.+\.sql$", f)]
    return sorted(int(f[:4]) for f in names)


def migrate(pg, db, **popen):
    return subprocess.Popen([feedbackd_bin(), "migrate"], env=clean_env(FEEDBACKD_DATABASE_URL=pg.conninfo(db)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def schema_dump(pg, db):
    cmd = [f"{PG_BIN}/pg_dump", "--schema-only", "--no-owner", "-h", pg.host, "-p", str(pg.port), "-U", "postgres", db]
    if IS_ROOT:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # pg_dump >= 15.14 brackets the dump in \restrict/\unrestrict lines with a random key
    return "\n".join(line for line in r.stdout.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def test_migrate_applies_all_then_nothing(pg):
    db = pg.create_database("mig_idem")
    want = migration_versions()
    assert want, "no migrations found"

    p = migrate(pg, db)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert re.search(rf"\b{len(want)} migrations? applied", out), out
    rows = pg.sql("SELECT version FROM schema_migrations ORDER BY version", dbname=db)
    assert [r[0] for r in rows] == want
    before = schema_dump(pg, db)
    assert "CREATE TABLE public.api_keys" in before

    p = migrate(pg, db)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert re.search(r"\b0 migrations applied", out), out
    assert schema_dump(pg, db) == before
    rows = pg.sql("SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version", dbname=db)
    assert rows == [(v, 1) for v in want]


def test_concurrent_migrate_on_a_fresh_database(pg):
    want = migration_versions()
    for attempt in range(3):  # a few rounds: the race window is small
        db = pg.create_database(f"mig_conc{attempt}")
        procs = [migrate(pg, db) for _ in range(2)]
        results = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, results):
            assert p.returncode == 0, f"stdout={out!r} stderr={err!r}"
        applied = sorted(int(re.search(r"(\d+) migrations? applied", out).group(1)) for out, _ in results)
        assert applied == [0, len(want)], results  # one did the work, the other waited and found it done
        rows = pg.sql("SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version", dbname=db)
        assert rows == [(v, 1) for v in want]


def test_serve_applies_pending_migrations(pg, feedbackd_factory):
    db = pg.create_database("mig_serve")
    fd = feedbackd_factory(database_url=pg.conninfo(db), project=None, setup=False)
    assert fd.get("/readyz").status_code == 200
    rows = pg.sql("SELECT version FROM schema_migrations ORDER BY version", dbname=db)
    assert [r[0] for r in rows] == migration_versions()


def test_readyz_503_while_the_schema_is_behind_the_binary(pg, feedbackd_factory):
    """A binary newer than the schema (served with --no-migrate) is alive but not ready:
    simulated by removing the newest version from schema_migrations."""
    db = pg.create_database("mig_behind")
    fd = feedbackd_factory(database_url=pg.conninfo(db), start=False, args=["--no-migrate"])
    newest = migration_versions()[-1]
    row = pg.sql("DELETE FROM schema_migrations WHERE version = %s RETURNING version, name, applied_at",
                 (newest,), dbname=db)
    assert len(row) == 1
    fd.start(wait=False)
    fd.wait_ready(path="/healthz")
    r = fd.get("/readyz")
    assert r.status_code == 503, r.text
    pg.sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)", row[0], dbname=db)
    assert fd.get("/readyz").status_code == 200
