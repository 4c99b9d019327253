"""test_hostile_edit_ratios.py — one project's flood of edits delays only its own edit ratios
(docs/edit-ratio.md).

The reproduction (bench/hostile): project A posts batches of 1000 edits against a stored
256 KiB answer, each ratio ~0.6 ms of the worker's CPU (more on a loaded machine). The worker
took edits first in, first out from one backlog of 8192: project B's edit, stored after A's
batches, got its ratio only after all of A's — or never, once A had filled the backlog. Now
each project has its own queue, taken in turn, holding at most half of the backlog.

Checked without timing: when B's ratio appears, most of A's edits still wait for theirs.
"""

import random
import time

import psycopg2

from ingest_helpers import new_id
from test_hostile_fairness import second_project


def stored_answer(fd, key, content):
    mid = new_id("m")
    r = fd.post("/v1/messages", key=key, json={"messages": [
        {"id": mid, "conversation_id": new_id("c"), "role": "assistant", "content": content}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored", r.text
    return mid


def edit(mid, text):
    return {"id": new_id(), "kind": "edit", "message_id": mid, "user": "u", "edited_content": text}


def test_another_projects_edit_ratio_is_not_behind_a_flood(feedbackd_factory):
    fd = feedbackd_factory()
    b_key = second_project(fd, "victim")
    rnd = random.Random(7)
    big = "".join(rnd.choice("abcdefghij klmnopqrstuvwxyz.") for _ in range(256 * 1024))
    a_mid = stored_answer(fd, "ingest", big)
    b_mid = stored_answer(fd, b_key, "Paris is the capital of France.")
    a_ids = []
    for i in range(4):  # 4000 of A's edits, within A's half of the backlog
        events = [edit(a_mid, f"short {i} {j}") for j in range(1000)]
        r = fd.post("/v1/feedback/batch", key="ingest", json={"events": events}, timeout=300)
        assert r.status_code == 200, r.text
        assert all(x["status"] == "stored" for x in r.json()["results"])
        a_ids += [e["id"] for e in events]
    b_edit = edit(b_mid, "Paris is the capital of France!")
    r = fd.post("/v1/feedback", key=b_key, json=b_edit)
    assert r.status_code == 201, r.text
    with psycopg2.connect(fd.database_url) as conn, conn.cursor() as cur:
        deadline = time.monotonic() + 120
        while True:
            cur.execute("SELECT edit_ratio FROM feedback WHERE id = %s", (b_edit["id"],))
            ratio = cur.fetchone()[0]
            conn.commit()
            if ratio is not None or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        cur.execute("SELECT count(*) FROM feedback WHERE id = ANY(%s) AND edit_ratio IS NULL", (a_ids,))
        a_waiting = cur.fetchone()[0]
        conn.commit()
    # "Paris ... France." -> "... France!": one substitution in 31 characters
    assert ratio is not None and abs(ratio - 1 / 31) < 0.02, ratio
    # before: B's edit came after all of A's (a_waiting ~ 0 when B's ratio appeared)
    assert a_waiting >= 500, a_waiting
