"""Ingestion API errors and limits (docs/api.md "Conventions"): every error code of the table with
the exact body shape and `field` path, and every limit at its bound and bound + 1 (lengths
in bytes of UTF-8, every bound inclusive)."""

import json
import time

import pytest

from ingest_helpers import compact, expect_error, item_error_ok, new_id, post_raw, rating

MiB = 1024 * 1024
TEXT_MAX = 256 * 1024


def comment_event(comment, **kw):
    ev = {"id": new_id(), "kind": "comment", "message_id": "m1", "comment": comment}
    ev.update(kw)
    return ev


def sized_body(n):
    """A valid single-event body of exactly n bytes (padding in the comment)."""
    ev = comment_event("")
    pad = n - len(compact(ev).encode())
    assert 0 < pad <= TEXT_MAX
    ev["comment"] = "x" * pad
    body = compact(ev).encode()
    assert len(body) == n
    return ev, body


# -- body size -------------------------------------------------------------------------------

def test_body_limit_from_server_flag(feedbackd_factory, pg):
    fd = feedbackd_factory(args=["--max-body-bytes", "2048"])
    ev, body = sized_body(2048)
    r = post_raw(fd, "/v1/feedback", body)
    assert r.status_code == 201, r.text
    ev, body = sized_body(2049)
    expect_error(post_raw(fd, "/v1/feedback", body), 413, "payload_too_large", any_field=True)
    # also when the size is not announced (chunked transfer encoding)
    ev, body = sized_body(2049)
    r = fd.request("POST", "/v1/feedback", key="ingest", data=iter([body[:1000], body[1000:]]),
                   headers={"Content-Type": "application/json"})
    expect_error(r, 413, "payload_too_large", any_field=True)
    ev, body = sized_body(2048)
    r = fd.request("POST", "/v1/feedback", key="ingest", data=iter([body[:1000], body[1000:]]),
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text


def one_mib_batch(extra):
    """A valid batch body of exactly 1 MiB + extra bytes: five comment events."""
    events = [comment_event("y" * 200000) for _ in range(5)]
    size = len(compact({"events": events}).encode())
    events[-1]["comment"] += "z" * (MiB + extra - size)
    assert len(events[-1]["comment"]) <= TEXT_MAX
    body = compact({"events": events}).encode()
    assert len(body) == MiB + extra
    return events, body


def test_default_body_limit_is_1_mib(feedbackd, db_sql):
    events, body = one_mib_batch(0)
    r = post_raw(feedbackd, "/v1/feedback/batch", body)
    assert r.status_code == 200, r.text[:300]
    assert [x["status"] for x in r.json()["results"]] == ["stored"] * 5
    events, body = one_mib_batch(1)
    expect_error(post_raw(feedbackd, "/v1/feedback/batch", body), 413, "payload_too_large", any_field=True)
    ids = [e["id"] for e in events]
    assert db_sql("SELECT count(*) FROM feedback WHERE id = ANY(%s)", (ids,)) == [(0,)]


# -- content type ----------------------------------------------------------------------------

@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonp"])
def test_415_without_json_content_type(feedbackd, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    r = feedbackd.request("POST", "/v1/feedback", key="ingest", data=compact(rating()).encode(), headers=headers)
    expect_error(r, 415, "unsupported_media_type")


def test_json_content_type_with_charset_is_accepted(feedbackd):
    r = post_raw(feedbackd, "/v1/feedback", compact(rating()), headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201, r.text


# -- invalid_json -------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b"", b"{", b"{\"id\": }", b"[]", b"[{\"kind\": \"rating\"}]", b"\"rating\"", b"42", b"null",
    b"{\"id\": \"e1\", \"kind\": \"comment\", \"message_id\": \"m1\", \"comment\": \"a\\u0000b\"}",
    b"{\"id\": \"e1\", \"kind\": \"comment\", \"message_id\": \"m1\", \"comm\\u0000ent\": \"ab\"}",
    b"{\"id\": \"e1\", \"kind\": \"comment\", \"message_id\": \"m1\", \"comment\": \"a\x00b\"}",
    b"{\"id\": \"e1\", \"kind\": \"comment\", \"message_id\": \"m1\", \"comment\": \"caf\xe9\"}",
    b"{\"id\": \"e1\", \"kind\": \"comment\", \"message_id\": \"m1\", \"comment\": \"\xff\xfe\"}",
    b"{\"id\": \"e1\", \"kind\": \"comment\", \"message_id\": \"m1\", \"comment\": \"\xed\xa0\x80\"}",
    b"{\"id\": \"e1\", \"kind\": \"comment\", \"message_id\": \"m1\", \"comment\": \"\xc0\xaf\"}",
], ids=["empty", "truncated", "syntax", "array", "array-of-objects", "string", "number", "null",
        "escaped-nul", "escaped-nul-in-key", "raw-nul", "latin1", "ff-fe", "utf8-surrogate", "overlong"])
@pytest.mark.parametrize("path", ["/v1/feedback", "/v1/feedback/batch", "/v1/messages"])
def test_invalid_json(feedbackd, body, path):
    expect_error(post_raw(feedbackd, path, body), 400, "invalid_json")


# -- text lengths ------------------------------------------------------------------------------

def test_comment_256_kib(feedbackd):
    two_byte = "é" * (TEXT_MAX // 2)  # 262144 bytes, 131072 characters
    assert feedbackd.post("/v1/feedback", key="ingest", json=comment_event(two_byte)).status_code == 201
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=comment_event(two_byte + "a")),
                 400, "invalid_field", "comment")
    # a comment on a rating has the same limit
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(comment="a" * (TEXT_MAX + 1))),
                 400, "invalid_field", "comment")


def test_edited_content_256_kib(feedbackd):
    def edit(text):
        return {"id": new_id(), "kind": "edit", "message_id": "m1", "edited_content": text}
    ok = "€" * ((TEXT_MAX - 1) // 3) + "a"  # 3-byte characters + 1 byte = 262144 bytes
    assert len(ok.encode()) == TEXT_MAX
    assert feedbackd.post("/v1/feedback", key="ingest", json=edit(ok)).status_code == 201
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=edit(ok + "b")), 400, "invalid_field", "edited_content")


def test_message_content_256_kib(feedbackd):
    conv = new_id("c")
    ok = {"id": new_id("m"), "conversation_id": conv, "role": "assistant", "content": "a" * TEXT_MAX}
    bad = {"id": new_id("m"), "conversation_id": conv, "role": "assistant", "content": "a" * (TEXT_MAX + 1)}
    r = feedbackd.post("/v1/messages", key="ingest", json={"messages": [ok, bad]})
    assert r.status_code == 200, r.text[:300]
    res = r.json()["results"]
    assert res[0] == {"index": 0, "id": ok["id"], "status": "stored"}
    item_error_ok(res[1], 1, "invalid_field", "messages[1].content")
    inline = rating(message={"conversation_id": conv, "content": "b" * (TEXT_MAX + 1)})
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=inline), 400, "invalid_field", "message.content")
    inline["message"]["content"] = "b" * TEXT_MAX
    assert feedbackd.post("/v1/feedback", key="ingest", json=inline).status_code == 201


# -- ids -----------------------------------------------------------------------------------------

def test_id_lengths_and_characters(feedbackd, db_sql):
    for good in ["a" * 128, "A-Za-z0-9._:-", "0", "urn:uuid:6f0b7f5e-0000-4000-8000-000000000000"]:
        ev = rating()
        ev["id"] = good if good != "A-Za-z0-9._:-" else good + new_id("")[-8:]
        assert feedbackd.post("/v1/feedback", key="ingest", json=ev).status_code == 201, good
    for bad in ["a" * 129, "", "a b", "a/b", "é1", "a\"b", "a\nb", "a%2Fb", "a#b", "a,b", 17, None]:
        ev = rating()
        ev["id"] = bad
        if bad is None:
            continue  # null = absent: the server generates an id
        expect_error(feedbackd.post("/v1/feedback", key="ingest", json=ev), 400, "invalid_field", "id")
    for bad in ["m" * 129, "", "m 1"]:
        expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(message_id=bad)),
                     400, "invalid_field", "message_id")
    assert feedbackd.post("/v1/feedback", key="ingest", json=rating(message_id="m" * 128)).status_code == 201
    conv_ok = {"id": new_id("m"), "conversation_id": "c" * 128, "role": "user", "content": "x"}
    conv_bad = {"id": "m" * 129, "conversation_id": "c1", "role": "user", "content": "x"}
    res = feedbackd.post("/v1/messages", key="ingest", json={"messages": [conv_ok, conv_bad]}).json()["results"]
    assert res[0]["status"] == "stored"
    item_error_ok(res[1], 1, "invalid_field", "messages[1].id")


# -- tags, user, model ------------------------------------------------------------------------------

def test_tags_limits(feedbackd, db_sql):
    ok = [f"t{i}" for i in range(32)]
    ev = rating(tags=ok)
    assert feedbackd.post("/v1/feedback", key="ingest", json=ev).status_code == 201
    assert db_sql("SELECT tags FROM feedback WHERE id = %s", (ev["id"],)) == [(ok,)]
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(tags=ok + ["t32"])), 400, "invalid_field", "tags")
    long_ok = "é" * 32  # 64 bytes
    ev = rating(tags=["a", "b", "c", long_ok])
    assert feedbackd.post("/v1/feedback", key="ingest", json=ev).status_code == 201
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(tags=["a", "b", "c", long_ok + "x"])),
                 400, "invalid_field", "tags[3]")
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(tags=["a", ""])), 400, "invalid_field", "tags[1]")
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(tags=["a", 5])), 400, "invalid_field", "tags[1]")
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(tags="a")), 400, "invalid_field", "tags")


def test_user_and_model_128_bytes(feedbackd):
    assert feedbackd.post("/v1/feedback", key="ingest", json=rating(user="u" * 128)).status_code == 201
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(user="u" * 129)), 400, "invalid_field", "user")
    conv = new_id("c")
    ok = rating(message={"conversation_id": conv, "content": "x", "model": "é" * 64})
    assert feedbackd.post("/v1/feedback", key="ingest", json=ok).status_code == 201
    bad = rating(message={"conversation_id": conv, "content": "x", "model": "é" * 64 + "x"})
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=bad), 400, "invalid_field", "message.model")
    msgs = [{"id": new_id("m"), "conversation_id": conv, "role": "assistant", "content": "x", "model": "m" * 128},
            {"id": new_id("m"), "conversation_id": conv, "role": "assistant", "content": "x", "model": "m" * 129}]
    res = feedbackd.post("/v1/messages", key="ingest", json={"messages": msgs}).json()["results"]
    assert res[0]["status"] == "stored"
    item_error_ok(res[1], 1, "invalid_field", "messages[1].model")


# -- metadata ---------------------------------------------------------------------------------------

def metadata_of_size(n):
    md = {"k": ""}
    md["k"] = "v" * (n - len(compact(md)))
    assert len(compact(md).encode()) == n
    return md


def test_metadata_16_kib_compact(feedbackd):
    ok = rating(metadata=metadata_of_size(16384))
    # sent with indentation: the limit is on the compact serialisation, not on the bytes sent
    assert post_raw(feedbackd, "/v1/feedback", json.dumps(ok, indent=4)).status_code == 201
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(metadata=metadata_of_size(16385))),
                 400, "invalid_field", "metadata")
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(metadata=[1, 2])), 400, "invalid_field", "metadata")
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(metadata="x")), 400, "invalid_field", "metadata")


def nested(levels):
    md = {"leaf": 1}
    for _ in range(levels - 1):
        md = {"a": md}
    return md


def test_metadata_depth_16(feedbackd):
    assert feedbackd.post("/v1/feedback", key="ingest", json=rating(metadata=nested(16))).status_code == 201
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(metadata=nested(17))),
                 400, "invalid_field", "metadata")
    # arrays nest too: 15 objects + 2 arrays = 17 levels
    md = nested(15)
    inner = md
    while "a" in inner:
        inner = inner["a"]
    inner["leaf"] = [[1]]
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(metadata=md)), 400, "invalid_field", "metadata")


def test_batch_item_field_paths(feedbackd):
    events = [rating(), rating(), rating(kind="bogus"), rating(tags=["a", "b", "c", "x" * 65]),
              rating(metadata=nested(17))]
    res = feedbackd.post("/v1/feedback/batch", key="ingest", json={"events": events}).json()["results"]
    assert [x["status"] for x in res[:2]] == ["stored", "stored"]
    item_error_ok(res[2], 2, "invalid_field", "events[2].kind")
    item_error_ok(res[3], 3, "invalid_field", "events[3].tags[3]")
    item_error_ok(res[4], 4, "invalid_field", "events[4].metadata")


# -- auth, routing and query errors ---------------------------------------------------------------------

def test_401_unauthorized(feedbackd):
    body = rating()
    expect_error(feedbackd.post("/v1/feedback", json=body), 401, "unauthorized")
    expect_error(feedbackd.post("/v1/feedback", key="fbd_not_a_real_key_0123456789", json=body), 401, "unauthorized")
    r = feedbackd.request("POST", "/v1/feedback", json=body, headers={"Authorization": f"Basic {feedbackd.keys['ingest']}"})
    expect_error(r, 401, "unauthorized")
    expect_error(feedbackd.get("/v1/feedback"), 401, "unauthorized")


def test_404_unknown_route(feedbackd):
    expect_error(feedbackd.get("/v1/nothing", key="admin"), 404, "not_found")
    expect_error(feedbackd.post("/v1/feedbacks", key="ingest", json=rating()), 404, "not_found")


def test_405_with_allow_header(feedbackd):
    r = feedbackd.request("PUT", "/v1/feedback", key="admin", json=rating())
    expect_error(r, 405, "method_not_allowed")
    allow = {m.strip() for m in r.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allow, r.headers["Allow"]
    r = feedbackd.get("/v1/feedback/batch", key="admin")
    expect_error(r, 405, "method_not_allowed")
    assert "POST" in r.headers["Allow"]


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=abc", "limit"), ("limit=-1", "limit"), ("limit=1.5", "limit"),
    ("kind=thumbs", "kind"), ("since=yesterday", "since"), ("until=2026-13-01T00:00:00Z", "until"),
    ("since=2026-01-01T00:00:00", "since"), ("cursor=not-a-cursor", "cursor"),
])
def test_invalid_parameter(feedbackd, query, field):
    expect_error(feedbackd.get(f"/v1/feedback?{query}", key="read"), 400, "invalid_parameter", field)


def test_429_rate_limited(feedbackd_factory):
    # 1 event/s with a burst of 3: three events pass at once, the fourth is refused with
    # Retry-After, nothing of it is stored, and after the wait the same id goes through.
    fd = feedbackd_factory(args=["--rate-limit-rps", "1", "--rate-limit-burst", "3"])
    for i in range(3):
        r = fd.post("/v1/feedback", json=comment_event(f"ok {i}"), key="ingest")
        assert r.status_code == 201, r.text
    refused = comment_event("over the limit")
    r = fd.post("/v1/feedback", json=refused, key="ingest")
    expect_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    listed = fd.get("/v1/feedback?kind=comment&limit=500", key="read").json()["items"]
    assert refused["id"] not in {it["id"] for it in listed}
    time.sleep(int(r.headers["Retry-After"]) + 0.2)
    r = fd.post("/v1/feedback", json=refused, key="ingest")
    assert r.status_code == 201, r.text
    # another key of the same project has its own bucket
    other = fd.create_key("ingest")
    r = fd.post("/v1/feedback", json=comment_event("other key"), key=other)
    assert r.status_code == 201, r.text


def test_rate_limits_are_off_by_default(feedbackd):
    codes = [feedbackd.post("/v1/feedback", json=comment_event(f"n{i}"), key="ingest").status_code for i in range(40)]
    assert codes == [201] * 40
