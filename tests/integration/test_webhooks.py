"""Signed webhooks out (docs/api.md "Webhooks", docs/operations.md "Webhooks"): the admin API
and its validation, the durable outbox (written with the event, delivered after kill -9), the
delivery workers (retries of a failing and a hanging receiver, the retry window, SSRF refusal,
TLS verification) and their metrics.

Every delivery is verified twice, independently of feedbackd's signing code: by the receiver
(tests/integration/webhook_receiver.mjs, with the `standardwebhooks` npm package, the
specification's reference implementation) and in Python (webhook_helpers.python_verify, hmac over
the specification's signed text "<webhook-id>.<webhook-timestamp>.<body>"."""

import base64
import ipaddress
import json
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from helpers import metric_value, wait_until
from ingest_helpers import expect_error, new_id, rating
from webhook_helpers import FAST, Receiver, new_secret, python_verify

EVENTS = ["feedback.stored", "feedback.retracted", "export.finished"]


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.stop()


def add_endpoint(fd, url, events=EVENTS, secret=None):
    body = {"url": url, "events": events}
    if secret:
        body["secret"] = secret
    r = fd.post("/v1/webhooks", key="admin", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def deliveries(fd, endpoint_id):
    r = fd.get(f"/v1/webhooks/{endpoint_id}/deliveries", key="admin")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def all_verified(recs, secret):
    for rec in recs:
        assert rec["verified"], f"standardwebhooks refused a delivery: {rec['error']}"
        assert python_verify(secret, rec), rec
        assert rec["contentType"] == "application/json"


# ---- the admin API ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "ftp://hooks.example.com/x", "file:///etc/passwd", "gopher://hooks.example.com/", "hooks.example.com/x",
    "http://user:pw@hooks.example.com/", "http:///nohost", "http://hooks.example.com:0/", "http://hooks.example.com:65536/",
    "http://hooks.example.com/a b", "http://hooks.example.com/#frag", "http://hooks.exa%6dple.com/",
    "javascript:alert(1)", "http://[::1/",
])
def test_urls_other_than_plain_http_or_https_are_400_invalid_field(feedbackd, url):
    expect_error(feedbackd.post("/v1/webhooks", key="admin", json={"url": url, "events": EVENTS}), 400, "invalid_field", "url")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/x", "http://localhost:8080/", "http://api.localhost/", "http://10.1.2.3/",
    "http://192.168.0.10/", "http://172.16.5.5/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:80/",
    "http://[fd00::1]/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
])
def test_loopback_private_and_link_local_hosts_are_refused_by_default(feedbackd, url):
    err = expect_error(feedbackd.post("/v1/webhooks", key="admin", json={"url": url, "events": EVENTS}), 400, "invalid_field", "url")
    assert "webhook_allow_private" in err["message"]


@pytest.mark.parametrize("body,code,field", [
    ({"events": EVENTS}, "missing_field", "url"),
    ({"url": 5, "events": EVENTS}, "invalid_field", "url"),
    ({"url": "https://hooks.example.com/"}, "missing_field", "events"),
    ({"url": "https://hooks.example.com/", "events": []}, "invalid_field", "events"),
    ({"url": "https://hooks.example.com/", "events": "feedback.stored"}, "invalid_field", "events"),
    ({"url": "https://hooks.example.com/", "events": ["feedback.deleted"]}, "invalid_field", "events"),
    ({"url": "https://hooks.example.com/", "events": ["feedback.stored", "feedback.stored"]}, "invalid_field", "events"),
    ({"url": "https://hooks.example.com/", "events": [1]}, "invalid_field", "events"),
    ({"url": "https://hooks.example.com/", "events": EVENTS, "secret": "s3cret"}, "invalid_field", "secret"),
    ({"url": "https://hooks.example.com/", "events": EVENTS, "secret": 12}, "invalid_field", "secret"),
    # the specification's 24..64 key bytes: 16 is too few, 65 too many
    ({"url": "https://hooks.example.com/", "events": EVENTS, "secret": new_secret(16)}, "invalid_field", "secret"),
    ({"url": "https://hooks.example.com/", "events": EVENTS, "secret": new_secret(65)}, "invalid_field", "secret"),
    ({"url": "https://hooks.example.com/", "events": EVENTS, "secret": "whsec_!!!!" + "A" * 40}, "invalid_field",
     "secret"),
    ({"url": "https://hooks.example.com/", "events": EVENTS, "secret": new_secret()[:-2]}, "invalid_field", "secret"),
    ({"url": "https://hooks.example.com/", "events": EVENTS, "headers": {}}, "unknown_field", "headers"),
])
def test_invalid_bodies(feedbackd, body, code, field):
    expect_error(feedbackd.post("/v1/webhooks", key="admin", json=body), 400, code, field)


def test_create_list_delete_and_the_secret_shown_once(feedbackd):
    given = new_secret(24)
    a = add_endpoint(feedbackd, "https://hooks.example.com/a?x=1", events=["export.finished"], secret=given)
    assert a["secret"] == given and a["url"] == "https://hooks.example.com/a?x=1"
    assert a["events"] == ["export.finished"]
    b = add_endpoint(feedbackd, "http://hooks.example.com:8080/b")
    made = b["secret"]
    assert made.startswith("whsec_") and len(base64.b64decode(made[6:], validate=True)) == 32
    assert made != given
    r = feedbackd.get("/v1/webhooks", key="admin")
    assert r.status_code == 200
    assert given not in r.text and made not in r.text and "secret" not in r.text
    items = {i["id"]: i for i in r.json()["items"]}
    assert items[a["id"]]["events"] == ["export.finished"] and items[b["id"]]["events"] == EVENTS
    assert items[b["id"]]["pending"] == 0 and items[b["id"]]["failed"] == 0
    assert deliveries(feedbackd, b["id"]) == []
    # only admin keys manage webhooks
    for key in ("ingest", "read", "export"):
        assert feedbackd.get("/v1/webhooks", key=key).status_code == 403
        assert feedbackd.post("/v1/webhooks", key=key, json={"url": "https://x.example/", "events": EVENTS}).status_code == 403
    assert feedbackd.delete(f"/v1/webhooks/{b['id']}", key="admin").json()["id"] == b["id"]
    expect_error(feedbackd.delete(f"/v1/webhooks/{b['id']}", key="admin"), 404, "not_found")
    expect_error(feedbackd.get(f"/v1/webhooks/{b['id']}/deliveries", key="admin"), 404, "not_found")
    expect_error(feedbackd.get("/v1/webhooks/not-a-uuid/deliveries", key="admin"), 404, "not_found")
    assert [i["id"] for i in feedbackd.get("/v1/webhooks", key="admin").json()["items"]] == [a["id"]]
    for bad in ("0", "501", "-1", "x", "1.5", ""):
        expect_error(feedbackd.get(f"/v1/webhooks/{a['id']}/deliveries", key="admin", params={"limit": bad}), 400,
                     "invalid_parameter", "limit")


# ---- deliveries ---------------------------------------------------------------------------


def test_every_event_is_delivered_once_signed_and_verifiable(feedbackd_factory, receiver):
    fd = feedbackd_factory(env=FAST)
    secret, path = new_secret(), f"/all-{uuid.uuid4().hex}"
    receiver.config(path, secret, "ok")
    ep = add_endpoint(fd, receiver.base + path, secret=secret)
    only_retracted_path = f"/retracted-{uuid.uuid4().hex}"
    secret2 = new_secret(64)
    receiver.config(only_retracted_path, secret2, "ok")
    add_endpoint(fd, receiver.base + only_retracted_path, events=["feedback.retracted"], secret=secret2)

    events = [rating(value=1), rating(value=-1, tags=["wrong"]), rating(value=4, scale=5)]
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": events})
    assert r.status_code == 200, r.text
    # the same events again are duplicates: nothing new is announced
    assert fd.post("/v1/feedback/batch", key="ingest", json={"events": events}).status_code == 200
    assert fd.delete(f"/v1/feedback/{events[1]['id']}", key="ingest").status_code == 200
    assert fd.delete(f"/v1/feedback/{events[1]['id']}", key="ingest").status_code == 200  # again: no second event
    exp = fd.get("/v1/export", key="export", params={"format": "kto"})
    assert exp.status_code == 200, exp.text
    export_id = exp.headers["X-Export-Id"]

    wait_until(lambda: len(receiver.received(path)) >= 5 and len(receiver.received(only_retracted_path)) >= 1,
               timeout=20, what="5 + 1 deliveries")
    time.sleep(0.5)  # a sixth delivery, if there were one, would have come by now (poll 50 ms)
    recs = receiver.received(path)
    assert len(recs) == 5, [json.loads(x["body"])["type"] for x in recs]
    all_verified(recs, secret)
    assert len({x["id"] for x in recs}) == 5
    bodies = [json.loads(x["body"]) for x in recs]
    by_type = {}
    for b in bodies:
        assert set(b) == {"type", "timestamp", "data"}
        by_type.setdefault(b["type"], []).append(b["data"])
    assert sorted(d["id"] for d in by_type["feedback.stored"]) == sorted(e["id"] for e in events)
    stored = {d["id"]: d for d in by_type["feedback.stored"]}
    assert stored[events[1]["id"]]["value"] == -1 and stored[events[1]["id"]]["tags"] == ["wrong"]
    assert stored[events[2]["id"]]["scale"] == 5 and stored[events[0]["id"]]["kind"] == "rating"
    assert [d["id"] for d in by_type["feedback.retracted"]] == [events[1]["id"]]
    assert [d["id"] for d in by_type["export.finished"]] == [export_id]
    assert by_type["export.finished"][0]["records"] == fd.get(f"/v1/exports/{export_id}", key="export").json()["records"]

    other = receiver.received(only_retracted_path)
    assert len(other) == 1 and json.loads(other[0]["body"])["type"] == "feedback.retracted"
    all_verified(other, secret2)

    items = deliveries(fd, ep["id"])
    assert len(items) == 5 and {i["status"] for i in items} == {"delivered"}
    assert {i["id"] for i in items} == {x["id"] for x in recs}
    assert all(i["attempts"] == 1 and i["last_status"] == 204 and i["next_attempt_at"] is None for i in items)
    m = fd.metrics()
    assert metric_value(m, "feedbackd_webhook_deliveries_total", result="delivered") == 6
    assert metric_value(m, "feedbackd_webhook_deliveries_total", result="retry") == 0
    wait_until(lambda: metric_value(fd.metrics(), "feedbackd_webhook_pending") == 0, timeout=5, what="pending 0")


def test_feedback_stored_carries_the_fields_of_reactions_signals_spans_and_steps(feedbackd_factory, receiver):
    """docs/api.md "Webhooks": a feedback.stored delivery names the kind-specific fields as the
    event sent them (a reaction's emoji character as its name), and no rater text."""
    fd = feedbackd_factory(env=FAST)
    secret, path = new_secret(), f"/kinds-{uuid.uuid4().hex}"
    receiver.config(path, secret, "ok")
    add_endpoint(fd, receiver.base + path, events=["feedback.stored"], secret=secret)
    mid, conv = new_id("m"), new_id("c")
    content = "Hi a quoted answer\nstep one\nstep two"  # [3:11] is "a quoted"; step 2 is "step two"
    r = fd.post("/v1/messages", key="ingest",
                json={"messages": [{"id": mid, "conversation_id": conv, "role": "assistant", "content": content}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored", r.text
    base = {"message_id": mid, "user": "u-hook"}
    events = [
        dict(base, id=new_id(), kind="reaction", emoji="\U0001f44d"),  # the default set's "like"
        dict(base, id=new_id(), kind="signal", signal="copy"),
        dict(base, id=new_id(), kind="signal", signal="dwell", value=5400),
        dict(base, id=new_id(), kind="span", start=3, end=11, label="incorrect", quote="a quoted", comment="wrong"),
        dict(base, id=new_id(), kind="step", step=2, value=-1, tags=["math"]),
    ]
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": events})
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["stored"] * len(events), r.text
    wait_until(lambda: len(receiver.received(path)) >= len(events), timeout=20, what=f"{len(events)} deliveries")
    recs = receiver.received(path)
    all_verified(recs, secret)
    got = {d["id"]: d for d in (json.loads(x["body"])["data"] for x in recs)}
    common = {"message_id": mid}  # conversation_id: only an inline message gives the event one
    want = [
        {"kind": "reaction", "emoji": "like"},
        {"kind": "signal", "signal": "copy"},
        {"kind": "signal", "signal": "dwell", "value": 5400},
        {"kind": "span", "start": 3, "end": 11, "label": "incorrect", "quote": content[3:11]},
        {"kind": "step", "step": 2, "value": -1, "tags": ["math"]},
    ]
    for ev, fields in zip(events, want):
        data = got[ev["id"]]
        # everything but the event's fields, its id and its two timestamps is absent
        assert set(data) == set(fields) | set(common) | {"id", "created_at", "received_at"}, data
        assert {k: data[k] for k in fields} == fields and {k: data[k] for k in common} == common
    # the two timestamps are the stored row's (the delivery is built from the statement's input
    # and received_at's default, not read back from the row: they must agree)
    listed = {it["id"]: it for it in fd.get("/v1/feedback", key="read", params={"limit": 100}).json()["items"]}
    for ev in events:
        assert {k: got[ev["id"]][k] for k in ("created_at", "received_at")} == \
            {k: listed[ev["id"]][k] for k in ("created_at", "received_at")}, ev


def test_a_failing_then_hanging_receiver_is_retried_until_it_recovers(feedbackd_factory, receiver):
    fd = feedbackd_factory(env=FAST)
    secret, path = new_secret(), f"/flaky-{uuid.uuid4().hex}"
    receiver.config(path, secret, "fail")
    ep = add_endpoint(fd, receiver.base + path, events=["feedback.stored"], secret=secret)
    ev = rating()
    assert fd.post("/v1/feedback", key="ingest", json=ev).status_code == 201

    wait_until(lambda: len(receiver.received(path)) >= 3, timeout=20, what="three failed attempts")
    [d] = deliveries(fd, ep["id"])
    assert d["status"] == "pending" and d["attempts"] >= 3 and d["last_status"] == 500
    assert "500" in d["last_error"] and d["next_attempt_at"] and d["delivered_at"] is None
    assert fd.get("/v1/webhooks", key="admin").json()["items"][0]["pending"] == 1
    m = fd.metrics()
    assert metric_value(m, "feedbackd_webhook_deliveries_total", result="retry") >= 3
    assert metric_value(m, "feedbackd_webhook_deliveries_total", result="delivered") == 0
    wait_until(lambda: metric_value(fd.metrics(), "feedbackd_webhook_pending") == 1, timeout=5, what="pending 1")

    receiver.config(path, mode="hang")
    n = len(receiver.received(path))
    wait_until(lambda: len(receiver.received(path)) > n, timeout=10, what="an attempt at the hanging receiver")
    wait_until(lambda: "timeout" in (deliveries(fd, ep["id"])[0]["last_error"] or ""), timeout=10,
               what="the attempt timed out")
    assert deliveries(fd, ep["id"])[0]["last_status"] is None

    receiver.config(path, mode="ok")
    wait_until(lambda: deliveries(fd, ep["id"])[0]["status"] == "delivered", timeout=20, what="delivered")
    recs = receiver.received(path)
    all_verified(recs, secret)  # every attempt signed afresh, all verifiable
    assert len({r["id"] for r in recs}) == 1  # one webhook-id for all attempts of one delivery
    assert json.loads(recs[-1]["body"])["data"]["id"] == ev["id"]
    d = deliveries(fd, ep["id"])[0]
    assert d["attempts"] == len(recs) and d["last_status"] == 204 and d["last_error"] is None
    assert metric_value(fd.metrics(), "feedbackd_webhook_deliveries_total", result="delivered") == 1


def test_acknowledged_events_are_delivered_after_kill_9(feedbackd_factory, receiver):
    # no delivery threads in the first process: the events exist only in the outbox when it dies
    fd = feedbackd_factory(env={**FAST, "FEEDBACKD_WEBHOOK_WORKERS": "0"})
    secret, path = new_secret(), f"/durable-{uuid.uuid4().hex}"
    receiver.config(path, secret, "ok")
    add_endpoint(fd, receiver.base + path, events=["feedback.stored"], secret=secret)
    events = [rating() for _ in range(20)]
    for ev in events:
        assert fd.post("/v1/feedback", key="ingest", json=ev).status_code == 201
    fd.kill()  # SIGKILL
    assert receiver.received(path) == []
    fd.start(env=fd.env(FEEDBACKD_WEBHOOK_WORKERS="2"))
    wait_until(lambda: len(receiver.received(path)) >= 20, timeout=30, what="20 deliveries after the restart")
    recs = receiver.received(path)
    all_verified(recs, secret)
    assert sorted(json.loads(r["body"])["data"]["id"] for r in recs) == sorted(e["id"] for e in events)


def test_a_delivery_cut_short_by_kill_9_is_sent_again_after_restart(feedbackd_factory, receiver):
    fd = feedbackd_factory(env=FAST)
    secret, path = new_secret(), f"/cut-{uuid.uuid4().hex}"
    receiver.config(path, secret, "hang")
    ep = add_endpoint(fd, receiver.base + path, events=["feedback.stored"], secret=secret)
    ev = rating()
    assert fd.post("/v1/feedback", key="ingest", json=ev).status_code == 201
    wait_until(lambda: len(receiver.received(path)) == 1, timeout=10, what="the first attempt")
    fd.kill()  # while the receiver holds the attempt: no result recorded
    receiver.config(path, mode="ok")
    fd.start()
    # due again once the lease (attempt timeout + margin) has run out
    wait_until(lambda: deliveries(fd, ep["id"])[0]["status"] == "delivered", timeout=30, what="redelivered")
    recs = receiver.received(path)
    assert len(recs) == 2 and recs[0]["id"] == recs[1]["id"]
    all_verified(recs, secret)


def test_a_delivery_still_failing_after_the_retry_window_is_marked_failed(feedbackd_factory, receiver):
    fd = feedbackd_factory(env={**FAST, "FEEDBACKD_WEBHOOK_RETRY_WINDOW_S": "2"})
    secret, path = new_secret(), f"/down-{uuid.uuid4().hex}"
    receiver.config(path, secret, "fail")
    ep = add_endpoint(fd, receiver.base + path, events=["feedback.stored"], secret=secret)
    assert fd.post("/v1/feedback", key="ingest", json=rating()).status_code == 201
    wait_until(lambda: deliveries(fd, ep["id"])[0]["status"] == "failed", timeout=20, what="failed")
    d = deliveries(fd, ep["id"])[0]
    assert d["next_attempt_at"] is None and d["attempts"] == len(receiver.received(path)) >= 2
    assert fd.get("/v1/webhooks", key="admin").json()["items"][0]["failed"] == 1
    m = fd.metrics()
    assert metric_value(m, "feedbackd_webhook_deliveries_total", result="failed") == 1
    assert metric_value(m, "feedbackd_webhook_deliveries_total", result="retry") == d["attempts"] - 1


def _internal_name():
    """A host name (not an IP literal, not *localhost) that resolves only to internal addresses."""
    name = socket.gethostname()
    try:
        addrs = {ai[4][0] for ai in socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)}
    except OSError:
        return None
    internal = all(ipaddress.ip_address(a.split("%")[0]).is_private for a in addrs)
    return name if addrs and internal and "localhost" not in name else None


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(feedbackd_factory, receiver):
    name = _internal_name()
    if not name:
        pytest.skip("this machine's host name does not resolve to internal addresses only")
    fd = feedbackd_factory(env={k: v for k, v in FAST.items() if k != "FEEDBACKD_WEBHOOK_ALLOW_PRIVATE"})
    path = f"/ssrf-{uuid.uuid4().hex}"
    receiver.config(path, new_secret(), "ok")
    ep = add_endpoint(fd, f"http://{name}:{receiver.port}{path}", events=["feedback.stored"])
    assert fd.post("/v1/feedback", key="ingest", json=rating()).status_code == 201
    wait_until(lambda: deliveries(fd, ep["id"])[0]["attempts"] >= 1 and deliveries(fd, ep["id"])[0]["last_error"],
               timeout=10, what="an attempt")
    d = deliveries(fd, ep["id"])[0]
    assert "webhook_allow_private" in d["last_error"] and d["status"] == "pending"
    assert receiver.received(path) == []


def test_https_receivers_must_present_a_trusted_certificate(feedbackd_factory, tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    handshakes = []

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            try:
                with ctx.wrap_socket(conn, server_side=True) as s:
                    handshakes.append("ok")
                    s.recv(65536)
                    s.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            except (ssl.SSLError, OSError) as e:
                handshakes.append(str(e))

    threading.Thread(target=serve, daemon=True).start()
    try:
        fd = feedbackd_factory(env=FAST)
        ep = add_endpoint(fd, f"https://127.0.0.1:{srv.getsockname()[1]}/hook", events=["feedback.stored"])
        assert fd.post("/v1/feedback", key="ingest", json=rating()).status_code == 201
        wait_until(lambda: (deliveries(fd, ep["id"])[0]["last_error"] or ""), timeout=10, what="an attempt")
        d = deliveries(fd, ep["id"])[0]
        # a self-signed certificate is not in the system's trust store: refused, retried later
        assert "certificate" in d["last_error"] and d["status"] == "pending", d
        assert "ok" not in handshakes
    finally:
        srv.close()
