"""Ingestion API under failure (docs/api.md "Conventions", "Operating contract"; docs/architecture.md "Design principles" 1
"durable before acknowledged"): a PostgreSQL outage answers 503 + Retry-After promptly and
loses no acknowledged event; SIGTERM with requests in flight commits every acknowledged
event and exits 0."""

import signal
import threading
import time

import pytest
import requests

from helpers import Feedbackd, wait_until
from ingest_helpers import expect_error, new_id, rating


class Poster:
    """Threads posting new events continuously; records (id, status, seconds, retry_after)."""

    def __init__(self, fd, threads=4, batch=0, timeout=30):
        self.fd, self.batch, self.timeout = fd, batch, timeout
        self.results = []
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        s = requests.Session()
        s.trust_env = False
        headers = {"Authorization": f"Bearer {self.fd.keys['ingest']}"}
        while not self.stop_flag.is_set():
            if self.batch:
                evs = [rating(user="poster") for _ in range(self.batch)]
                url, body = self.fd.base_url + "/v1/feedback/batch", {"events": evs}
            else:
                evs = [rating(user="poster")]
                url, body = self.fd.base_url + "/v1/feedback", evs[0]
            t0 = time.monotonic()
            try:
                r = s.post(url, json=body, headers=headers, timeout=self.timeout)
                status, retry, text = r.status_code, r.headers.get("Retry-After"), r.text
                per_item = None
                if status == 200 and self.batch:
                    per_item = [x["status"] for x in r.json()["results"]]
            except requests.RequestException as e:
                status, retry, text, per_item = type(e).__name__, None, "", None
                time.sleep(0.05)
            dt = time.monotonic() - t0
            with self.lock:
                self.results.append(([e["id"] for e in evs], status, dt, retry, text, per_item, t0))
            if status == 503:
                time.sleep(0.05)
        s.close()

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=60)

    def acknowledged(self):
        """Ids the server acknowledged (201 stored / 200 duplicate, per item for batches)."""
        out = []
        for ids, status, _, _, _, per_item, _ in self.results:
            if per_item is not None:
                out += [i for i, st in zip(ids, per_item) if st in ("stored", "duplicate")]
            elif status in (200, 201):
                out += ids
        return out


def durable(cluster):
    """The shared test clusters run with synchronous_commit=off for speed: a commit may then be
    acknowledged before its WAL is written, and a crash (stop -m immediate) loses it. The
    outage tests crash the database, so their cluster must commit synchronously."""
    cluster.sql("ALTER SYSTEM SET synchronous_commit = on")
    cluster.sql("SELECT pg_reload_conf()")
    assert cluster.sql("SHOW synchronous_commit") == [("on",)] or wait_until(
        lambda: cluster.sql("SHOW synchronous_commit") == [("on",)], timeout=5)
    return cluster


def stored_ids(pg, db, ids):
    conn = pg.connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM feedback WHERE id = ANY(%s)", (list(ids),))
            return {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


@pytest.mark.parametrize("writers,threads", [(2, 4), (1, 12)])
def test_postgres_outage_503_promptly_and_no_acknowledged_event_lost(pg_factory, writers, threads):
    # one writer and many clients: requests are queued behind the batch being written when
    # the database goes away; they too must be answered promptly
    own = durable(pg_factory())
    db = own.create_database("outage")
    fd = Feedbackd(own.conninfo(db), name="ingout", args=["--writers", str(writers)])
    try:
        fd.setup()
        fd.start()
        poster = Poster(fd, threads=threads, timeout=30).start()
        time.sleep(1.5)
        own.stop(mode="fast")
        t_stop = time.monotonic()
        time.sleep(4)
        # while PostgreSQL is down: a single request answers 503 with Retry-After, promptly
        t0 = time.monotonic()
        r = fd.post("/v1/feedback", key="ingest", json=rating(), timeout=30)
        assert time.monotonic() - t0 < 5, "POST took longer than 5 s while the database is down"
        expect_error(r, 503, "unavailable")
        assert r.headers.get("Retry-After", "").isdigit(), r.headers
        own.start()
        t_start = time.monotonic()
        wait_until(lambda: fd.post("/v1/feedback", key="ingest", json=rating(), timeout=30).status_code == 201,
                   timeout=30, interval=0.2, what="201 again after PostgreSQL came back")
        time.sleep(1.0)
        poster.stop()
        res = poster.results
        during = [x for x in res if t_stop + 0.5 < x[6] and x[6] + x[2] < t_start]
        assert during, "no request was made while PostgreSQL was down"
        statuses = {x[1] for x in during}
        assert statuses <= {503}, f"while the database was down: {statuses}"
        assert all(x[3] and x[3].isdigit() for x in during), "503 without Retry-After"
        slow = [x for x in res if x[2] > 5]
        assert not slow, f"{len(slow)} requests took more than 5 s (max {max(x[2] for x in slow):.1f} s)"
        assert not [x for x in res if x[1] not in (200, 201, 503)], {x[1] for x in res}
        assert any(x[1] == 201 and x[6] > t_start for x in res), "no 201 after recovery"
        acked = poster.acknowledged()
        assert len(acked) > 20
        missing = set(acked) - stored_ids(own, db, acked)
        assert not missing, f"{len(missing)} acknowledged events are not in the table"
        assert fd.running()
        assert fd.stop() == 0
    finally:
        fd.destroy()


def test_postgres_outage_batches(pg_factory):
    """The same with batch requests: every item acknowledged in a 200 is in the table."""
    own = durable(pg_factory())
    db = own.create_database("outageb")
    fd = Feedbackd(own.conninfo(db), name="ingoutb")
    try:
        fd.setup()
        fd.start()
        poster = Poster(fd, threads=3, batch=20).start()
        time.sleep(1.0)
        own.stop(mode="immediate")  # a crash of the database, not a clean stop
        time.sleep(2.5)
        own.start()
        wait_until(lambda: fd.post("/v1/feedback", key="ingest", json=rating()).status_code == 201,
                   timeout=30, interval=0.2, what="201 again after PostgreSQL came back")
        time.sleep(1.0)
        poster.stop()
        assert not [x for x in poster.results if x[1] not in (200, 503)], {x[1] for x in poster.results}
        assert not [x for x in poster.results if x[2] > 5], "a request took more than 5 s"
        acked = poster.acknowledged()
        assert len(acked) > 100
        missing = set(acked) - stored_ids(own, db, acked)
        assert not missing, f"{len(missing)} acknowledged events are not in the table"
        assert fd.stop() == 0
    finally:
        fd.destroy()


def test_sigterm_with_requests_in_flight(feedbackd_factory, pg):
    # a long batch wait keeps requests waiting for their commit when SIGTERM arrives
    fd = feedbackd_factory(args=["--batch-wait-ms", "300", "--batch-size", "5000"])
    db = fd.database_url.split("dbname=")[1].split()[0]
    poster = Poster(fd, threads=8, timeout=30).start()
    time.sleep(1.5)
    t_term = time.monotonic()
    fd.proc.send_signal(signal.SIGTERM)
    code = fd.proc.wait(timeout=30)
    poster.stop()
    assert code == 0, fd.log()
    res = poster.results
    answered_after_term = [x for x in res if x[6] < t_term and x[6] + x[2] > t_term and x[1] in (200, 201)]
    assert answered_after_term, "no request was in flight (answered after SIGTERM): the test proves nothing"
    acked = poster.acknowledged()
    missing = set(acked) - stored_ids(pg, db, acked)
    assert not missing, f"{len(missing)} acknowledged events are not in the table"
    # nothing but 201 or a refused connection
    assert {x[1] for x in res} <= {201, "ConnectionError"}, {x[1] for x in res}


def test_sigterm_with_batches_in_flight(feedbackd_factory, pg):
    fd = feedbackd_factory(args=["--batch-wait-ms", "200"])
    db = fd.database_url.split("dbname=")[1].split()[0]
    poster = Poster(fd, threads=4, batch=50, timeout=30).start()
    time.sleep(1.0)
    code = fd.stop(signal.SIGTERM)
    poster.stop()
    assert code == 0, fd.log()
    acked = poster.acknowledged()
    assert acked
    missing = set(acked) - stored_ids(pg, db, acked)
    assert not missing, f"{len(missing)} acknowledged events are not in the table"


def test_concurrent_distinct_events_all_stored(feedbackd, db_sql):
    poster = Poster(feedbackd, threads=16).start()
    time.sleep(2)
    poster.stop()
    assert {x[1] for x in poster.results} == {201}
    acked = poster.acknowledged()
    assert len(acked) == len(set(acked)) > 50
    assert db_sql("SELECT count(*) FROM feedback WHERE id = ANY(%s)", (acked,)) == [(len(acked),)]
