"""Ingestion API administration and access (docs/api.md "Conventions", "Administration"): scopes,
cross-project isolation, erasure, GET/PATCH /v1/project, POST/GET/DELETE /v1/keys with
revocation effective within a second, and CORS (preflight and real requests)."""

import re
import time

import pytest

from helpers import wait_until
from ingest_helpers import expect_error, new_id, project_id, rating, two_project_daemon

ALLOWED = "https://chat.example.com"
OTHER_ALLOWED = "https://other.example"


@pytest.fixture(scope="module")
def fd(feedbackd_factory_module):
    return feedbackd_factory_module


@pytest.fixture(scope="module")
def feedbackd_factory_module(pg, module_db):
    """A daemon whose project "test" allows ALLOWED (and its own base URL), plus a second
    project "other" (allowing OTHER_ALLOWED) with one key per scope in fd.other_keys."""
    with two_project_daemon(pg, module_db, "adm", [ALLOWED], [OTHER_ALLOWED], with_base_url=True) as fd:
        yield fd


def other(fd, scope):
    return fd.other_keys[scope]


# -- scopes ------------------------------------------------------------------------------------

def test_ingest_key_cannot_read_or_administer(fd):
    expect_error(fd.get("/v1/feedback", key="ingest"), 403, "forbidden")
    expect_error(fd.get("/v1/project", key="ingest"), 403, "forbidden")
    expect_error(fd.get("/v1/keys", key="ingest"), 403, "forbidden")
    expect_error(fd.delete("/v1/users/u1", key="ingest"), 403, "forbidden")


@pytest.mark.parametrize("scope", ["read", "export"])
def test_read_and_export_keys_cannot_post(fd, db_sql, scope):
    ev = rating()
    expect_error(fd.post("/v1/feedback", key=scope, json=ev), 403, "forbidden")
    expect_error(fd.post("/v1/feedback/batch", key=scope, json={"events": [ev]}), 403, "forbidden")
    expect_error(fd.post("/v1/messages", key=scope, json={"messages": []}), 403, "forbidden")
    expect_error(fd.delete(f"/v1/feedback/{ev['id']}", key=scope), 403, "forbidden")
    assert db_sql("SELECT count(*) FROM feedback WHERE id = %s", (ev["id"],)) == [(0,)]


def test_read_key_reads_but_does_not_administer(fd):
    assert fd.get("/v1/feedback", key="read").status_code == 200
    expect_error(fd.get("/v1/project", key="read"), 403, "forbidden")
    expect_error(fd.post("/v1/keys", key="read", json={"scopes": ["admin"]}), 403, "forbidden")


def test_admin_can_everything(fd):
    user = new_id("u")
    ev = rating(user=user)
    assert fd.post("/v1/feedback", key="admin", json=ev).status_code == 201
    assert fd.post("/v1/feedback/batch", key="admin", json={"events": [rating(user=user)]}).status_code == 200
    assert fd.post("/v1/messages", key="admin", json={"messages": [
        {"id": new_id("m"), "conversation_id": "c1", "role": "user", "content": "hi"}]}).status_code == 200
    assert [i["id"] for i in fd.get(f"/v1/feedback?user={user}", key="admin").json()["items"]][-1] == ev["id"]
    assert fd.delete(f"/v1/feedback/{ev['id']}", key="admin").status_code == 200
    assert fd.get("/v1/project", key="admin").status_code == 200
    assert fd.get("/v1/keys", key="admin").status_code == 200
    assert fd.delete(f"/v1/users/{user}", key="admin").json() == {"user": user, "feedback_deleted": 2}


# -- cross-project isolation ------------------------------------------------------------------

def test_projects_are_isolated(fd, db_sql):
    user = new_id("u")
    mine = rating(user=user)
    assert fd.post("/v1/feedback", key="ingest", json=mine).status_code == 201
    # the other project cannot see, retract or erase it
    items = fd.get(f"/v1/feedback?user={user}&limit=500", key=other(fd, "read")).json()["items"]
    assert items == []
    assert all(i["id"] != mine["id"] for i in fd.get("/v1/feedback?limit=500", key=other(fd, "admin")).json()["items"])
    expect_error(fd.delete(f"/v1/feedback/{mine['id']}", key=other(fd, "ingest")), 404, "not_found")
    assert fd.delete(f"/v1/users/{user}", key=other(fd, "admin")).json() == {"user": user, "feedback_deleted": 0}
    assert db_sql("SELECT retracted_at FROM feedback WHERE id = %s", (mine["id"],)) == [(None,)]
    # the same id in the other project is a different event (no duplicate, no conflict)
    theirs = {**mine, "value": -1}
    r = fd.post("/v1/feedback", key=other(fd, "ingest"), json=theirs)
    assert r.status_code == 201 and r.json() == {"id": mine["id"], "status": "stored"}, r.text
    rows = sorted(db_sql("SELECT p.slug, f.value FROM feedback f JOIN projects p ON p.id = f.project_id WHERE f.id = %s",
                         (mine["id"],)))
    assert rows == [("other", -1), ("test", 1)]
    # each project sees only its own
    mine_listed = fd.get(f"/v1/feedback?user={user}", key="read").json()["items"]
    theirs_listed = fd.get(f"/v1/feedback?user={user}", key=other(fd, "read")).json()["items"]
    assert [(i["id"], i["value"]) for i in mine_listed] == [(mine["id"], 1)]
    assert [(i["id"], i["value"]) for i in theirs_listed] == [(mine["id"], -1)]


def test_keys_and_project_of_another_project(fd):
    mine = fd.get("/v1/keys", key="admin").json()["items"]
    theirs = fd.get("/v1/keys", key=other(fd, "admin")).json()["items"]
    assert {k["id"] for k in mine}.isdisjoint({k["id"] for k in theirs})
    assert len(theirs) == 4
    expect_error(fd.delete(f"/v1/keys/{mine[0]['id']}", key=other(fd, "admin")), 404, "not_found")
    assert fd.get("/v1/project", key=other(fd, "admin")).json()["slug"] == "other"


# -- erasure -------------------------------------------------------------------------------------

def test_erasure_deletes_that_users_events_and_counts_them(fd, db_sql):
    user, bystander = new_id("u"), new_id("u")
    conv = new_id("c")
    assert fd.post("/v1/messages", key="ingest", json={"messages": [
        {"id": new_id("m"), "conversation_id": conv, "role": "user", "content": "hi", "user": user}]}).status_code == 200
    events = [rating(user=user), {"id": new_id(), "kind": "comment", "message_id": "m1", "comment": "x", "user": user},
              {"id": new_id(), "kind": "comparison", "message_id": "ma", "other_message_id": "mb", "user": user}]
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": events + [rating(user=bystander)]})
    assert [x["status"] for x in r.json()["results"]] == ["stored"] * 4
    assert fd.delete(f"/v1/feedback/{events[0]['id']}", key="ingest").status_code == 200  # retracted ones go too
    assert fd.post("/v1/feedback", key=other(fd, "ingest"), json=rating(user=user)).status_code == 201

    r = fd.delete(f"/v1/users/{user}", key="admin")
    assert r.status_code == 200
    assert r.json() == {"user": user, "feedback_deleted": 3}
    pid = project_id(db_sql, "test")
    assert db_sql("SELECT count(*) FROM feedback WHERE project_id = %s AND user_ref = %s", (pid, user)) == [(0,)]
    assert db_sql("SELECT count(*) FROM feedback WHERE user_ref = %s", (bystander,)) == [(1,)]
    assert db_sql("SELECT count(*) FROM feedback WHERE project_id <> %s AND user_ref = %s", (pid, user)) == [(1,)]
    assert db_sql("SELECT count(*) FROM conversations WHERE user_ref = %s", (user,)) == [(0,)]
    assert fd.get(f"/v1/feedback?user={user}", key="read").json()["items"] == []
    # again: nothing left
    assert fd.delete(f"/v1/users/{user}", key="admin").json() == {"user": user, "feedback_deleted": 0}


# -- project -------------------------------------------------------------------------------------

def test_get_and_patch_project(fd):
    r = fd.get("/v1/project", key="admin")
    assert r.status_code == 200
    p = r.json()
    assert set(p) == {"slug", "name", "allowed_origins", "span_labels", "reactions", "default_consent", "dataset_license",
                      "detect_feedback", "detect_phrases", "retention_days", "created_at"}
    assert p["slug"] == "test" and p["name"] == "Project test"
    assert p["allowed_origins"] == [ALLOWED, fd.base_url]
    r = fd.patch("/v1/project", key="admin", json={"name": "Renamed"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed" and r.json()["allowed_origins"] == p["allowed_origins"]
    assert fd.get("/v1/project", key="admin").json()["name"] == "Renamed"
    expect_error(fd.patch("/v1/project", key="admin", json={"slug": "x"}), 400, "unknown_field", "slug")
    expect_error(fd.patch("/v1/project", key="admin", json={"name": 5}), 400, "invalid_field", "name")
    expect_error(fd.patch("/v1/project", key="admin", json={"allowed_origins": "chat.example.com"}),
                 400, "invalid_field", "allowed_origins")
    expect_error(fd.patch("/v1/project", key="admin", data=b"[]", headers={"Content-Type": "application/json"}),
                 400, "invalid_json")
    assert fd.get("/v1/project", key="admin").json()["name"] == "Renamed"
    assert fd.get("/v1/project", key=other(fd, "admin")).json()["name"] == "Project other"


def test_patch_allowed_origins_changes_cors(fd):
    new_origin = "https://new.example"
    ev = rating()
    expect_error(fd.post("/v1/feedback", key="ingest", json=ev, headers={"Origin": new_origin}), 403, "forbidden")
    r = fd.patch("/v1/project", key="admin", json={"allowed_origins": [ALLOWED, fd.base_url, new_origin]})
    assert r.status_code == 200 and r.json()["allowed_origins"] == [ALLOWED, fd.base_url, new_origin]
    try:
        # the key cache may hold the old origins for about a second
        wait_until(lambda: fd.post("/v1/feedback", key="ingest", json=rating(), headers={"Origin": new_origin}).status_code == 201,
                   timeout=3, interval=0.2, what="new origin accepted")
    finally:
        assert fd.patch("/v1/project", key="admin", json={"allowed_origins": [ALLOWED, fd.base_url]}).status_code == 200


# -- keys ----------------------------------------------------------------------------------------

def test_create_list_revoke_key_effective_within_a_second(fd):
    r = fd.post("/v1/keys", key="admin", json={"scopes": ["ingest", "read"], "label": "widget"})
    assert r.status_code == 201, r.text
    k = r.json()
    assert set(k) == {"id", "key", "prefix", "scopes", "label", "created_at"}
    assert sorted(k["scopes"]) == ["ingest", "read"] and k["label"] == "widget"
    assert k["key"].startswith(k["prefix"]) and len(k["key"]) > len(k["prefix"]) >= 4
    assert fd.post("/v1/feedback", key=k["key"], json=rating()).status_code == 201
    assert fd.get("/v1/feedback?limit=1", key=k["key"]).status_code == 200
    expect_error(fd.get("/v1/keys", key=k["key"]), 403, "forbidden")

    items = fd.get("/v1/keys", key="admin").json()["items"]
    listed = [i for i in items if i["id"] == k["id"]]
    assert len(listed) == 1
    assert set(listed[0]) == {"id", "prefix", "label", "scopes", "created_at", "revoked_at"}
    assert listed[0]["revoked_at"] is None and listed[0]["prefix"] == k["prefix"]
    assert all(k["key"] not in str(i) for i in items)  # the key in clear exactly once

    r = fd.delete(f"/v1/keys/{k['id']}", key="admin")
    t0 = time.monotonic()
    assert r.status_code == 200, r.text
    assert r.json()["id"] == k["id"] and r.json()["revoked_at"] is not None
    # docs/api.md: effective within a second; poll for at most 2 s
    while True:
        resp = fd.post("/v1/feedback", key=k["key"], json=rating())
        if resp.status_code == 401:
            break
        assert resp.status_code == 201
        assert time.monotonic() - t0 < 2.0, "revoked key still accepted after 2 s"
        time.sleep(0.05)
    expect_error(resp, 401, "unauthorized")
    time.sleep(1.2)
    expect_error(fd.get("/v1/feedback", key=k["key"]), 401, "unauthorized")
    listed = [i for i in fd.get("/v1/keys", key="admin").json()["items"] if i["id"] == k["id"]]
    assert listed[0]["revoked_at"] is not None


def test_key_errors(fd):
    expect_error(fd.post("/v1/keys", key="admin", json={"label": "x"}), 400, "missing_field", "scopes")
    expect_error(fd.post("/v1/keys", key="admin", json={"scopes": ["root"]}), 400, "invalid_field", "scopes")
    expect_error(fd.post("/v1/keys", key="admin", json={"scopes": []}), 400, "invalid_field", "scopes")
    expect_error(fd.post("/v1/keys", key="admin", json={"scopes": ["read"], "owner": "me"}), 400, "unknown_field", "owner")
    expect_error(fd.delete("/v1/keys/00000000-0000-4000-8000-000000000000", key="admin"), 404, "not_found")
    expect_error(fd.delete("/v1/keys/not-a-uuid", key="admin"), 404, "not_found")


def test_cli_revocation_is_effective_within_a_second(fd):
    key = fd.create_key("ingest", label="cli")
    assert fd.post("/v1/feedback", key=key, json=rating()).status_code == 201
    kid = [i["id"] for i in fd.get("/v1/keys", key="admin").json()["items"] if i["label"] == "cli"][0]
    fd.cli("keys", "revoke", kid)
    t0 = time.monotonic()
    while fd.post("/v1/feedback", key=key, json=rating()).status_code != 401:
        assert time.monotonic() - t0 < 2.0, "key revoked with the CLI still accepted after 2 s"
        time.sleep(0.05)


# -- CORS ------------------------------------------------------------------------------------------

def preflight(fd, origin, path="/v1/feedback", method="POST"):
    return fd.request("OPTIONS", path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                                "Access-Control-Request-Headers": "authorization, content-type"})


@pytest.mark.parametrize("origin", [ALLOWED, OTHER_ALLOWED])
@pytest.mark.parametrize("path,method", [("/v1/feedback", "POST"), ("/v1/feedback/batch", "POST"),
                                         ("/v1/messages", "POST"), ("/v1/feedback/e1", "DELETE")])
def test_preflight_from_an_allowed_origin(fd, origin, path, method):
    r = preflight(fd, origin, path, method)
    assert r.status_code in (200, 204), r.text
    assert r.headers["Access-Control-Allow-Origin"] == origin
    methods = {m.strip().upper() for m in r.headers["Access-Control-Allow-Methods"].split(",")}
    assert method in methods, r.headers
    allowed_headers = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers, r.headers
    assert re.fullmatch(r"[1-9][0-9]*", r.headers["Access-Control-Max-Age"]), r.headers


def test_preflight_from_an_origin_no_project_allows(fd):
    # (whether the 403 itself is readable by the page, i.e. carries Access-Control-Allow-Origin,
    # docs/api.md leaves open)
    expect_error(preflight(fd, "https://evil.example"), 403, "forbidden")


def test_real_request_origin_checks(fd, db_sql):
    ev = rating()
    r = fd.post("/v1/feedback", key="ingest", json=ev, headers={"Origin": ALLOWED})
    assert r.status_code == 201
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED
    # an origin that no project allows
    bad = rating()
    r = fd.post("/v1/feedback", key="ingest", json=bad, headers={"Origin": "https://evil.example"})
    expect_error(r, 403, "forbidden")
    # an origin that another project allows, but not the key's project
    r = fd.post("/v1/feedback", key="ingest", json=bad, headers={"Origin": OTHER_ALLOWED})
    expect_error(r, 403, "forbidden")
    assert db_sql("SELECT count(*) FROM feedback WHERE id = %s", (bad["id"],)) == [(0,)]
    # ... which the other project's key may use
    r = fd.post("/v1/feedback", key=other(fd, "ingest"), json=rating(), headers={"Origin": OTHER_ALLOWED})
    assert r.status_code == 201 and r.headers["Access-Control-Allow-Origin"] == OTHER_ALLOWED
    # reads follow the same rule; requests without Origin (servers) are not checked
    r = fd.get("/v1/feedback?limit=1", key="read", headers={"Origin": ALLOWED})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == ALLOWED
    expect_error(fd.get("/v1/feedback?limit=1", key="read", headers={"Origin": OTHER_ALLOWED}), 403, "forbidden")
    assert fd.get("/v1/feedback?limit=1", key="read").status_code == 200


def test_star_origin(feedbackd_factory):
    fd = feedbackd_factory(origins=["*"])
    r = preflight(fd, "https://anything.example")
    assert r.status_code in (200, 204) and r.headers["Access-Control-Allow-Origin"] == "https://anything.example"
    r = fd.post("/v1/feedback", key="ingest", json=rating(), headers={"Origin": "https://anything.example"})
    assert r.status_code == 201 and r.headers["Access-Control-Allow-Origin"] == "https://anything.example"
