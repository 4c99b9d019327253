"""No client input reaches a database error (docs/api.md "Errors": never 500 for anything a
client can send). A database error that is neither an outage nor contention is answered
500 `internal` (server/http/reply.c), so every route is sent the nastiest path and query
parameters a client can write — broken UTF-8, NUL, overlong encodings, numbers past every
integer type, negative numbers, long strings, ids that are no UUID, unknown enum values,
malformed times, snapshots and cursors — and must answer each below 500.

And the other side: a real database bug (a table renamed under the running server) is a 500
`internal` with the handler's file:line in the log, not a 503 that clients would retry forever."""

import re

import psycopg2
import pytest

from helpers import error_body

NASTY = [
    "%FF", "a%FFb", "%C3%28", "%ED%A0%80", "%F4%90%80%80", "%C0%80", "%00", "a%00b", "%00a",
    "", "%20", "%2F", "..%2F..", "%25", "%27%3B--", "%22", "%5C", "%E2%80%AE",
    "99999999999999999999", "-99999999999999999999", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "-1", "0", "1e309", "-1e309", "NaN", "Infinity", "0x10", "1.5",
    "99999999999999999999.1", "1.99999999999999999999", "-1.-1", ".", "1.", ".1",
    "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-01-01T00:00:00%2B99:99",
    "294277-01-01T00:00:00Z", "1:1:", "99999999999999999999:1:", "10:5:", "1:2:3,4", "nope", "x" * 5000,
]

QUERY = {
    "/v1/feedback": ("read", ["kind", "model", "tag", "user", "since", "until", "cursor", "limit"]),
    "/v1/stats": ("read", ["since", "until", "bucket", "group_by", "model"]),
    "/v1/export": ("export", ["format", "split", "test_fraction", "min_margin", "since", "until", "include_meta",
                              "model", "after"]),
    "/v1/keys": ("admin", ["project"]),
    "/v1/project": ("admin", ["x"]),
}

PATHS = [
    ("DELETE", "/v1/feedback/{}", "ingest"),
    ("GET", "/v1/exports/{}", "export"),
    ("DELETE", "/v1/keys/{}", "admin"),
    ("DELETE", "/v1/users/{}", "admin"),
]

PATH_EXTRA = ["00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-00000000000G",
              "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "{00000000-0000-0000-0000-000000000000}",
              "00000000000000000000000000000000", "00000000-0000-0000-0000-0000000000000"]


def no_5xx(fd, method, url, key):
    r = fd.request(method, url, key=key)
    if method == "GET" and r.status_code == 200:
        r.content  # read a streamed export to its end
    assert r.status_code < 500, f"{method} {url[:200]} -> {r.status_code} {r.text[:300]}"


@pytest.mark.parametrize("path", sorted(QUERY))
def test_query_parameters_never_5xx(feedbackd, path):
    key, names = QUERY[path]
    for name in names:
        for value in NASTY:
            no_5xx(feedbackd, "GET", f"{path}?{name}={value}", key)
        no_5xx(feedbackd, "GET", f"{path}?{name}=%FF&{name}=1", key)  # repeated


@pytest.mark.parametrize("method,pattern,key", PATHS)
def test_path_parameters_never_5xx(feedbackd, method, pattern, key):
    for value in [v for v in NASTY if v] + PATH_EXTRA:
        no_5xx(feedbackd, method, pattern.format(value), key)


def test_a_database_bug_is_500_internal_with_its_call_site(feedbackd_factory):
    fd = feedbackd_factory()
    ok = fd.get("/v1/exports/00000000-0000-0000-0000-000000000000", key="export")
    assert ok.status_code == 404, ok.text
    conn = psycopg2.connect(fd.database_url)
    conn.autocommit = True
    with conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE exports RENAME TO exports_gone")  # our SQL now names a missing table: 42P01
    conn.close()
    r = fd.get("/v1/exports/00000000-0000-0000-0000-000000000000", key="export")
    assert r.status_code == 500, r.text
    assert "Retry-After" not in r.headers
    assert error_body(r)["code"] == "internal"
    log = fd.log(100000)
    assert "sqlstate=42P01" in log, log[-2000:]
    assert re.search(r"src=\S*server/api/\S+\.c:\d+ msg=\"database error answered 500", log), log[-2000:]
