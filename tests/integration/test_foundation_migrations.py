"""Migrations: `feedbackd migrate` is idempotent and safe to run concurrently, and records a
SHA-256 of each migration file; an applied migration whose file changed stops the runner."""

import hashlib
import os
import re
import subprocess

from helpers import IS_ROOT, PG_BIN, REPO, clean_env, feedbackd_bin, pooler_env


def migration_versions():
    """Versions expected, from the file names in migrations/ (NNNN_name.sql), not from the binary."""
    names = [f for f in os.listdir(os.path.join(REPO, "migrations")) if re.match(r"^\d{4}_.+\.sql$", f)]
    return sorted(int(f[:4]) for f in names)


def file_checksums():
    """{version: sha256 hex} of the files in migrations/, computed here, not by the binary."""
    sums = {}
    for v in migration_versions():
        (name,) = [f for f in os.listdir(os.path.join(REPO, "migrations")) if f.startswith(f"{v:04d}_")]
        with open(os.path.join(REPO, "migrations", name), "rb") as f:
            sums[v] = (name, hashlib.sha256(f.read()).hexdigest())
    return sums


def recorded_checksums(pg, db):
    return dict(pg.sql("SELECT version, checksum FROM schema_migrations ORDER BY version", dbname=db))


def migrate(pg, db, **popen):
    env = clean_env(FEEDBACKD_DATABASE_URL=pg.conninfo(db), **pooler_env())
    return subprocess.Popen([feedbackd_bin(), "migrate"], env=env,
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
        applied = [int(re.search(r"(\d+) migrations? applied", out).group(1)) for out, _ in results]
        # each migration once: the lock is per migration's transaction, so the two runners may
        # share the work, the one that waited finding done what the other applied meanwhile
        assert sum(applied) == len(want), results
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


def test_migrate_records_the_sha256_of_each_file(pg):
    db = pg.create_database("mig_sum")
    p = migrate(pg, db)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert recorded_checksums(pg, db) == {v: s for v, (_, s) in file_checksums().items()}


def test_a_changed_applied_migration_stops_serve_and_migrate(pg, feedbackd_factory):
    """A recorded checksum that differs from the file compiled in (as if the file had been
    edited after it was applied): a running server's /readyz stops saying ready, and
    migrate, serve and serve --no-migrate exit non-zero naming the file and both checksums."""
    db = pg.create_database("mig_changed")
    fd = feedbackd_factory(database_url=pg.conninfo(db))  # migrated, started
    assert fd.get("/readyz").status_code == 200
    version = migration_versions()[0]
    name, good = file_checksums()[version]
    bad = hashlib.sha256(b"the file as it was when applied").hexdigest()
    pg.sql("UPDATE schema_migrations SET checksum = %s WHERE version = %s", (bad, version), dbname=db)

    r = fd.get("/readyz")
    assert r.status_code == 503, r.text
    assert r.json()["status"] == "migration_checksum_mismatch" and name in r.json()["error"], r.text
    assert fd.stop() == 0

    for cmd in (["migrate"], ["serve"], ["serve", "--no-migrate"]):
        res = fd.cli(*cmd, check=False, timeout=60)  # a serve that started would time out here
        assert res.returncode != 0, f"{cmd}: {res.stdout}{res.stderr}"
        assert name in res.stderr and good in res.stderr and bad in res.stderr, f"{cmd}: {res.stderr}"
    assert recorded_checksums(pg, db)[version] == bad  # nothing was "repaired"

    pg.sql("UPDATE schema_migrations SET checksum = %s WHERE version = %s", (good, version), dbname=db)
    fd.start()
    assert fd.get("/readyz").status_code == 200


def test_missing_checksums_are_filled_from_the_files(pg, feedbackd_factory):
    """Databases migrated before checksums were recorded: no checksum column at all, or a
    NULL checksum. serve --no-migrate accepts them as they are; the runner adds the column
    and records the current files' checksums (trust on first use)."""
    db = pg.create_database("mig_tofu")
    p = migrate(pg, db)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    want = {v: s for v, (_, s) in file_checksums().items()}

    pg.sql("ALTER TABLE schema_migrations DROP COLUMN checksum", dbname=db)
    fd = feedbackd_factory(database_url=pg.conninfo(db), project=None, setup=False, args=["--no-migrate"])
    assert fd.get("/readyz").status_code == 200
    assert fd.stop() == 0
    p = migrate(pg, db)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert re.search(r"\b0 migrations applied", out), out
    assert recorded_checksums(pg, db) == want

    newest = migration_versions()[-1]
    pg.sql("UPDATE schema_migrations SET checksum = NULL WHERE version = %s", (newest,), dbname=db)
    p = migrate(pg, db)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert recorded_checksums(pg, db) == want
