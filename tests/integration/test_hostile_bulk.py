"""test_hostile_bulk.py — one project's bulk writes yield to another project's events
(`bulk_share`, docs/operations.md; docs/architecture.md "The write path").

The reproduction (bench/hostile, ATTACKS=edits): project A posts 1000-event batches as fast as
it can. Each is written as parts of `part_rows` rows, one after the other, so A kept one writer
(and its PostgreSQL backend: a whole core of a 2-core machine) busy all the time, and the
victim's single events lost 41 % of their rate. Now, while another project's events are being
written, a writer that finished a part holds the parts back for d * (1 / bulk_share - 1),
d being what the part took: parts use at most bulk_share of one writer's time. Alone, A keeps
the writers' full speed.

Checked with the server's own counters (the writer time spent on parts, the time parts were
held back), against the same run with bulk_share = 1; the bounds are loose, the machine may be
loaded by other work.
"""

import subprocess
import threading
import time

import psycopg2

from helpers import clean_env, feedbackd_bin, metric_value
from test_hostile_fairness import rating, second_project
from test_hostile_writers import project_id

PART = "feedbackd_ingest_part_seconds_total"
HELD = "feedbackd_ingest_bulk_throttled_seconds_total"


def counters(fd):
    text = fd.metrics()
    return metric_value(text, PART), metric_value(text, HELD)


def rows_of(fd, project):
    with psycopg2.connect(fd.database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM feedback WHERE project_id = %s", (project,))
        return cur.fetchone()[0]


def bulk(n=1000):
    return {"events": [rating() for _ in range(n)]}


def attack(fd, seconds, b_threads=4, a_threads=2):
    """A posts 1000-event batches from a_threads connections while B posts single events from
    b_threads: what A got written in `seconds` and what the counters moved."""
    b_key = second_project(fd, "victim")
    a = project_id(fd, fd.project)
    stop = threading.Event()
    a_answers, b_status = [], []

    def a_loop():
        while not stop.is_set():
            a_answers.append(fd.post("/v1/feedback/batch", key="ingest", json=bulk(), timeout=120))

    def b_loop():
        while not stop.is_set():
            b_status.append(fd.post("/v1/feedback", key=b_key, json=rating(), timeout=120).status_code)

    threads = [threading.Thread(target=b_loop) for _ in range(b_threads)]
    threads += [threading.Thread(target=a_loop) for _ in range(a_threads)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)  # both projects at full strength
        part0, held0 = counters(fd)
        rows0, t0 = rows_of(fd, a), time.monotonic()
        time.sleep(seconds)
        part1, held1 = counters(fd)
        rows1, wall = rows_of(fd, a), time.monotonic() - t0
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert b_status and set(b_status) == {201}, b_status
    # A's requests are answered 200, or 503 with Retry-After once its queue share is full
    assert any(r.status_code == 200 for r in a_answers), [r.status_code for r in a_answers]
    for r in a_answers:
        assert r.status_code in (200, 503), r.text
        if r.status_code == 503:
            assert int(r.headers["Retry-After"]) >= 1
    return {"rows_per_s": (rows1 - rows0) / wall, "part_share": (part1 - part0) / wall, "held": held1 - held0}


def test_bulk_writes_yield_to_another_projects_events(feedbackd_factory):
    fd = feedbackd_factory()  # default bulk_share 0.25, two writers
    throttled = attack(fd, 4.0)
    fd.stop()
    fd = feedbackd_factory(args=["--bulk-share", "1"])
    free = attack(fd, 4.0)
    print(f"bulk_share 0.25: {throttled}; bulk_share 1: {free}")
    # parts took at most about a quarter of one writer's time while B sent events (plus the
    # edges: a part under way when the window opened), and were held back meanwhile
    assert throttled["part_share"] <= 0.45, throttled
    assert throttled["held"] > 0, throttled
    # without the limit nothing is held back and parts take most of a writer's time (measured:
    # 0.22-0.24 against 0.57-0.79). A's rows/s are printed, not compared: on a loaded machine they
    # followed the other sessions' load more than the setting (2,300 vs 4,500 at load 3, 4,500
    # vs 3,500 at load 7: what a part's wall time buys depends on the CPU left)
    assert free["held"] == 0, free
    assert throttled["part_share"] < 0.8 * free["part_share"], (throttled, free)


def test_a_project_alone_keeps_full_speed(feedbackd_factory):
    fd = feedbackd_factory()  # bulk_share 0.25
    b_key = second_project(fd, "victim")
    a = project_id(fd, fd.project)
    # B was active, but more than the activity window (1 s) ago
    assert fd.post("/v1/feedback", key=b_key, json=rating()).status_code == 201
    time.sleep(1.5)
    part0, held0 = counters(fd)
    for _ in range(4):
        r = fd.post("/v1/feedback/batch", key="ingest", json=bulk(), timeout=120)
        assert r.status_code == 200, r.text
        # A's own small events do not hold back A's parts
        assert fd.post("/v1/feedback", key="ingest", json=rating()).status_code == 201
    part1, held1 = counters(fd)
    assert held1 == held0 == 0, (held0, held1)
    assert part1 > part0  # the batches were written in parts
    assert rows_of(fd, a) == 4 * 1000 + 4


def test_held_back_parts_are_written_at_shutdown(feedbackd_factory):
    # bulk_share 0.02: after each part, parts wait 49 times what it took while B posts. SIGTERM
    # stops B (the listening socket closes), the parts go again, A's request is answered 200
    # with every row stored, and serve exits 0.
    fd = feedbackd_factory(args=["--bulk-share", "0.02", "--part-rows", "10"])
    b_key = second_project(fd, "victim")
    a = project_id(fd, fd.project)
    stop = threading.Event()
    a_answer = []

    def b_loop():
        while not stop.is_set():
            try:
                fd.post("/v1/feedback", key=b_key, json=rating(), timeout=10)
            except Exception:  # refused once serve stops listening
                time.sleep(0.05)

    b = threading.Thread(target=b_loop)
    b.start()
    a_thread = threading.Thread(
        target=lambda: a_answer.append(fd.post("/v1/feedback/batch", key="ingest", json=bulk(), timeout=120)))
    try:
        time.sleep(0.5)
        a_thread.start()
        # parts are being held back: A's request is not answered yet
        deadline = time.monotonic() + 10
        while counters(fd)[1] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert counters(fd)[1] > 0
        assert not a_answer
        assert fd.stop(timeout=60) == 0
    finally:
        stop.set()
        b.join(timeout=30)
        a_thread.join(timeout=60)
    assert [r.status_code for r in a_answer] == [200], [r.text for r in a_answer]
    assert all(x["status"] == "stored" for x in a_answer[0].json()["results"])
    assert rows_of(fd, a) == 1000


def test_bulk_share_is_a_fraction():
    # more than 0, at most 1: anything else is refused at start with the setting's name
    for bad in ("0", "-0.1", "1.5", "all", ""):
        r = subprocess.run([feedbackd_bin(), "--bulk-share", bad, "config"], env=clean_env(), capture_output=True,
                           text=True, timeout=30)
        assert r.returncode != 0 and "bulk_share" in r.stderr, (bad, r.returncode, r.stderr)
    for good, shown in (("1", "1"), ("0.5", "0.5"), (None, "0.25")):
        args = ["--bulk-share", good] if good else []
        r = subprocess.run([feedbackd_bin(), *args, "config"], env=clean_env(), capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stderr
        assert f"bulk_share = {shown}\n" in r.stdout, r.stdout
