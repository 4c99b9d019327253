"""docs/openapi.json against the code: every route of the routing table (server/api/routes.c,
parsed here, nothing exported by the binary for it) is documented with the scope the table
gives it, nothing else is documented, and the daemon serves the document at GET /openapi.json
(no key, cacheable). The validity of the document itself is checked by the npm validator in
tests/e2e/openapi.test.mjs; every answer of this suite is checked against it by openapi_check.py."""

import json
import os
import re

import pytest

from openapi_check import DOC_PATH, REPO, OpenApiMismatch, checker, load_document

ROUTE = re.compile(r'\{"([A-Z]+)",\s*"([^"]+)",\s*(\w+),\s*FD_SCOPE_(\w+),\s*"[^"]*"(?:,\s*\w+)?\}')


def routing_table():
    """(METHOD, documented path, scope or None) per row of fd_api_routes; `*` (any rest) is
    written {file} in the document, `{name}` stays as it is."""
    with open(os.path.join(REPO, "server", "api", "routes.c"), encoding="utf-8") as f:
        text = f.read()
    rows = ROUTE.findall(text)
    assert len(rows) >= 20, "the routing table parser found too few routes: has routes.c changed shape?"
    out = []
    for method, pattern, _handler, scope in rows:
        path = re.sub(r"/\*$", "/{file}", pattern)
        out.append((method, path, None if scope == "NONE" else scope.lower()))
    return out


def documented(doc):
    out = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                scopes = [s for req in op.get("security", []) for s in req.get("bearerKey", [])]
                out.append((method.upper(), path, scopes[0] if scopes else None))
    return out


def test_every_route_is_documented_with_its_scope_and_nothing_else():
    table, doc = routing_table(), documented(load_document())
    missing = sorted(set(table) - set(doc))
    extra = sorted(set(doc) - set(table))
    assert not missing, f"routes (method, path, scope) in server/api/routes.c but not in docs/openapi.json: {missing}"
    assert not extra, f"operations in docs/openapi.json that server/api/routes.c does not route: {extra}"


def test_every_row_of_the_routing_table_is_parsed():
    # a row the regex misses would silently escape the coverage test above
    with open(os.path.join(REPO, "server", "api", "routes.c"), encoding="utf-8") as f:
        rows = [line for line in f if re.match(r'\s*\{"[A-Z]+",', line)]
    assert len(rows) == len(routing_table())


def test_operations_needing_a_key_document_401_and_403_and_the_others_do_not():
    doc = load_document()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            keyed = any(req.get("bearerKey") for req in op.get("security", []))
            for status in ("401", "403"):
                if keyed:
                    assert status in op["responses"], (method, path, status)
            if not keyed and path != "/metrics":
                assert "401" not in op["responses"] and "403" not in op["responses"], (method, path)


def test_the_checker_rejects_what_the_document_does_not_allow():
    # the response hook must be able to fail: an undocumented status, a wrong body, a wrong type
    c = checker()
    c.check("GET", "/healthz", 200, "application/json", b'{"status":"ok"}', "ok")
    with pytest.raises(OpenApiMismatch, match="status 202 is not documented"):
        c.check("GET", "/healthz", 202, "application/json", b'{"status":"ok"}', "t")
    with pytest.raises(OpenApiMismatch):
        c.check("GET", "/healthz", 200, "application/json", b'{"status":"fine"}', "t")
    with pytest.raises(OpenApiMismatch):
        c.check("POST", "/v1/feedback", 400, "application/json",
                b'{"error":{"code":"conflict","message":"m","field":null}}', "t")
    with pytest.raises(OpenApiMismatch):
        c.check("POST", "/v1/feedback", 400, "application/json", b'{"error":{"code":"invalid_json","message":"m"}}', "t")
    with pytest.raises(OpenApiMismatch, match="Content-Type"):
        c.check("GET", "/v1/stats", 200, "text/html", b"<p>", "t")
    with pytest.raises(OpenApiMismatch, match="expected 404"):
        c.check("GET", "/nowhere", 200, "application/json", b"{}", "t")
    with pytest.raises(OpenApiMismatch, match="expected 405"):
        c.check("PUT", "/v1/stats", 404, "application/json",
                b'{"error":{"code":"not_found","message":"m","field":null}}', "t")
    with pytest.raises(OpenApiMismatch):
        c.check("GET", "/v1/export", 200, "application/x-ndjson", b'{"prompt":[],"chosen":[]}\n', "t")


def test_served_at_openapi_json_without_a_key(feedbackd):
    r = feedbackd.get("/openapi.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert "max-age" in r.headers.get("Cache-Control", "") and "no-store" not in r.headers["Cache-Control"]
    with open(DOC_PATH, "rb") as f:
        assert r.content == f.read()
    assert r.json()["openapi"].startswith("3.1")
    assert feedbackd.request("HEAD", "/openapi.json").status_code == 200
