"""Failover with no acknowledged event lost (docs/operations.md "Failover").

A primary with a synchronous streaming standby, both real PostgreSQL 15 processes; feedbackd
is given both in one multi-host database_url with target_session_attrs=read-write. Under a
steady stream of single-event POSTs the primary is crashed (pg_ctl stop -m immediate) and the
standby promoted. While no server accepts writes feedbackd answers 503 with Retry-After (never
another 5xx, never a 201 for a lost event); it answers 201 again within 5 s of the promotion;
and every event it acknowledged before, during and after is on the new primary.
"""

import threading
import time

import pytest
import requests

from helpers import Feedbackd, wait_until
from ingest_helpers import rating
from replication import ReplicatedPair

RESUME_WITHIN_S = 5.0


class Load:
    """Single-event POSTs one after another from a thread, each answer recorded with the
    monotonic times it was sent and answered."""

    def __init__(self, fd, limit=20000):
        self.fd = fd
        self.limit = limit
        self.results = []  # (sent, answered, event id, status, Retry-After or None)
        self.errors = []   # transport errors: feedbackd itself must never fail to answer
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set() and len(self.results) < self.limit:
            ev = rating()
            sent = time.monotonic()
            try:
                r = self.fd.post("/v1/feedback", key="ingest", json=ev, timeout=15)
            except requests.RequestException as e:
                self.errors.append(repr(e))
                continue
            self.results.append((sent, time.monotonic(), ev["id"], r.status_code, r.headers.get("Retry-After")))
            if r.status_code == 503:
                time.sleep(0.02)  # a client backs off; Retry-After's full seconds would blur the timing

    def acked(self):
        return [rid for _, _, rid, status, _ in self.results if status == 201]

    def count(self, status, sent_after=None):
        return sum(1 for s, _, _, st, _ in self.results if st == status and (sent_after is None or s >= sent_after))


@pytest.fixture
def pair():
    p = ReplicatedPair(sync=True).start()
    yield p
    p.destroy()


def test_failover_loses_no_acknowledged_event(pair):
    dbname = pair.primary.create_database("failover")
    fd = Feedbackd(pair.multi_host_url(dbname), name="failover")
    try:
        fd.setup()
        fd.start()
        load = Load(fd)
        load.thread.start()
        try:
            wait_until(lambda: load.count(201) >= 50, 60, what="50 events acknowledged before the crash")
            pair.primary.stop(mode="immediate")
            crashed = time.monotonic()
            # the outage: nothing accepts writes until the promotion
            wait_until(lambda: load.count(503, sent_after=crashed) >= 3, 30, what="503 answers while no primary")
            promoting = time.monotonic()
            pair.promote()
            wait_until(lambda: load.count(201, sent_after=crashed) >= 50, 60,
                       what="50 events acknowledged after the promotion")
        finally:
            load.stop.set()
            load.thread.join(timeout=30)
        log = fd.log(20000)
        assert not load.errors, (load.errors[:5], log[-3000:])

        statuses = {st for _, _, _, st, _ in load.results}
        assert statuses <= {201, 503}, (statuses, log[-3000:])
        for _, _, rid, st, retry_after in load.results:
            if st == 503:
                assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1, (rid, retry_after)

        first_after = min(answered for sent, answered, _, st, _ in load.results if st == 201 and sent >= crashed)
        # measured from before `pg_ctl promote` was called, so the promotion's own time counts against feedbackd
        assert first_after - promoting <= RESUME_WITHIN_S, (first_after - promoting, log[-3000:])

        print(f"failover: {len(load.results)} POSTs, {load.count(503)} x 503, first 201 {first_after - promoting:.3f} s after promote began")
        acked = load.acked()
        assert len(acked) == len(set(acked))
        new_primary = pair.standby
        assert new_primary.sql("SELECT pg_is_in_recovery()") == [(False,)]
        stored = {r[0] for r in new_primary.sql("SELECT id FROM feedback WHERE id = ANY(%s)", (acked,), dbname=dbname)}
        missing = [rid for rid in acked if rid not in stored]
        assert not missing, f"{len(missing)} of {len(acked)} acknowledged events are not on the new primary: {missing[:5]}"
        # the count is not vacuous: events were acknowledged on both sides of the failover
        assert sum(1 for s, _, _, st, _ in load.results if st == 201 and s < crashed) >= 50
        assert sum(1 for s, _, _, st, _ in load.results if st == 201 and s >= promoting) >= 50
    finally:
        fd.destroy()
