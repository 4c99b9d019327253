"""Read routing to a hot standby (docs/operations.md "Read routing").

A real primary with a real streaming standby (asynchronous: the standby may lag). feedbackd
writes to database_url (the primary) and serves GET /v1/feedback, /v1/stats, leaderboard and
agreement from read_database_url (the standby) once the standby has replayed the primary's WAL
up to the moment of the read; a standby that stays behind sends the read to the primary. Both
ways a read sees every event acknowledged before it.
"""

import pytest

from helpers import Feedbackd
from ingest_helpers import rating
from replication import ReplicatedPair


@pytest.fixture(scope="module")
def routed():
    pair = ReplicatedPair(sync=False).start()
    dbname = pair.primary.create_database("reads")
    pair.wait_replayed()
    fd = Feedbackd(pair.primary.conninfo(dbname), name="reads",
                   env={"FEEDBACKD_READ_DATABASE_URL": pair.standby.conninfo(dbname), "FEEDBACKD_LOG_LEVEL": "debug"})
    try:
        fd.setup()
        fd.start()
        yield pair, dbname, fd
    finally:
        fd.destroy()
        pair.destroy()


def routed_reads(fd, to):
    return fd.log(10 ** 7).count(f'msg="read routed" to={to}')


def listed_ids(fd):
    r = fd.get("/v1/feedback?limit=500", key="read")
    assert r.status_code == 200, r.text
    return {item["id"] for item in r.json()["items"]}


def client_backends(cluster, dbname):
    return cluster.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"
                       " AND pid <> pg_backend_pid()", (dbname,))[0][0]


def post_all(fd, events):
    for ev in events:
        r = fd.post("/v1/feedback", key="ingest", json=ev)
        assert r.status_code == 201, r.text


def assert_listed_from_primary(fd, ev):
    """POST ev, then the list has it, answered by the primary (one more `to=primary` read)."""
    post_all(fd, [ev])
    before = routed_reads(fd, "primary")
    assert ev["id"] in listed_ids(fd)
    assert routed_reads(fd, "primary") == before + 1


def test_reads_are_served_by_the_standby_and_see_every_acknowledged_event(routed):
    pair, dbname, fd = routed
    assert pair.standby.sql("SELECT pg_is_in_recovery()") == [(True,)]
    events = [rating(value=1) for _ in range(7)] + [rating(value=-1) for _ in range(4)]
    before = routed_reads(fd, "standby")
    post_all(fd, events)
    # read right after the 201s: the read waits for the standby to replay them
    assert {ev["id"] for ev in events} <= listed_ids(fd)
    r = fd.get("/v1/stats", key="read")
    assert r.status_code == 200, r.text
    totals = r.json()["totals"]
    assert (totals["ratings"], totals["up"], totals["down"]) == (11, 7, 4), totals
    for path in ("/v1/leaderboard", "/v1/agreement"):
        assert fd.get(path, key="read").status_code == 200, path
    assert routed_reads(fd, "standby") - before == 4
    assert routed_reads(fd, "primary") == 0
    # the reads really ran there: feedbackd's read pool holds connections on the standby
    assert client_backends(pair.standby, dbname) >= 1
    # the stats catch-up (a write) ran on the primary, and the standby replayed it
    assert pair.standby.sql("SELECT count(*) FROM feedback", dbname=dbname) == [(11,)]


def test_a_standby_that_does_not_replay_in_time_sends_the_read_to_the_primary(routed):
    pair, dbname, fd = routed
    pair.standby.sql("SELECT pg_wal_replay_pause()")
    try:
        late = rating()
        assert_listed_from_primary(fd, late)
        assert "standby has not replayed in time" in fd.log(10 ** 7)
        # the paused standby indeed does not have it: the answer came from the primary
        assert pair.standby.sql("SELECT count(*) FROM feedback WHERE id = %s", (late["id"],), dbname=dbname) == [(0,)]
    finally:
        pair.standby.sql("SELECT pg_wal_replay_resume()")
    before = routed_reads(fd, "standby")
    assert late["id"] in listed_ids(fd)
    assert routed_reads(fd, "standby") == before + 1


def test_reads_go_on_from_the_primary_while_the_standby_is_down(routed):
    pair, dbname, fd = routed
    pair.standby.stop(mode="immediate")
    try:
        assert_listed_from_primary(fd, rating())
    finally:
        pair.standby.start()
