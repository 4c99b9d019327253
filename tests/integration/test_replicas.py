"""Replicas of feedbackd: three daemons on one PostgreSQL database behind haproxy (health checks
on /readyz), as docs/operations.md describes. feedbackd keeps no state of its own, so what one
replica acknowledges or changes holds on all of them: idempotency across replicas, a revoked
key refused everywhere within a second, a reaction set PATCHed through one replica used by all
within a second, nothing acknowledged lost when one replica is stopped
under load, and a rolling restart through PgBouncer (each start running the migrations)."""

import threading
import time

import pytest
import requests

from haproxy import Haproxy
from helpers import Feedbackd, free_port
from ingest_helpers import new_id, rating
from pgbouncer import MIGRATION_LOCK, PgBouncer

REPLICAS = 3
REVOCATION_WINDOW = 1.0  # seconds: docs/api.md, "Effective within a second on every replica"
SETTINGS_WINDOW = 1.0  # seconds: docs/api.md "Reactions", a PATCH holds on every replica within a second


def start_replicas(url, env=None):
    """REPLICAS daemons on database `url`: the first sets up the schema, project and keys (as
    an operator does once), the others share them."""
    first = Feedbackd(url, name="rep1", env=env)
    reps = [first]
    try:
        first.setup()
        for i in range(2, REPLICAS + 1):
            r = Feedbackd(url, name=f"rep{i}", project=None, env=env)
            r.project, r.keys = first.project, first.keys
            reps.append(r)
        for r in reps:
            r.start(wait=False)
        for r in reps:
            r.wait_ready()
    except BaseException:
        for r in reps:
            r.destroy()
        raise
    return reps


def front(reps):
    lb = Haproxy(free_port(), free_port(), [(f"rep{i + 1}", r.port) for i, r in enumerate(reps)]).start()
    lb.wait_status({f"rep{i + 1}": "UP" for i in range(len(reps))})
    return lb


@pytest.fixture(scope="module")
def cluster(pg, module_db):
    reps = start_replicas(pg.conninfo(module_db))
    lb = None
    try:
        lb = front(reps)
        yield reps, lb
    finally:
        if lb:
            lb.stop()
        for r in reps:
            r.destroy()


def not_stored(pg, db, ids):
    """The ids of `ids` that table feedback of database `db` does not hold."""
    rows = pg.sql("SELECT id FROM feedback WHERE id = ANY(%s)", (list(ids),), dbname=db)
    return set(ids) - {r[0] for r in rows}


class Load:
    """Threads posting new events through haproxy until stop() or max_posts each; acked holds
    the ids answered 201 (or 200 duplicate: a retry of a request that was stored), failed the
    other outcomes."""

    def __init__(self, base_url, key, threads=4, max_posts=2000):
        self.base_url, self.key, self.max_posts = base_url, key, max_posts
        self.acked, self.failed = [], []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self):
        s = requests.Session()
        s.trust_env = False
        for _ in range(self.max_posts):
            if self._stop.is_set():
                break
            ev = rating()
            try:
                r = s.post(self.base_url + "/v1/feedback", json=ev, timeout=10,
                           headers={"Authorization": f"Bearer {self.key}"})
                outcome = r.status_code
            except requests.RequestException as e:
                outcome = type(e).__name__
            with self.lock:
                if outcome in (200, 201):
                    self.acked.append(ev["id"])
                else:
                    self.failed.append(outcome)
        s.close()

    def count(self):
        with self.lock:
            return len(self.acked)

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self.threads:
            t.join(timeout=60)


def test_same_event_posted_to_all_replicas_at_once_is_stored_once(cluster, db_sql):
    reps, _ = cluster
    for _ in range(15):
        ev = rating()
        barrier = threading.Barrier(REPLICAS)
        answers = [None] * REPLICAS

        def post(i):
            barrier.wait(timeout=30)
            answers[i] = reps[i].post("/v1/feedback", key="ingest", json=ev)

        threads = [threading.Thread(target=post, args=(i,)) for i in range(REPLICAS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted((a.status_code, a.json()["status"]) for a in answers)
        assert statuses == [(200, "duplicate")] * (REPLICAS - 1) + [(201, "stored")], statuses
        assert db_sql("SELECT count(*) FROM feedback WHERE id = %s", (ev["id"],)) == [(1,)]


def test_key_revoked_on_one_replica_is_refused_on_every_replica_within_a_second(cluster):
    reps, _ = cluster
    made = reps[0].post("/v1/keys", key="admin", json={"scopes": ["read"], "label": "to revoke"})
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    for r in reps:  # every replica has the key cached (or its prefix set loaded)
        assert r.get("/v1/feedback?limit=1", key=key).status_code == 200
    revoked = reps[0].delete(f"/v1/keys/{made.json()['id']}", key="admin")
    assert revoked.status_code == 200, revoked.text
    t0 = time.monotonic()
    seen = []  # (replica index, seconds after the revocation the request was sent, status)
    while time.monotonic() - t0 < REVOCATION_WINDOW + 0.5:
        for i, r in enumerate(reps):
            sent = time.monotonic() - t0
            seen.append((i, sent, r.get("/v1/feedback?limit=1", key=key).status_code))
    late = [s for s in seen if s[1] >= REVOCATION_WINDOW and s[2] != 401]
    assert not late, f"accepted more than {REVOCATION_WINDOW} s after the revocation: {late}"
    here = [s for s in seen if s[0] == 0 and s[2] != 401]
    assert not here, f"the replica that revoked it accepted it afterwards: {here}"
    for i in range(REPLICAS):
        assert any(s[0] == i and s[1] >= REVOCATION_WINDOW for s in seen), f"replica {i + 1} was not asked late enough"


def test_reaction_set_patched_on_one_replica_holds_on_every_replica_within_a_second(cluster):
    """Each process caches the project's reaction set (docs/api.md "Reactions"); a PATCH
    through one replica must be what the others validate against within a second."""
    reps, _ = cluster
    old = reps[0].get("/v1/project", key="admin").json()["reactions"]
    new = [{"name": "rocket", "emoji": "\U0001f680", "value": 1}, {"name": "meh", "emoji": "\U0001f610", "value": 0}]

    def status(r, emoji):
        ev = {"id": new_id("rs"), "kind": "reaction", "message_id": "m-replica-set", "emoji": emoji}
        return r.post("/v1/feedback", key="ingest", json=ev).status_code

    for r in reps:  # every replica has the old set cached
        assert status(r, "love") == 201 and status(r, "rocket") == 400
    try:
        patched = reps[0].patch("/v1/project", key="admin", json={"reactions": new})
        assert patched.status_code == 200, patched.text
        t0 = time.monotonic()
        assert status(reps[0], "rocket") == 201 and status(reps[0], "love") == 400  # here: at once
        seen = []  # (replica index, seconds after the PATCH the request was sent, emoji, status)
        while time.monotonic() - t0 < SETTINGS_WINDOW + 0.5:
            for i, r in enumerate(reps[1:], 1):
                for emoji in ("rocket", "love"):
                    sent = time.monotonic() - t0
                    seen.append((i, sent, emoji, status(r, emoji)))
        want = {"rocket": 201, "love": 400}
        late = [s for s in seen if s[1] >= SETTINGS_WINDOW and s[3] != want[s[2]]]
        assert not late, f"the old set was used more than {SETTINGS_WINDOW} s after the PATCH ({len(late)} times): {late[:4]}"
        for i in range(1, REPLICAS):  # once a replica has the new set, it never goes back
            mine = [s for s in seen if s[0] == i]
            first_new = next(k for k, s in enumerate(mine) if s[3] == want[s[2]] and s[2] == "rocket")
            back = [s for s in mine[first_new:] if s[3] != want[s[2]]]
            assert not back, f"replica {i + 1} went back to the old set: {back}"
            assert any(s[1] >= SETTINGS_WINDOW for s in mine), f"replica {i + 1} was not asked late enough"
    finally:
        assert reps[0].patch("/v1/project", key="admin", json={"reactions": old}).status_code == 200


def test_sigterm_of_one_replica_under_load_loses_no_acknowledged_event(pg, db_sql):
    # replicas of their own: this test stops one
    db = pg.create_database("replicas_term")
    reps = start_replicas(pg.conninfo(db))
    lb = None
    try:
        lb = front(reps)
        load = Load(lb.base_url, reps[0].keys["ingest"]).start()
        try:
            # the victim has answered some of the load before it is stopped
            deadline = time.monotonic() + 30
            while int(lb.servers()["rep2"]["stot"]) < 20 and time.monotonic() < deadline:
                time.sleep(0.02)
            before = load.count()
            assert reps[1].stop() == 0, reps[1].log()
            after_stop = load.count()
            lb.wait_status({"rep1": "UP", "rep2": "DOWN", "rep3": "UP"})
            while load.count() < after_stop + 200 and time.monotonic() < deadline + 30:
                time.sleep(0.02)
        finally:
            load.stop()
        assert before > 0 and load.count() >= after_stop + 200, (before, after_stop, load.count(), load.failed[:10])
        missing = not_stored(pg, db, load.acked)
        assert not missing, f"{len(missing)} of {len(load.acked)} acknowledged events are not stored"
        # haproxy retries a refused connection on another replica: the clients saw no failure
        assert not load.failed, f"{len(load.failed)} failed posts: {load.failed[:10]}"
    finally:
        if lb:
            lb.stop()
        for r in reps:
            r.destroy()


def test_rolling_restart_through_pgbouncer_never_hangs(pg):
    pooler = PgBouncer(pg, free_port(), pool_size=10).start()
    db = pg.create_database("replicas_roll")
    reps = []
    lb = None
    try:
        reps = start_replicas(pooler.conninfo(db), env={"FEEDBACKD_PREPARED_STATEMENTS": "false"})
        lb = front(reps)
        load = Load(lb.base_url, reps[0].keys["ingest"], threads=2).start()
        try:
            for i, r in enumerate(reps):
                assert r.stop() == 0, r.log()
                t = time.monotonic()
                r.start(wait=False)  # `serve` runs the start-up migrations, through the pooler
                r.wait_ready(timeout=30)
                took = time.monotonic() - t
                lb.wait_status({f"rep{j + 1}": "UP" for j in range(REPLICAS)})
                assert took < 30, f"replica {i + 1} took {took:.1f} s to start"
        finally:
            load.stop()
        assert load.acked, load.failed[:10]
        missing = not_stored(pg, db, load.acked)
        assert not missing, f"{len(missing)} of {len(load.acked)} acknowledged events are not stored"
        held = pg.sql("SELECT l.pid, l.granted, a.state, a.xact_start, now(), a.query FROM pg_locks l "
                      "JOIN pg_database d ON d.oid = l.database LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
                      "WHERE l.locktype = 'advisory' AND d.datname = %s" + MIGRATION_LOCK, (db,))
        assert not held, f"a migration lock outlived the rolling restart: {held}"
        servers = [s for s in pooler.admin("SHOW SERVERS") if s["database"] == db]
        assert 0 < len(servers) <= 10, servers
    finally:
        if lb:
            lb.stop()
        for r in reps:
            r.destroy()
        pooler.stop()
