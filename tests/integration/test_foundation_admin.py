"""Administration endpoints (docs/api.md "Administration"): GET/PATCH /v1/project and
POST/GET/DELETE /v1/keys — exact record shapes."""

import hashlib
from datetime import datetime, timedelta, timezone

from helpers import error_body

PROJECT_FIELDS = {
    "slug", "name", "allowed_origins", "span_labels", "reactions", "default_consent", "dataset_license",
    "detect_feedback", "detect_phrases", "retention_days", "created_at"
}
KEY_CREATED_FIELDS = {"id", "key", "prefix", "scopes", "label", "created_at"}
KEY_ITEM_FIELDS = {"id", "prefix", "label", "scopes", "created_at", "revoked_at"}


def parse_time(s):
    """RFC 3339 with a zone (docs/api.md "Times"); returns an aware datetime."""
    assert isinstance(s, str) and ("Z" in s or "+" in s[10:] or "-" in s[10:]), s
    t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    assert t.tzinfo is not None, s
    return t


def recent(s):
    return abs(datetime.now(timezone.utc) - parse_time(s)) < timedelta(minutes=5)


def test_get_project(feedbackd):
    r = feedbackd.get("/v1/project", key="admin")
    assert r.status_code == 200
    p = r.json()
    assert set(p) == PROJECT_FIELDS
    assert p["slug"] == "test"
    assert p["name"] == "Project test"  # as the fixture created it with --name
    assert p["allowed_origins"] == [feedbackd.base_url]
    assert recent(p["created_at"])


def test_patch_project(feedbackd):
    r = feedbackd.patch("/v1/project", key="admin", json={"name": "Renamed"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Renamed"
    assert r.json()["allowed_origins"] == [feedbackd.base_url]  # untouched

    origins = ["https://chat.example.com", feedbackd.base_url]
    r = feedbackd.patch("/v1/project", key="admin", json={"allowed_origins": origins})
    assert r.status_code == 200, r.text
    got = feedbackd.get("/v1/project", key="admin").json()
    assert set(got) == PROJECT_FIELDS
    assert got["name"] == "Renamed" and got["allowed_origins"] == origins and got["slug"] == "test"

    r = feedbackd.patch("/v1/project", key="admin", json={"allowed_origins": "*"})
    assert r.status_code == 200 and r.json()["allowed_origins"] == "*"

    # bad input: clear 4xx, nothing changed
    for body, code, field in [({"slug": "x"}, "unknown_field", "slug"),
                              ({"name": 5}, "invalid_field", "name"),
                              ({"allowed_origins": "chat.example.com"}, "invalid_field", "allowed_origins")]:
        r = feedbackd.patch("/v1/project", key="admin", json=body)
        assert r.status_code == 400, body
        err = error_body(r)
        assert (err["code"], err["field"]) == (code, field)
    got = feedbackd.get("/v1/project", key="admin").json()
    assert got["name"] == "Renamed" and got["allowed_origins"] == "*"
    # restore for the other tests of this module
    r = feedbackd.patch("/v1/project", key="admin", json={"name": "Project test", "allowed_origins": [feedbackd.base_url]})
    assert r.status_code == 200


def test_keys_create_list_revoke(feedbackd, db_sql):
    r = feedbackd.post("/v1/keys", key="admin", json={"scopes": ["read", "ingest"], "label": "dash"})
    assert r.status_code == 201, r.text
    k = r.json()
    assert set(k) == KEY_CREATED_FIELDS
    assert sorted(k["scopes"]) == ["ingest", "read"] and k["label"] == "dash"
    assert k["key"].startswith(k["prefix"]) and len(k["prefix"]) < len(k["key"])
    assert recent(k["created_at"])
    rows = db_sql("SELECT id::text FROM api_keys WHERE sha256 = %s", (hashlib.sha256(k["key"].encode()).digest(),))
    assert rows == [(k["id"],)]
    # the new key works with its scopes only
    assert feedbackd.get("/v1/project", key=k["key"]).status_code == 403

    r = feedbackd.get("/v1/keys", key="admin")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"items"}
    items = {it["id"]: it for it in body["items"]}
    for it in body["items"]:
        assert set(it) == KEY_ITEM_FIELDS, it
    assert "key" not in items[k["id"]]
    mine = items[k["id"]]
    assert (mine["prefix"], mine["label"], sorted(mine["scopes"]), mine["revoked_at"]) == (
        k["prefix"], "dash", ["ingest", "read"], None)
    assert parse_time(mine["created_at"]) == parse_time(k["created_at"])
    # the fixture's four keys are listed too (they belong to this project)
    prefixes = {it["prefix"] for it in body["items"]}
    for key in feedbackd.keys.values():
        assert any(key.startswith(p) for p in prefixes)
    # no key in clear anywhere in the listing
    for key in list(feedbackd.keys.values()) + [k["key"]]:
        assert key not in r.text

    r = feedbackd.delete(f"/v1/keys/{k['id']}", key="admin")
    assert r.status_code == 200, r.text
    item = r.json()
    assert set(item) == KEY_ITEM_FIELDS
    assert item["id"] == k["id"] and item["revoked_at"] is not None and recent(item["revoked_at"])
    listed = {it["id"]: it for it in feedbackd.get("/v1/keys", key="admin").json()["items"]}
    assert listed[k["id"]]["revoked_at"] is not None

    r = feedbackd.delete("/v1/keys/00000000-0000-4000-8000-000000000000", key="admin")
    assert r.status_code == 404
    assert error_body(r)["code"] == "not_found"
    r = feedbackd.delete("/v1/keys/not-a-uuid", key="admin")
    assert r.status_code == 404, r.text


def test_keys_create_validation(feedbackd):
    cases = [
        ({}, "missing_field", "scopes"),
        ({"scopes": []}, "invalid_field", "scopes"),
        ({"scopes": ["root"]}, "invalid_field", "scopes"),
        ({"scopes": "read"}, "invalid_field", "scopes"),
        ({"scopes": ["read"], "label": 7}, "invalid_field", "label"),
        ({"scopes": ["read"], "owner": "x"}, "unknown_field", "owner"),
    ]
    before = len(feedbackd.get("/v1/keys", key="admin").json()["items"])
    for body, code, field in cases:
        r = feedbackd.post("/v1/keys", key="admin", json=body)
        assert r.status_code == 400, (body, r.text)
        err = error_body(r)
        assert (err["code"], err["field"]) == (code, field), body
    assert len(feedbackd.get("/v1/keys", key="admin").json()["items"]) == before
