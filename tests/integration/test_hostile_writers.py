"""test_hostile_writers.py — a part of one project's oversized request never holds another
project's small jobs (docs/architecture.md "The write path").

The reproduction (bench/hostile): while project A posted 1000-edit batches, written in parts of
`part_rows` rows, project B's single events rode in the same writer transactions as A's parts
(the queue filled a batch with whatever was waiting) and waited for each part's commit; and
with two such requests of A, both writers could be busy with A's parts while B's events
waited for a writer. Now a part is a transaction of its own, and at most writers - 1 writers
hold parts at once.

Both are checked without timing: which transaction stored each row (the `txid` column), and
B's events acknowledged while A's parts are held on a row lock.
"""

import os
import threading
import time

import psycopg2

from ingest_helpers import new_id, rating
from test_hostile_fairness import second_project


def project_id(fd, slug):
    with psycopg2.connect(fd.database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM projects WHERE slug = %s", (slug,))
        return cur.fetchone()[0]


def test_small_jobs_never_share_a_transaction_with_a_part(feedbackd_factory):
    fd = feedbackd_factory()  # defaults: part_rows 100, two writers
    b_key = second_project(fd, "victim")
    stop = threading.Event()
    a_status, b_status = [], []

    def a_loop():  # 250 rows a request: three parts
        while not stop.is_set():
            r = fd.post("/v1/feedback/batch", key="ingest", json={"events": [rating() for _ in range(250)]}, timeout=120)
            a_status.append(r.status_code)

    def b_loop():
        while not stop.is_set():
            b_status.append(fd.post("/v1/feedback", key=b_key, json=rating(), timeout=120).status_code)

    threads = [threading.Thread(target=a_loop) for _ in range(2)] + [threading.Thread(target=b_loop) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(4.0)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    assert a_status.count(200) >= 2 and set(a_status) <= {200, 503}, a_status
    assert b_status.count(201) >= 20 and set(b_status) == {201}, b_status
    a, b = project_id(fd, fd.project), project_id(fd, "victim")
    with psycopg2.connect(fd.database_url) as conn, conn.cursor() as cur:
        # A's requests were written in parts: more transactions than requests
        cur.execute("SELECT count(DISTINCT txid), min(txid)::text::bigint, max(txid)::text::bigint"
                    " FROM feedback WHERE project_id = %s", (a,))
        a_txns, a_first, a_last = cur.fetchone()
        assert a_txns >= 3 * a_status.count(200), (a_txns, a_status)
        # B's events were committed while A's parts were (else the check below proves nothing)
        cur.execute("SELECT count(*) FROM feedback WHERE project_id = %s AND txid::text::bigint BETWEEN %s AND %s",
                    (b, a_first, a_last))
        assert cur.fetchone()[0] >= 10
        # and none of them in a transaction that also wrote A's rows
        cur.execute("SELECT count(*) FROM feedback fb WHERE fb.project_id = %s AND EXISTS"
                    " (SELECT 1 FROM feedback fa WHERE fa.project_id = %s AND fa.txid = fb.txid)", (b, a))
        assert cur.fetchone()[0] == 0


def test_a_writer_stays_free_of_parts(feedbackd_factory):
    # Two writers. A's two oversized requests each carry, in their first part, a message whose
    # id a test transaction has inserted and not committed: a writer that takes such a part
    # waits on that row. Before, both writers took one of A's parts and B's rating waited
    # for the lock; now the second part waits for the first and B's ratings get the other
    # writer.
    fd = feedbackd_factory(args=["--writers", "2"])
    b_key = second_project(fd, "victim")
    a = project_id(fd, fd.project)
    blocked = [new_id("m"), new_id("m")]
    hold = psycopg2.connect(fd.database_url)
    cur = hold.cursor()
    for mid in blocked:
        cur.execute("INSERT INTO messages (project_id, id, conversation_id, role, content, content_sha256, created_at)"
                    " VALUES (%s, %s, 'held', 'assistant', 'held', '\\x00', now())", (a, mid))
    a_status = []

    def a_request(mid):
        events = [rating(mid, message={"conversation_id": new_id("c"), "content": "an answer"})]
        events += [rating() for _ in range(150)]
        a_status.append(fd.post("/v1/feedback/batch", key="ingest", json={"events": events}, timeout=120).status_code)

    threads = [threading.Thread(target=a_request, args=(mid,)) for mid in blocked]
    try:
        for t in threads:
            t.start()
            time.sleep(0.3)
        time.sleep(0.5)  # a writer took A's first part and waits on the held row
        for _ in range(5):
            r = fd.post("/v1/feedback", key=b_key, json=rating(), timeout=10)  # before: timed out
            assert r.status_code == 201, r.text
        assert a_status == []  # A's requests are still held
    finally:
        hold.rollback()
        hold.close()
    for t in threads:
        t.join(timeout=120)
    assert a_status == [200, 200], a_status


def test_threads_and_connections_are_named_by_kind(feedbackd_factory):
    # docs/operations.md "Threads": what bench/hostile attributes CPU by
    fd = feedbackd_factory(args=["--writers", "2"])
    assert fd.post("/v1/feedback", key="ingest", json=rating()).status_code == 201
    task = f"/proc/{fd.proc.pid}/task"
    names = []
    for tid in os.listdir(task):
        with open(f"{task}/{tid}/comm") as f:
            names.append(f.read().strip())
    assert names.count("fd-writer") == 2 and "fd-http" in names and "fd-editratio" in names, names
    # background threads below the HTTP threads and writers (field 19 of stat: nice)
    nice = {}
    for tid in os.listdir(task):
        with open(f"{task}/{tid}/stat") as f:
            stat = f.read()
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        nice[name] = int(stat[stat.rindex(")") + 2:].split()[16])
    assert nice["fd-editratio"] == 19 and nice["fd-writer"] == 0 and nice["fd-http"] == 0, nice
    with psycopg2.connect(fd.database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT application_name, count(*) FROM pg_stat_activity"
                    " WHERE application_name LIKE 'feedbackd%%' GROUP BY 1")
        apps = dict(cur.fetchall())
    assert apps.get("feedbackd fd-writer") == 2 and apps.get("feedbackd fd-http", 0) >= 1, apps
