"""libmicrohttpd's per-connection memory pool (server/http/daemon.c, 32 KiB): request
headers of 14 KiB in all still fit, and several requests with large headers and bodies in a
row on one keep-alive connection are each answered correctly (the pool is reset between
them)."""

import json
import uuid

import requests


def test_large_headers_fit(feedbackd):
    pad = "p" * (14 * 1024)
    r = feedbackd.get("/healthz", headers={"X-Pad": pad})
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok"}
    # an authenticated ingest with a long cookie-like header and a 200 KiB comment
    ev = {"id": "hdr-" + uuid.uuid4().hex, "kind": "comment", "message_id": "m1", "comment": "c" * (200 * 1024)}
    r = feedbackd.post("/v1/feedback", key="ingest", json=ev, headers={"Cookie": "s=" + "k" * (13 * 1024)})
    assert r.status_code == 201, r.text
    assert r.json() == {"id": ev["id"], "status": "stored"}


def test_keep_alive_requests_after_large_ones(feedbackd):
    s = requests.Session()
    hdr = {"Authorization": "Bearer " + feedbackd.keys["ingest"], "Content-Type": "application/json"}
    ids = []
    for i, size in enumerate((10, 200 * 1024, 20, 64 * 1024, 5)):
        ev = {"id": "ka-%d-%s" % (i, uuid.uuid4().hex), "kind": "comment", "message_id": "m1", "comment": "x" * size}
        h = dict(hdr, **({"X-Pad": "q" * 12000} if i % 2 else {}))
        r = s.post(feedbackd.base_url + "/v1/feedback", data=json.dumps(ev), headers=h, timeout=10)
        assert r.status_code == 201, (i, r.text)
        assert r.json() == {"id": ev["id"], "status": "stored"}
        ids.append(ev["id"])
        # the same event again on the same connection: duplicate, with the same id back
        r = s.post(feedbackd.base_url + "/v1/feedback", data=json.dumps(ev), headers=hdr, timeout=10)
        assert r.status_code == 200, (i, r.text)
        assert r.json() == {"id": ev["id"], "status": "duplicate"}
    assert len(set(ids)) == 5
    s.close()
