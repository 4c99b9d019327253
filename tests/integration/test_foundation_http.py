"""The HTTP layer (docs/api.md "Conventions"): error shape for unknown routes and methods, 415
and 413 for bodies, many idle connections, and graceful exit on SIGTERM/SIGINT."""

import json
import resource
import signal
import socket
import time

import pytest

from helpers import error_body


def test_404_unknown_route(feedbackd):
    for path in ("/nope", "/v1/nope", "/v1/keys/extra/segments"):
        r = feedbackd.get(path, key="admin")
        assert r.status_code == 404, path
        err = error_body(r)
        assert err["code"] == "not_found" and err["field"] is None, (path, err)


def allow_set(resp):
    return {m.strip() for m in resp.headers.get("Allow", "").split(",") if m.strip()}


def test_405_with_allow_header(feedbackd):
    r = feedbackd.delete("/healthz")
    assert r.status_code == 405
    err = error_body(r)
    assert err["code"] == "method_not_allowed" and err["field"] is None
    assert "GET" in allow_set(r)
    assert "DELETE" not in allow_set(r)

    r = feedbackd.request("PUT", "/v1/keys", key="admin", json={})
    assert r.status_code == 405
    assert error_body(r)["code"] == "method_not_allowed"
    assert {"GET", "POST"} <= allow_set(r) and "PUT" not in allow_set(r)

    r = feedbackd.post("/v1/project", key="admin", json={})
    assert r.status_code == 405
    assert {"GET", "PATCH"} <= allow_set(r)


def test_415_without_json_content_type(feedbackd):
    body = json.dumps({"scopes": ["read"]})
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}, {}):
        r = feedbackd.post("/v1/keys", key="admin", data=body, headers=headers)
        assert r.status_code == 415, (headers, r.text)
        err = error_body(r)
        assert err["code"] == "unsupported_media_type"
    # the same body with the right type is accepted (so the 415 was about the type)
    r = feedbackd.post("/v1/keys", key="admin", data=body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text


LIMIT = 1024  # the smallest --max-body-bytes the daemon accepts


def padded_body(size):
    """A valid POST /v1/keys body of exactly `size` bytes (JSON whitespace as padding)."""
    core = '{"scopes":["read"],"label":"pad"}'
    assert len(core) <= size
    return core[:-1] + " " * (size - len(core)) + "}"


@pytest.fixture(scope="module")
def small_body_server(pg, feedbackd_factory_module):
    return feedbackd_factory_module(args=["--max-body-bytes", str(LIMIT)])


@pytest.fixture(scope="module")
def feedbackd_factory_module(pg):
    from helpers import Feedbackd
    made = []

    def make(args=()):
        fd = Feedbackd(pg.conninfo(pg.create_database("http_small")), args=args, name="small")
        made.append(fd)
        return fd.setup().start()

    yield make
    for fd in made:
        fd.destroy()


def test_413_body_over_the_limit(small_body_server):
    fd = small_body_server
    hdr = {"Content-Type": "application/json"}
    # exactly at the limit: accepted (docs/api.md: every bound inclusive)
    body = padded_body(LIMIT)
    assert len(body.encode()) == LIMIT
    r = fd.post("/v1/keys", key="admin", data=body, headers=hdr)
    assert r.status_code == 201, r.text
    # one byte over, with Content-Length
    r = fd.post("/v1/keys", key="admin", data=padded_body(LIMIT + 1), headers=hdr)
    assert r.status_code == 413, r.text
    assert error_body(r)["code"] == "payload_too_large"
    # far over
    r = fd.post("/v1/keys", key="admin", data=padded_body(50 * LIMIT), headers=hdr)
    assert r.status_code == 413
    # chunked (no Content-Length): the limit holds while the body streams in
    chunks = (c.encode() for c in [padded_body(3 * LIMIT)[i:i + 500] for i in range(0, 3 * LIMIT, 500)])
    r = fd.post("/v1/keys", key="admin", data=chunks, headers=hdr)
    assert r.status_code == 413, r.text
    assert error_body(r)["code"] == "payload_too_large"
    # and the server is fine afterwards
    assert fd.get("/healthz").status_code == 200


def test_default_body_limit_is_1_mib(feedbackd):
    hdr = {"Content-Type": "application/json"}
    r = feedbackd.post("/v1/keys", key="admin", data=padded_body(1024 * 1024 + 1), headers=hdr)
    assert r.status_code == 413
    r = feedbackd.post("/v1/keys", key="admin", data=padded_body(1024 * 1024), headers=hdr)
    assert r.status_code == 201, r.text


def test_invalid_json_is_400(feedbackd):
    hdr = {"Content-Type": "application/json"}
    for body in ("{", "[]", '"x"', "\xff"):
        r = feedbackd.post("/v1/keys", key="admin", data=body.encode("latin-1"), headers=hdr)
        assert r.status_code == 400, (body, r.text)
        assert error_body(r)["code"] == "invalid_json"


def test_1000_idle_connections_do_not_block_healthz(feedbackd):
    n = 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1000), hard))
    socks = []
    try:
        for i in range(n):
            # 50 per source address: under the default per_ip_connection_limit (64)
            s = socket.create_connection(("127.0.0.1", feedbackd.port), timeout=5,
                                         source_address=(f"127.0.2.{i // 50 + 1}", 0))
            socks.append(s)
        time.sleep(0.5)  # let the server accept them all
        t0 = time.monotonic()
        r = feedbackd.get("/healthz", timeout=5)
        elapsed = time.monotonic() - t0
        assert r.status_code == 200
        assert elapsed < 5
        # the idle connections were really accepted and are still served
        for s in (socks[0], socks[n // 2], socks[-1]):
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            assert data.startswith(b"HTTP/1.1 200"), data[:200]
    finally:
        for s in socks:
            s.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_exits_zero(feedbackd_factory, sig):
    fd = feedbackd_factory()
    assert fd.get("/v1/project", key="admin").status_code == 200
    port = fd.port
    assert fd.stop(sig) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_sigterm_with_idle_keepalive_connection(feedbackd_factory):
    """An idle keep-alive client must not hold up shutdown."""
    fd = feedbackd_factory()
    s = socket.create_connection(("127.0.0.1", fd.port), timeout=5)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        t0 = time.monotonic()
        assert fd.stop(signal.SIGTERM, timeout=30) == 0
        assert time.monotonic() - t0 < 25
    finally:
        s.close()
