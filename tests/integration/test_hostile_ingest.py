"""test_hostile_ingest.py — a hostile holder of one project's ingest key (the key is public: it
sits in every chat page) cannot stall other projects' ingestion nor store more than the rate
limit allows (docs/api.md "Limits", docs/operations.md "Configuration", docs/edit-ratio.md).

Each test is a reproduction that failed before: edit ratios computed on the writer thread
(a rating of project B waited ~3 s behind edits of project A against a 256 KiB original),
one project filling the whole ingest queue, and inline context turns stored without costing
rate-limit tokens (one event stored 31,001 rows with a limit of 1 event/s, burst 5).
Expected values are computed here (a textbook Levenshtein, the documented costs), never read
back from the server.
"""

import random
import threading
import time

import psycopg2
import pytest

from ingest_helpers import expect_error, new_id


def levenshtein(a, b):
    """Textbook two-row Levenshtein on code points."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j - 1] + (ca != cb), prev[j] + 1, cur[j - 1] + 1))
        prev = cur
    return prev[-1]


def words_text(rng, n_bytes):
    """Pseudo-random lowercase words, n_bytes long (ASCII: bytes = code points)."""
    out, size = [], 0
    while size < n_bytes:
        w = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) + " "
        out.append(w)
        size += len(w)
    return "".join(out)[:n_bytes]


def second_project(fd, slug):
    fd.cli("projects", "create", slug, "--name", f"Project {slug}")
    return fd.create_key("ingest", project=slug), fd.create_key("read", project=slug)


def edit_ratios(fd, key, ids, timeout=120):
    """The edit_ratio of each edit, waiting until the worker has filled them all."""
    deadline = time.monotonic() + timeout
    while True:
        items = fd.get("/v1/feedback?kind=edit&limit=500", key=key).json()["items"]
        got = {it["id"]: it.get("edit_ratio") for it in items if it["id"] in ids}
        if len(got) == len(ids) and all(v is not None for v in got.values()):
            return got
        assert time.monotonic() < deadline, f"edit ratios still missing: {got}"
        time.sleep(0.2)


def test_edits_of_a_large_original_do_not_delay_another_project(feedbackd_factory):
    fd = feedbackd_factory()
    b_ingest, _ = second_project(fd, "victim")
    rng = random.Random(11)
    conv, mid = new_id("c"), new_id("m")
    original = words_text(rng, 250_000)
    r = fd.post("/v1/messages", key="ingest", timeout=60, json={"messages": [
        {"id": mid, "conversation_id": conv, "role": "assistant", "content": original}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored", r.text

    # Two batches of 60 short rewrites of the 256 KiB answer: before, each cost the writer
    # ~0.08 s of edit distance before its COMMIT.
    batches = [[{"id": new_id(), "kind": "edit", "message_id": mid, "edited_content": words_text(rng, 190)}
                for _ in range(60)] for _ in range(2)]
    answers = []

    def send(events):
        answers.append(fd.post("/v1/feedback/batch", key="ingest", json={"events": events}, timeout=120))

    threads = [threading.Thread(target=send, args=(b,)) for b in batches]
    for t in threads:  # one batch per writer (two by default)
        t.start()
        time.sleep(0.15)  # ordering only: A's edits are being written before B's rating
    t0 = time.monotonic()
    r = fd.post("/v1/feedback", key=b_ingest, timeout=60,
                json={"id": new_id(), "kind": "rating", "message_id": new_id("m"), "value": 1})
    elapsed = time.monotonic() - t0
    assert r.status_code == 201, r.text
    for t in threads:
        t.join()
    assert all(a.status_code == 200 for a in answers), [a.text[:200] for a in answers]
    assert elapsed < 0.5, f"project B's rating took {elapsed:.2f} s behind project A's edits"

    # The ratios arrive after COMMIT; each lies between the length-difference lower bound of
    # the Levenshtein distance and 1.
    ids = {e["id"]: e["edited_content"] for b in batches for e in b}
    ratios = edit_ratios(fd, "read", set(ids))
    for eid, ratio in ratios.items():
        lower = (len(original) - len(ids[eid])) / len(original)
        assert lower - 1e-9 <= ratio <= 1.0, (eid, ratio, lower)


def test_edit_ratio_values_after_commit(feedbackd):
    # A stored original and an inline one: the ratio is the Levenshtein distance over the
    # longer length, exactly, for texts this short.
    conv, mid = new_id("c"), new_id("m")
    original, edited = "The capital of France is Lyon, I think.", "The capital of France is Paris."
    r = feedbackd.post("/v1/messages", key="ingest", json={"messages": [
        {"id": mid, "conversation_id": conv, "role": "assistant", "content": original}]})
    assert r.status_code == 200, r.text
    stored_edit = {"id": new_id(), "kind": "edit", "message_id": mid, "edited_content": edited}
    inline_edit = {"id": new_id(), "kind": "edit", "message_id": new_id("m"), "edited_content": "Paris.",
                   "message": {"conversation_id": new_id("c"), "content": "Lyon."}}
    for ev in (stored_edit, inline_edit):
        r = feedbackd.post("/v1/feedback", key="ingest", json=ev)
        assert r.status_code == 201, r.text
    ratios = edit_ratios(feedbackd, "read", {stored_edit["id"], inline_edit["id"]})
    assert ratios[stored_edit["id"]] == pytest.approx(levenshtein(original, edited) / len(original))
    assert ratios[inline_edit["id"]] == pytest.approx(levenshtein("Lyon.", "Paris.") / len("Paris."))


def test_one_project_cannot_fill_the_queue(feedbackd_factory):
    # Capacity 40 rows: a project may hold 40 / 4 = 10 (docs/operations.md). The writer is
    # held on a table lock, so queued jobs stay queued.
    fd = feedbackd_factory(args=["--queue-capacity", "40", "--writers", "1"])
    b_ingest, _ = second_project(fd, "victim")
    lock = psycopg2.connect(fd.database_url)
    cur = lock.cursor()
    cur.execute("LOCK TABLE feedback IN ACCESS EXCLUSIVE MODE")
    results = {}

    def send(name, key, n):
        events = [{"id": new_id(), "kind": "rating", "message_id": new_id("m"), "value": 1} for _ in range(n)]
        results[name] = fd.post("/v1/feedback/batch", key=key, json={"events": events}, timeout=60)

    threads = []
    try:
        # Project A: 10 requests of 5 rows. One is taken by the (blocked) writer, two fill A's
        # share; before the fairness rule they filled the whole queue.
        for i in range(10):
            t = threading.Thread(target=send, args=(f"a{i}", "ingest", 5))
            t.start()
            threads.append(t)
            time.sleep(0.05)  # ordering only
        deadline = time.monotonic() + 10
        while sum(1 for r in results.values() if r.status_code == 503) < 7 and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = [r for r in results.values() if r.status_code == 503]
        assert len(refused) >= 7, {k: v.status_code for k, v in results.items()}
        for r in refused:
            expect_error(r, 503, "unavailable")
            assert int(r.headers["Retry-After"]) >= 1
        # Project B still gets in: its request waits for the writer instead of a 503.
        t = threading.Thread(target=send, args=("b", b_ingest, 1))
        t.start()
        threads.append(t)
        t.join(1.0)
        assert "b" not in results, f"project B was answered while the writer is held: {results['b'].text}"
    finally:
        lock.rollback()
        lock.close()
    for t in threads:
        t.join()
    assert results["b"].status_code == 200, results["b"].text
    assert results["b"].json()["results"][0]["status"] == "stored"
    accepted = [k for k, r in results.items() if k != "b" and r.status_code == 200]
    assert 1 <= len(accepted) <= 3, {k: v.status_code for k, v in results.items()}


def context_event(n_turns):
    conv = new_id("c")
    return {"id": new_id(), "kind": "rating", "message_id": new_id("m"), "value": 1,
            "message": {"conversation_id": conv, "content": "answer"},
            "context": [{"role": "user", "content": f"turn {i}"} for i in range(n_turns)]}


def count_rows(fd):
    with psycopg2.connect(fd.database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM feedback)")
        return cur.fetchone()


def test_inline_turns_cost_rate_limit_tokens(feedbackd_factory):
    # 1 row/s, burst 5. Rows = the event + its inline message + its context turns.
    fd = feedbackd_factory(args=["--rate-limit-rps", "1", "--rate-limit-burst", "5"])
    # 1 + 1 + 4 = 6 rows can never fit a bucket of 5: 413, nothing stored.
    expect_error(fd.post("/v1/feedback", key="ingest", json=context_event(4)), 413, "payload_too_large")
    # The reproduction: 1000 context turns in one event.
    expect_error(fd.post("/v1/feedback", key="ingest", json=context_event(1000)), 413, "payload_too_large")
    assert count_rows(fd) == (0, 0)
    # 1 + 1 + 2 = 4 rows fit; the next 4 do not (1 token left): 429 with Retry-After.
    r = fd.post("/v1/feedback", key="ingest", json=context_event(2))
    assert r.status_code == 201, r.text
    r = fd.post("/v1/feedback", key="ingest", json=context_event(2))
    expect_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 3  # 3 tokens missing at 1/s
    assert count_rows(fd) == (3, 1)


def test_batch_rows_over_the_burst_are_413(feedbackd_factory):
    fd = feedbackd_factory(args=["--rate-limit-rps", "2", "--rate-limit-burst", "3"])
    events = [{"id": new_id(), "kind": "rating", "message_id": new_id("m"), "value": 1} for _ in range(4)]
    expect_error(fd.post("/v1/feedback/batch", key="ingest", json={"events": events}), 413, "payload_too_large")
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": events[:3]})
    assert r.status_code == 200, r.text
    assert count_rows(fd) == (0, 3)
