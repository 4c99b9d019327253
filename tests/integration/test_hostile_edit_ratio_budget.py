"""test_hostile_edit_ratio_budget.py — each project's edit ratios may use only
edit_ratio_cpu_share of one core (docs/edit-ratio.md "CPU budget").

The reproduction (bench/hostile): project A floods edits against a stored 256 KiB answer, a few
ms of the worker's CPU each; even at nice 19 the worker took ~6 CPU-seconds of a 15 s attack on
a 2-core machine, CPU that came out of the other projects' events/s. Now the worker's CPU is
charged to the project as a debt that drains with wall time; a project in debt is passed over
(another project's edit is served at once), its backlog fills, and its further edits keep a
null ratio (counted).

CPU is read from the server's own counters and the worker thread's /proc entry, so the checks
do not depend on how loaded the machine is; the few timed checks have wide margins.
"""

import random
import time

import psycopg2
import pytest

from helpers import metric_value
from test_hostile_edit_ratios import edit, stored_answer
from test_hostile_fairness import second_project
from test_hostile_parse import thread_cpu

ROUND = 16  # edits per worker round (pipeline/edit_ratios.c)
HALF_BACKLOG = 4096  # a project holds at most half of the 8192 waiting edits


def counters(fd):
    text = fd.metrics()
    names = ("computed", "cpu_seconds", "throttled", "dropped")
    return {n: metric_value(text, f"feedbackd_edit_ratio_{n}_total") for n in names}


def wait_for(cond, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


def ratio_of(fd, edit_id):
    with psycopg2.connect(fd.database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT edit_ratio FROM feedback WHERE id = %s", (edit_id,))
        return cur.fetchone()[0]


def null_ratios(fd, ids):
    with psycopg2.connect(fd.database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM feedback WHERE id = ANY(%s) AND edit_ratio IS NULL", (ids,))
        return cur.fetchone()[0]


def flood(fd, mid, batches):
    ids = []
    for i in range(batches):
        events = [edit(mid, f"short {i} {j}") for j in range(1000)]
        r = fd.post("/v1/feedback/batch", key="ingest", json={"events": events}, timeout=300)
        assert r.status_code == 200, r.text
        assert all(x["status"] == "stored" for x in r.json()["results"])
        ids += [e["id"] for e in events]
    return ids


def big_text():
    rnd = random.Random(7)
    return "".join(rnd.choice("abcdefghij klmnopqrstuvwxyz.") for _ in range(256 * 1024))


def test_a_flooding_project_keeps_to_its_cpu_share(feedbackd_factory):
    share = 0.005
    fd = feedbackd_factory(args=["--edit-ratio-cpu-share", str(share)])
    b_key = second_project(fd, "victim")
    a_mid = stored_answer(fd, "ingest", big_text())
    b_mid = stored_answer(fd, b_key, "Paris is the capital of France.")
    start = counters(fd)
    assert start == {"computed": 0, "cpu_seconds": 0, "throttled": 0, "dropped": 0}, start

    # 5000 of A's edits: its first round puts it in debt (a round of 16 costs ~60 ms, paid
    # back in ~12 s at this share), so its half of the backlog fills and the rest is dropped
    t_flood = time.monotonic()
    a_ids = flood(fd, a_mid, 5)
    wait_for(lambda: counters(fd)["throttled"] >= 1, 120)

    # CPU over a window while A has thousands of edits waiting: at most its share, plus the
    # round in progress at each end of the window
    c0, t0 = counters(fd), time.monotonic()
    time.sleep(10)
    c1, t1 = counters(fd), time.monotonic()
    per_edit = c1["cpu_seconds"] / max(c1["computed"], 1)
    allowed = share * (t1 - t0) + 2 * ROUND * per_edit + 0.05
    used = c1["cpu_seconds"] - c0["cpu_seconds"]
    assert used <= allowed, f"A's ratios used {used:.3f} CPU-s in {t1 - t0:.1f} s (allowed {allowed:.3f})"
    # and since the flood began: the first round is free (no debt yet), each later one paid for
    allowed = share * (t1 - t_flood) + 2 * ROUND * per_edit + 0.05
    assert c1["cpu_seconds"] <= allowed, f"{c1['cpu_seconds']:.3f} CPU-s since the flood (allowed {allowed:.3f})"

    # the counter is the worker thread's own CPU, as the kernel counts it (10 ms ticks)
    assert abs(thread_cpu(fd)["fd-editratio"] - c1["cpu_seconds"]) <= 0.05 + 0.1 * c1["cpu_seconds"]

    # A's backlog is full: the edits beyond its half were dropped, their ratios stay NULL
    accepted = 5000 - c1["dropped"]
    assert HALF_BACKLOG <= accepted <= HALF_BACKLOG + c1["computed"] + ROUND, c1
    assert null_ratios(fd, a_ids) >= 5000 - c1["computed"] - ROUND

    # B's edit, posted just after A went into debt again, gets its ratio while A still owes
    # seconds: B is not behind A's debt
    seen = counters(fd)["throttled"]
    wait_for(lambda: counters(fd)["throttled"] > seen, 120, step=0.02)
    b_edit = edit(b_mid, "Paris is the capital of France!")
    t_b = time.monotonic()
    r = fd.post("/v1/feedback", key=b_key, json=b_edit)
    assert r.status_code == 201, r.text
    wait_for(lambda: ratio_of(fd, b_edit["id"]) is not None, 60, step=0.02)
    b_wait = time.monotonic() - t_b
    # "Paris ... France." -> "... France!": one substitution in 31 characters
    assert ratio_of(fd, b_edit["id"]) == pytest.approx(1 / 31)
    assert b_wait < 5, f"B's ratio took {b_wait:.1f} s while A was in debt"


@pytest.mark.parametrize("share", ["0", "1"])
def test_without_a_budget_nobody_is_throttled(feedbackd_factory, share):
    fd = feedbackd_factory(args=["--edit-ratio-cpu-share", share])
    a_mid = stored_answer(fd, "ingest", big_text())
    events = [edit(a_mid, f"short {j}") for j in range(300)]
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": events}, timeout=300)
    assert r.status_code == 200, r.text
    ids = [e["id"] for e in events]
    wait_for(lambda: null_ratios(fd, ids) == 0, 300, step=0.2)
    c = counters(fd)
    assert c["computed"] == 300 and c["throttled"] == 0 and c["dropped"] == 0, c
    assert c["cpu_seconds"] > 0
