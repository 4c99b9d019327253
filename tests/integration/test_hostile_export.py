"""Exports cannot stall the server or exhaust its database (docs/api.md "Export",
docs/operations.md "Configuration"): an export's database work never runs on an HTTP thread,
max_concurrent_exports bounds them per project and in total (429 + Retry-After), a client that
stops reading is cut after export_send_timeout and its connection and snapshot are released,
and HEAD /v1/export runs nothing.

A slow export is made deterministic by the test itself: it holds LOCK TABLE feedback IN ACCESS
EXCLUSIVE MODE in a transaction of its own, so every export blocks in the database (visible in
pg_stat_activity as a backend waiting on a Lock) until the test rolls back."""

import socket
import threading
import time

import psycopg2
import pytest

from helpers import wait_until
from ingest_helpers import expect_error, new_id, second_project


def db_conn(fd):
    conn = psycopg2.connect(fd.database_url)
    conn.autocommit = True
    return conn


def scalar(fd, query, params=None):
    with db_conn(fd) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        value = cur.fetchone()[0]
    conn.close()
    return value


def lock_waiters(fd):
    """Backends of feedbackd's database blocked on a lock (the exports behind the test's lock)."""
    return scalar(fd, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                      " AND wait_event_type = 'Lock'")


def export_cursor_backends(fd):
    """Backends inside an export's snapshot: an open transaction whose last statement was one of
    the export's cursor FETCHes or, for a full export of one pass, one of its two queries read
    as COPY on two connections (db/export_db.h "PARALLEL")."""
    return scalar(fd, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                      " AND xact_start IS NOT NULL AND (query LIKE 'FETCH FORWARD % FROM fd_export_%'"
                      " OR query LIKE 'COPY (SELECT m.conversation_id, m.id, %' OR query LIKE 'COPY (SELECT v.c, f.id, %')")


def export_rows(fd):
    return scalar(fd, "SELECT count(*) FROM exports")


class FeedbackLock:
    """The test's own transaction holding an exclusive lock on the feedback table."""

    def __init__(self, fd):
        self.conn = psycopg2.connect(fd.database_url)
        self.conn.cursor().execute("LOCK TABLE feedback IN ACCESS EXCLUSIVE MODE")

    def release(self):
        if self.conn:
            self.conn.rollback()
            self.conn.close()
            self.conn = None


@pytest.fixture
def feedback_lock():
    held = []

    def take(fd):
        lock = FeedbackLock(fd)
        held.append(lock)
        return lock

    yield take
    for lock in held:
        lock.release()


def export_in_background(fd, key, query="format=kto"):
    """GET /v1/export on a thread of its own; box["r"] gets the response (body read)."""
    box = {}

    def run():
        try:
            box["r"] = fd.get(f"/v1/export?{query}", key=key, timeout=60)
        except Exception as e:  # noqa: BLE001 - reported by the test
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def finished(t, box):
    t.join(60)
    assert not t.is_alive(), "the export did not end"
    assert "error" not in box, box.get("error")
    return box["r"]


def seed_small(fd, key="ingest"):
    conv = new_id("c")
    u, a = new_id("m"), new_id("m")
    msgs = [{"id": u, "conversation_id": conv, "parent_id": None, "role": "user", "content": "Hi"},
            {"id": a, "conversation_id": conv, "parent_id": u, "role": "assistant", "content": "Hello", "model": "m"}]
    assert fd.post("/v1/messages", key=key, json={"messages": msgs}).status_code == 200
    assert fd.post("/v1/feedback", key=key, json={"id": new_id(), "kind": "rating", "message_id": a,
                                                  "value": 1}).status_code == 201


def test_export_waiting_on_the_database_does_not_hold_the_http_thread(feedbackd_factory, feedback_lock):
    fd = feedbackd_factory(args=["--threads", "1"])
    other = second_project(fd)
    seed_small(fd)
    lock = feedback_lock(fd)
    t, box = export_in_background(fd, "export")
    wait_until(lambda: lock_waiters(fd) >= 1, 15, what="the export blocked on the test's lock")

    # The only HTTP thread answers while the export waits in the database.
    t0 = time.monotonic()
    r = fd.get("/healthz", timeout=10)
    healthz_s = time.monotonic() - t0
    assert r.status_code == 200
    msg = {"id": new_id("m"), "conversation_id": new_id("c"), "parent_id": None, "role": "user", "content": "Hi"}
    t0 = time.monotonic()
    r = fd.post("/v1/messages", key=other["ingest"], json={"messages": [msg]}, timeout=10)
    post_s = time.monotonic() - t0
    assert r.status_code == 200, r.text
    assert healthz_s < 1.0 and post_s < 1.0, (healthz_s, post_s)
    assert t.is_alive() and lock_waiters(fd) >= 1, "the export was still waiting meanwhile"

    lock.release()
    r = finished(t, box)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/x-ndjson")
    m = fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
    assert m["finished_at"] and m["records"] == 1 and m["watermark"] == r.headers["X-Export-Watermark"]


def test_concurrent_export_limits(feedbackd_factory, feedback_lock):
    fd = feedbackd_factory(args=["--max-concurrent-exports-per-project", "2", "--max-concurrent-exports", "3"])
    other = second_project(fd)
    # A project with messages: an export of an empty one ends without reading feedback.
    seed_small(fd)
    seed_small(fd, other["ingest"])
    lock = feedback_lock(fd)
    running = [export_in_background(fd, "export") for _ in range(2)]
    wait_until(lambda: lock_waiters(fd) >= 2, 15, what="two exports of the project running")

    r = fd.get("/v1/export?format=kto", key="export")
    expect_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    r = fd.request("HEAD", "/v1/export", key="export")  # HEAD runs nothing: not limited
    assert r.status_code == 200

    running.append(export_in_background(fd, other["export"]))  # another project: 3 of 3 in total
    wait_until(lambda: lock_waiters(fd) >= 3, 15, what="the other project's export running")
    r = fd.get("/v1/export?format=kto", key=other["export"])  # its 2nd, but the 4th in total
    expect_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1

    lock.release()
    for t, box in running:
        assert finished(t, box).status_code == 200
    assert export_rows(fd) == 3, "the refused exports left no audit row"
    # The slots are free again once the exports ended.
    wait_until(lambda: fd.get("/v1/export?format=kto", key="export").status_code == 200, 10,
               what="an export admitted after the others ended")
    assert fd.get("/v1/export?format=kto", key=other["export"]).status_code == 200


def seed_big(fd, prompt_bytes=200_000, conversations=60):
    """Conversations with a long prompt each (every kto record repeats its prompt): about
    conversations * prompt_bytes of export body, far more than the loopback socket buffers
    hold, in conversations small enough to come out a few per chunk."""
    msgs, events = [], []
    for i in range(conversations):
        conv, u, a = new_id("c"), new_id("m"), new_id("m")
        msgs += [{"id": u, "conversation_id": conv, "parent_id": None, "role": "user", "content": "x" * prompt_bytes},
                 {"id": a, "conversation_id": conv, "parent_id": u, "role": "assistant", "content": f"answer {i}",
                  "model": "m"}]
        events.append({"id": new_id(), "kind": "rating", "message_id": a, "value": 1})
    per_post = 4  # a body stays under max_body_bytes (1 MiB)
    for k in range(0, len(msgs), 2 * per_post):
        r = fd.post("/v1/messages", key="ingest", json={"messages": msgs[k:k + 2 * per_post]}, timeout=60)
        assert r.status_code == 200, r.text
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": events}, timeout=60)
    assert r.status_code in (200, 207), r.text
    return conversations * prompt_bytes


def test_unread_export_is_cut_after_the_send_timeout(feedbackd_factory):
    send_timeout = 2
    # connection_timeout stays at 60 s: a cut well before that is the export's own timeout
    fd = feedbackd_factory(args=["--export-send-timeout", str(send_timeout)])
    body_bytes = seed_big(fd)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect(("127.0.0.1", fd.port))
    s.sendall(f"GET /v1/export?format=kto HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              f"Authorization: Bearer {fd.keys['export']}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, "the connection closed before the headers"
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head
    export_id = [ln.split(b":", 1)[1].strip().decode() for ln in head.split(b"\r\n")
                 if ln.lower().startswith(b"x-export-id:")][0]

    # The client reads nothing more: the export parks inside its snapshot ...
    # (two backends: a full export of one pass reads its two queries on two connections)
    wait_until(lambda: export_cursor_backends(fd) == 2, 15, what="the export parked in its snapshot")
    t0 = time.monotonic()
    # ... until the send timeout cuts the connection and releases the database connection.
    wait_until(lambda: export_cursor_backends(fd) == 0, 30, what="the export's connection released")
    assert time.monotonic() - t0 < 30
    received = len(head)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += len(chunk)
    except ConnectionResetError:
        pass
    s.close()
    assert received < body_bytes, "the body was cut short"
    assert scalar(fd, "SELECT finished_at FROM exports WHERE id = %s", (export_id,)) is None
    # and the server goes on exporting
    r = fd.get("/v1/export?format=kto", key="export", timeout=60)
    assert r.status_code == 200 and len(r.content) > body_bytes


def test_export_losing_its_second_connection_ends_cut_and_releases_its_snapshot(feedbackd_factory, feedback_lock):
    # A full export of one pass reads its feedback query on a second connection
    # (db/export_db.h "PARALLEL"). That backend is terminated while it waits on the test's lock:
    # the export ends with a cut body (no last chunk), a logged line and no manifest, and
    # neither of its connections stays inside the snapshot.
    fd = feedbackd_factory()
    seed_small(fd)
    lock = feedback_lock(fd)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(("127.0.0.1", fd.port))
    s.sendall(f"GET /v1/export?format=kto HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              f"Authorization: Bearer {fd.keys['export']}\r\n\r\n".encode())
    wait_until(lambda: lock_waiters(fd) >= 1, 15, what="the export's feedback query waiting on the lock")
    killed = scalar(fd, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                        " AND query LIKE 'COPY (SELECT v.c, f.id, %'")
    assert killed == 1
    lock.release()
    body = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    except ConnectionResetError:
        pass
    s.close()
    assert body.startswith(b"HTTP/1.1 200"), body[:200]
    assert not body.endswith(b"0\r\n\r\n"), "the chunked body was cut, not ended"
    export_id = [ln.split(b":", 1)[1].strip().decode() for ln in body.split(b"\r\n")
                 if ln.lower().startswith(b"x-export-id:")][0]
    wait_until(lambda: export_cursor_backends(fd) == 0, 15, what="the export's connections released")
    wait_until(lambda: "export failed reading" in fd.log(100000), 10, what="the logged failure")
    assert scalar(fd, "SELECT finished_at FROM exports WHERE id = %s", (export_id,)) is None
    # and the next export is whole
    r = fd.get("/v1/export?format=kto", key="export", timeout=60)
    assert r.status_code == 200 and r.headers.get("X-Export-Id")


def test_head_export_runs_nothing(feedbackd):
    seed_small(feedbackd)
    before = export_rows(feedbackd)
    r = feedbackd.request("HEAD", "/v1/export?format=kto&include_meta=true", key="export")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/x-ndjson")
    assert "X-Export-Id" not in r.headers and not r.content
    assert feedbackd.request("HEAD", "/v1/export?format=bogus", key="export").status_code == 400
    assert feedbackd.request("HEAD", "/v1/export", key=None).status_code == 401
    assert feedbackd.request("HEAD", "/v1/export", key="ingest").status_code == 403
    assert export_rows(feedbackd) == before, "HEAD created no export row"
    r = feedbackd.get("/v1/export?format=kto", key="export")
    assert r.status_code == 200 and export_rows(feedbackd) == before + 1
