"""ingest_helpers.py — small helpers shared by the test_ingest_*.py modules (the ingestion
API of docs/api.md). Expected values are computed here from docs/api.md, never taken from the server:
ctx_id() is docs/api.md's formula for context turn ids, written out independently.
"""

import contextlib
import hashlib
import json
import re
import uuid

from helpers import error_body

JSON = {"Content-Type": "application/json"}


def new_id(prefix="e"):
    """A fresh client id (valid characters only)."""
    return f"{prefix}-{uuid.uuid4().hex}"


def ctx_id(conversation_id, index, role, content):
    """docs/api.md: "ctx-" + the first 32 hex digits of SHA-256(C + "\\n" + i + "\\n" + role + "\\n" + content)."""
    text = f"{conversation_id}\n{index}\n{role}\n{content}"
    return "ctx-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def rating(message_id=None, value=1, **kw):
    ev = {"id": new_id(), "kind": "rating", "message_id": new_id("m") if message_id is None else message_id, "value": value}
    ev.update(kw)
    return ev


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def post_raw(fd, path, body, key="ingest", headers=None, method="POST"):
    """Send `body` (bytes or str) exactly as given, with Content-Type: application/json unless
    headers says otherwise."""
    h = dict(JSON)
    h.update(headers or {})
    if isinstance(body, str):
        body = body.encode("utf-8")
    return fd.request(method, path, key=key, data=body, headers=h)


def expect_error(resp, status, code, field=None, any_field=False):
    """Assert status, the exact docs/api.md error shape, the code and (unless any_field) the field."""
    assert resp.status_code == status, f"expected {status} {code}, got {resp.status_code}: {resp.text[:500]}"
    err = error_body(resp)
    assert err["code"] == code, err
    if not any_field:
        assert err["field"] == field, err
    return err


def item_error_ok(item, index, code, field):
    """A per-item error result of the batch endpoints: {"index","id"?,"status":"error","error":{...}}."""
    assert item["index"] == index, item
    assert item["status"] == "error", item
    assert set(item["error"]) == {"code", "message", "field"}, item
    assert item["error"]["code"] == code, item
    assert item["error"]["field"] == field, item


def second_project(fd, slug="other", origins=("https://other.example",)):
    """Create another project on fd's database with one key per scope (via the CLI, as an
    operator would); returns {scope: key}."""
    fd.cli("projects", "create", slug, "--name", f"Project {slug}", "--origins", ",".join(origins))
    return {s: fd.create_key(s, label=f"{slug}-{s}", project=slug) for s in ("ingest", "read", "export", "admin")}


@contextlib.contextmanager
def two_project_daemon(pg, dbname, name, origins, other_origins, with_base_url=False):
    """A started daemon whose project "test" allows `origins` (and its own base URL when
    with_base_url), plus a project "other" allowing `other_origins` with one key per scope in
    fd.other_keys; destroyed on exit."""
    from helpers import Feedbackd
    fd = Feedbackd(pg.conninfo(dbname), name=name)
    fd.origins = list(origins) + ([fd.base_url] if with_base_url else [])
    try:
        fd.setup()
        fd.other_keys = second_project(fd, "other", origins=tuple(other_origins))
        fd.start()
        yield fd
    finally:
        fd.destroy()


def project_id(db_sql, slug):
    return db_sql("SELECT id FROM projects WHERE slug = %s", (slug,))[0][0]


def stored_count(fd, kind):
    """feedbackd_events_stored_total{kind} from /metrics."""
    text = fd.get("/metrics").text
    m = re.search(r'^feedbackd_events_stored_total\{kind="%s"\} (\d+)$' % kind, text, re.M)
    assert m, text
    return int(m.group(1))


def stats_events(fd, window):
    """totals.events of /v1/stats over `window` ({since, until})."""
    r = fd.get("/v1/stats", key="read", params=window)
    assert r.status_code == 200, r.text
    return r.json()["totals"]["events"]


def listed(fd, **params):
    """GET /v1/feedback (up to 500 items, these filters) as {id: item}."""
    r = fd.get("/v1/feedback", key="read", params=dict({"limit": 500}, **params))
    assert r.status_code == 200, r.text
    return {i["id"]: i for i in r.json()["items"]}


# -- checks shared by the kinds that are not ratings (test_reactions, test_signals) ----------

def day_window(day):
    """A /v1/stats window over the first 23 hours of `day` (YYYY-MM-DD)."""
    return {"since": f"{day}T00:00:00Z", "until": f"{day}T23:00:00Z"}


def check_idempotency(fd, ev, changed):
    """ev stored once (201), the same again a duplicate (200), `changed` (ev with the same id
    and another value) a conflict (409)."""
    assert fd.post("/v1/feedback", key="ingest", json=ev).status_code == 201
    assert fd.post("/v1/feedback", key="ingest", json=ev).status_code == 200
    r = fd.post("/v1/feedback", key="ingest", json=changed)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict", r.text


def check_counting_and_retraction(fd, evs, day, counting, retracted):
    """evs, all stored in one batch: /v1/stats counts `counting` events on `day`, and one less
    once evs[retracted] is retracted (a counting one)."""
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": evs})
    assert [x["status"] for x in r.json()["results"]] == ["stored"] * len(evs), r.text
    assert stats_events(fd, day_window(day)) == counting
    assert fd.delete(f"/v1/feedback/{evs[retracted]['id']}", key="ingest").status_code == 200
    assert stats_events(fd, day_window(day)) == counting - 1


def check_erasure(fd, ev, kind):
    """ev (with a user) stored, then DELETE /v1/users/{user}: ev is no longer listed."""
    assert fd.post("/v1/feedback", key="ingest", json=ev).status_code == 201
    assert fd.delete(f"/v1/users/{ev['user']}", key="admin").status_code == 200
    assert ev["id"] not in listed(fd, kind=kind)
