"""test_hostile_row_turns.py — queue turns weigh rows, not requests (docs/architecture.md
"The write path", docs/api.md "Limits").

The hole: requests of at most `part_rows` rows are never split, so `bulk_share` never applies
to them, and the writers took one job per project in turn: a project sending 20-row (or
100-row) batches got 20 (100) rows written for every single event of a project sending one
event per request. Now the project whose row clock is lowest goes next, so while both have
jobs queued each gets about the same number of rows.

Made deterministic with one writer held on a table lock: both projects' requests are all
queued before the writer takes its next batch; the order the rows were then written in is
read from each row's inserting transaction (xmin: one writer, one transaction per batch).
"""

import threading
import time

import psycopg2

from helpers import metric_value
from test_hostile_fairness import rating, second_project
from test_hostile_writers import project_id

A_JOBS, A_ROWS, B_JOBS, BATCH = 6, 20, 40, 50


def queue_depth(fd):
    return metric_value(fd.metrics(), "feedbackd_ingest_queue_depth")


def wait_depth(fd, rows, seconds=20):
    deadline = time.monotonic() + seconds
    while queue_depth(fd) != rows and time.monotonic() < deadline:
        time.sleep(0.05)
    assert queue_depth(fd) == rows


def batches_after_the_first(fd, a, b):
    """[(rows of a, rows of b)] per writer transaction, in the order they were written, the
    first (the batch the writer held on the lock) left out."""
    with psycopg2.connect(fd.database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT xmin::text::bigint AS x, project_id, count(*) FROM feedback GROUP BY x, project_id ORDER BY x")
        rows = cur.fetchall()
    txs = {}
    for x, project, n in rows:
        txs.setdefault(x, {a: 0, b: 0})[project] += n
    ordered = [(t[a], t[b]) for _, t in sorted(txs.items())]
    return ordered[1:]


def test_a_project_of_large_batches_gets_the_rows_of_one_sending_single_events(feedbackd_factory):
    fd = feedbackd_factory(args=["--writers", "1", "--batch-size", str(BATCH)])
    b_key = second_project(fd, "victim")
    a, b = project_id(fd, fd.project), project_id(fd, "victim")
    lock = psycopg2.connect(fd.database_url)
    lock.cursor().execute("LOCK TABLE feedback IN ACCESS EXCLUSIVE MODE")
    status = []

    def post(key, body, path):
        status.append(fd.post(path, key=key, json=body, timeout=120).status_code)

    def start(key, body, path):
        t = threading.Thread(target=post, args=(key, body, path))
        t.start()
        return t

    a_body = lambda: {"events": [rating() for _ in range(A_ROWS)]}  # noqa: E731
    threads = []
    try:
        # A's first batch is taken by the writer, which then waits for the lock
        threads.append(start("ingest", a_body(), "/v1/feedback/batch"))
        wait_depth(fd, 0)
        time.sleep(0.3)
        for _ in range(A_JOBS - 1):  # A's jobs queue first: the old turns began with A
            threads.append(start("ingest", a_body(), "/v1/feedback/batch"))
        wait_depth(fd, (A_JOBS - 1) * A_ROWS)
        for _ in range(B_JOBS):
            threads.append(start(b_key, rating(), "/v1/feedback"))
        wait_depth(fd, (A_JOBS - 1) * A_ROWS + B_JOBS)
    finally:
        lock.rollback()
        lock.close()
    for t in threads:
        t.join(timeout=120)
    assert sorted(status) == [200] * A_JOBS + [201] * B_JOBS, status
    batches = batches_after_the_first(fd, a, b)
    print(batches)
    assert sum(x for x, _ in batches) == (A_JOBS - 1) * A_ROWS and sum(y for _, y in batches) == B_JOBS
    assert all(x + y <= BATCH for x, y in batches), batches
    # The first 100 rows written: expected 40 of B (B's clock starts 20 rows behind A's, whose
    # first job the held writer took; batch 2 = 30 of B and 20 of A, batch 3 = B's last 10
    # and two jobs of A). One job per project in turn wrote 2 of B per batch: 4 of 100.
    first_two = batches[:2]
    b_rows = sum(y for _, y in first_two)
    a_rows = sum(x for x, _ in first_two)
    assert b_rows >= 30, batches
    # and while both had jobs queued (the first batch), about even: B at least A's share
    x, y = batches[0]
    assert y >= x, batches
    assert a_rows + b_rows <= 2 * BATCH
