"""test_hostile_parse.py — a large ingest body is validated on a parse worker (`fd-parse`),
not on the HTTP thread that read it (docs/operations.md "Threads", docs/architecture.md).

The reproduction (bench/hostile): a 1 MiB inline-context event or a 1000-edit batch held an
HTTP thread ~56 ms in validation and row building, and every other connection of that thread
waited. Made deterministic here with FEEDBACKD_TEST_SLOW_VALIDATION_MS, which makes the
validation of every body of 64 KiB or more sleep first wherever it runs: with one HTTP
thread, another project's small rating is answered while the large body is still being
validated — with `parse_workers` 0 (the old path, kept as a setting) it waits for it.
The CPU of the named threads shows where the validation ran, without a delay.
"""

import os
import threading
import time

import psycopg2
import pytest

from ingest_helpers import expect_error, item_error_ok, new_id, rating, second_project

DELAY_S = 3.0
SLOW = {"FEEDBACKD_TEST_SLOW_VALIDATION_MS": str(int(DELAY_S * 1000))}


def context_event(n_turns, content_bytes=40):
    """One rating with n_turns inline context turns (~content_bytes + 40 bytes of JSON each)."""
    pad = "x" * content_bytes
    return {"id": new_id(), "kind": "rating", "message_id": new_id("m"), "value": 1,
            "message": {"conversation_id": new_id("c"), "content": "answer"},
            "context": [{"role": "user", "content": f"turn {i} {pad}"} for i in range(n_turns)]}


def large_batch(n=900):
    """A batch of n valid ratings, over 64 KiB of JSON (each ~110 bytes)."""
    return {"events": [rating(metadata={"pad": "y" * 40}) for _ in range(n)]}


def rows_of(fd, table, project_slug):
    with psycopg2.connect(fd.database_url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table} t JOIN projects p ON p.id = t.project_id WHERE p.slug = %s",
                    (project_slug,))
        return cur.fetchone()[0]


def post_in_thread(fd, path, key, body, out):
    def run():
        t0 = time.monotonic()
        out["resp"] = fd.post(path, key=key, json=body, timeout=120)
        out["done"] = time.monotonic()
        out["took"] = out["done"] - t0
    t = threading.Thread(target=run)
    t.start()
    return t


@pytest.mark.parametrize("kind", ["context", "batch"])
def test_small_request_of_another_project_is_not_held_by_a_large_body(feedbackd_factory, kind):
    fd = feedbackd_factory(args=["--threads", "1"], env=SLOW)
    b_key = second_project(fd, "victim")["ingest"]
    assert fd.post("/v1/feedback", key=b_key, json=rating()).status_code == 201  # B's key is known
    path, body = ("/v1/feedback", context_event(2000)) if kind == "context" else ("/v1/feedback/batch", large_batch())
    assert len(str(body)) > 64 * 1024
    a = {}
    t = post_in_thread(fd, path, "ingest", body, a)
    time.sleep(0.5)  # A's body is read and its validation sleeps
    t0 = time.monotonic()
    r = fd.post("/v1/feedback", key=b_key, json=rating(), timeout=120)
    b_took, b_done = time.monotonic() - t0, time.monotonic()
    assert r.status_code == 201, r.text
    t.join(timeout=120)
    # before: B was answered only once A's validation was over (~2.5 s later)
    assert b_took < 1.5, f"B waited {b_took:.2f} s for A's validation"
    assert b_done < a["done"], "B was answered after A"
    assert a["took"] >= DELAY_S
    if kind == "context":
        assert a["resp"].status_code == 201, a["resp"].text
        assert a["resp"].json() == {"id": body["id"], "status": "stored"}
        assert rows_of(fd, "messages", fd.project) == 2000 + 1
    else:
        assert a["resp"].status_code == 200, a["resp"].text
        results = a["resp"].json()["results"]
        assert results == [{"index": i, "id": ev["id"], "status": "stored"} for i, ev in enumerate(body["events"])]
        assert rows_of(fd, "feedback", fd.project) == len(body["events"])


def test_without_parse_workers_the_small_request_waits(feedbackd_factory):
    # the old path (parse_workers 0): what the test above would see without parse workers
    fd = feedbackd_factory(args=["--threads", "1", "--parse-workers", "0"], env=SLOW)
    b_key = second_project(fd, "victim")["ingest"]
    assert fd.post("/v1/feedback", key=b_key, json=rating()).status_code == 201
    a = {}
    t = post_in_thread(fd, "/v1/feedback", "ingest", context_event(2000), a)
    time.sleep(0.5)
    t0 = time.monotonic()
    r = fd.post("/v1/feedback", key=b_key, json=rating(), timeout=120)
    b_took = time.monotonic() - t0
    t.join(timeout=120)
    assert r.status_code == 201 and a["resp"].status_code == 201
    assert b_took >= DELAY_S - 1.0, f"B answered in {b_took:.2f} s while the HTTP thread slept"
    assert "fd-parse" not in thread_cpu(fd)


def thread_cpu(fd):
    """CPU seconds (user + system) by thread name of the feedbackd process."""
    task = f"/proc/{fd.proc.pid}/task"
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(task):
        try:
            with open(f"{task}/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"{task}/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return out


@pytest.mark.parametrize("workers", [1, 0])
def test_large_bodies_are_validated_on_the_parse_workers(feedbackd_factory, workers):
    # No delay: the CPU of validating large bodies shows up on fd-parse, not fd-http; with
    # parse_workers 0 (the old path) on fd-http, which shows that the measure can tell.
    fd = feedbackd_factory(args=["--threads", "1", "--part-rows", "2000", "--parse-workers", str(workers)])
    assert fd.post("/v1/feedback", key="ingest", json=rating()).status_code == 201  # names fd-http
    before = thread_cpu(fd)
    for _ in range(12):
        ev = context_event(1500, content_bytes=400)  # ~0.65 MB
        r = fd.post("/v1/feedback", key="ingest", json=ev, timeout=120)
        assert r.status_code == 201, r.text
    after = thread_cpu(fd)
    parse = after.get("fd-parse", 0.0) - before.get("fd-parse", 0.0)
    http = after.get("fd-http", 0.0) - before.get("fd-http", 0.0)
    cpu = {"fd-parse": parse, "fd-http": http}
    print(cpu)
    if workers:
        assert parse > 2 * http and parse >= 0.05, cpu
    else:
        assert "fd-parse" not in after and http >= 0.05, cpu


def test_replies_from_the_parse_workers_are_unchanged(feedbackd_factory):
    # The same invalid input, under and over 64 KiB, gets the same answer.
    fd = feedbackd_factory()
    for n_turns in (10, 2000):
        ev = context_event(n_turns)
        ev["context"][-1]["role"] = "narrator"
        expect_error(fd.post("/v1/feedback", key="ingest", json=ev), 400, "invalid_field",
                     f"context[{n_turns - 1}].role")
        ev = context_event(n_turns)
        del ev["message"]
        expect_error(fd.post("/v1/feedback", key="ingest", json=ev), 400, "missing_field", "message")
    big = large_batch()
    big["events"][5]["value"] = "very"
    big["events"][7]["kind"] = "nope"
    r = fd.post("/v1/feedback/batch", key="ingest", json=big)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    item_error_ok(results[5], 5, "invalid_field", "events[5].value")
    item_error_ok(results[7], 7, "invalid_field", "events[7].kind")
    assert [x["status"] for i, x in enumerate(results) if i not in (5, 7)] == ["stored"] * (len(big["events"]) - 2)
    # a large body that is not JSON
    r = fd.request("POST", "/v1/messages", key="ingest", data=b"[" * 70000,
                   headers={"Content-Type": "application/json"})
    expect_error(r, 400, "invalid_json", any_field=True)


def test_the_parse_queue_is_bounded_per_project(feedbackd_factory):
    # 4 large requests of one project wait for (or run on) the parse worker; the 5th is 503
    # with Retry-After, like a full queue share; another project still gets its place.
    fd = feedbackd_factory(env=SLOW)
    b_key = second_project(fd, "victim")["ingest"]
    outs = [{} for _ in range(5)]
    threads = []
    for out in outs[:4]:
        threads.append(post_in_thread(fd, "/v1/feedback", "ingest", context_event(2000), out))
        time.sleep(0.1)
    time.sleep(0.5)
    r = fd.post("/v1/feedback", key="ingest", json=context_event(2000), timeout=120)
    expect_error(r, 503, "unavailable")
    assert int(r.headers["Retry-After"]) >= 1
    b = {}
    threads.append(post_in_thread(fd, "/v1/feedback", b_key, context_event(2000), b))
    for t in threads:
        t.join(timeout=120)
    assert [o["resp"].status_code for o in outs[:4]] == [201] * 4
    assert b["resp"].status_code == 201, b["resp"].text


def test_sigterm_during_validation_loses_nothing(feedbackd_factory):
    fd = feedbackd_factory(env=SLOW)
    body = large_batch()
    a = {}
    t = post_in_thread(fd, "/v1/feedback/batch", "ingest", body, a)
    time.sleep(0.5)  # in validation
    assert fd.stop() == 0
    t.join(timeout=60)
    # answered before the daemon left, and what it acknowledged is stored
    assert a["resp"].status_code == 200, a["resp"].text
    stored = [x for x in a["resp"].json()["results"] if x["status"] == "stored"]
    assert len(stored) == len(body["events"])
    assert rows_of(fd, "feedback", fd.project) == len(stored)
