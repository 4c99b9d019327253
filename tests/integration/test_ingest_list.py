"""GET /v1/feedback (docs/api.md "Reading feedback"): newest first by received_at (then arrival),
every filter, limit bounds and keyset pagination. The module's database holds exactly the
events seeded here, so every expected list is computed from the seed."""

import pytest

from ingest_helpers import new_id

MODELS = {"m-a": "chat-v7", "m-b": "chat-v8", "m-c": "chat-v7"}


@pytest.fixture(scope="module")
def seeded(feedbackd):
    """Posts the seed one request at a time (arrival order = list order) and returns it."""
    conv = "c-list"
    r = feedbackd.post("/v1/messages", key="ingest", json={"messages": [
        {"id": mid, "conversation_id": conv, "role": "assistant", "content": f"answer {mid}", "model": model}
        for mid, model in MODELS.items()]})
    assert r.status_code == 200
    events = []
    kinds = ["rating", "comment", "edit", "comparison"]
    for i in range(24):
        kind = kinds[i % 4]
        mid = list(MODELS)[i % 3] if i % 5 else "m-unknown"
        ev = {"id": f"L{i:02d}-{new_id('')[-6:]}", "kind": kind, "message_id": mid,
              "user": f"user{i % 3}", "created_at": f"2026-05-{1 + i:02d}T12:00:00Z"}
        if i % 2:
            ev["tags"] = ["slow"] if i % 3 else ["slow", "wrong"]
        if kind == "rating":
            ev["value"] = 1 if i % 8 else -1
        elif kind == "comment":
            ev["comment"] = f"comment {i}"
        elif kind == "edit":
            ev["edited_content"] = f"edit {i}"
        else:
            ev["other_message_id"] = "m-b" if mid != "m-b" else "m-a"
        r = feedbackd.post("/v1/feedback", key="ingest", json=ev)
        assert r.status_code == 201, r.text
        events.append(ev)
    # one batch: ten events sharing one transaction (one received_at): order by arrival
    batch = [{"id": f"B{i}-{new_id('')[-6:]}", "kind": "rating", "message_id": "m-c", "value": 1,
              "user": "batchuser", "created_at": "2026-06-01T00:00:00Z"} for i in range(10)]
    r = feedbackd.post("/v1/feedback/batch", key="ingest", json={"events": batch})
    assert [x["status"] for x in r.json()["results"]] == ["stored"] * 10
    return events + batch  # arrival order


def ids(items):
    return [i["id"] for i in items]


def newest_first(events, pred=lambda e: True):
    return [e["id"] for e in reversed(events) if pred(e)]


def list_all(fd, query="", limit=500):
    r = fd.get(f"/v1/feedback?limit={limit}{'&' + query if query else ''}", key="read")
    assert r.status_code == 200, r.text
    return r.json()


def test_no_filter_newest_first(feedbackd, seeded):
    page = list_all(feedbackd)
    assert set(page) == {"items", "next_cursor"}
    assert page["next_cursor"] is None
    assert ids(page["items"]) == newest_first(seeded)


def test_default_limit_is_50(feedbackd, seeded):
    assert len(seeded) == 34
    page = feedbackd.get("/v1/feedback", key="read").json()
    assert ids(page["items"]) == newest_first(seeded)  # 34 < 50: all, no next page
    assert page["next_cursor"] is None


def test_item_fields(feedbackd, seeded):
    items = {i["id"]: i for i in list_all(feedbackd)["items"]}
    for ev in seeded:
        it = items[ev["id"]]
        for k, v in ev.items():
            if k == "created_at":
                assert it[k].startswith(v[:19]) and it[k].endswith("Z"), it
            else:
                assert it[k] == v, (k, it)
        assert it["received_at"] and it["retracted_at"] is None
        if ev["kind"] == "edit":
            expect = f"answer {ev['message_id']}" if ev["message_id"] in MODELS else None
            assert it["original_content"] == expect, it
        else:
            assert "original_content" not in it
        if ev["kind"] == "comparison":
            assert it["outcome"] == "preferred"


@pytest.mark.parametrize("kind", ["rating", "comment", "edit", "comparison"])
def test_filter_kind(feedbackd, seeded, kind):
    assert ids(list_all(feedbackd, f"kind={kind}")["items"]) == newest_first(seeded, lambda e: e["kind"] == kind)


@pytest.mark.parametrize("model", ["chat-v7", "chat-v8", "chat-none"])
def test_filter_model(feedbackd, seeded, model):
    expect = newest_first(seeded, lambda e: MODELS.get(e["message_id"]) == model)
    assert ids(list_all(feedbackd, f"model={model}")["items"]) == expect
    if model != "chat-none":
        assert expect


@pytest.mark.parametrize("tag", ["slow", "wrong", "none"])
def test_filter_tag(feedbackd, seeded, tag):
    assert ids(list_all(feedbackd, f"tag={tag}")["items"]) == newest_first(seeded, lambda e: tag in e.get("tags", []))


@pytest.mark.parametrize("user", ["user0", "user1", "batchuser", "nobody"])
def test_filter_user(feedbackd, seeded, user):
    assert ids(list_all(feedbackd, f"user={user}")["items"]) == newest_first(seeded, lambda e: e["user"] == user)


def test_filter_since_until_on_created_at(feedbackd, seeded):
    since, until = "2026-05-05T00:00:00Z", "2026-05-10T06:00:00+00:00"
    # created_at of the seed: 2026-05-DD 12:00 UTC; since inclusive, until exclusive (05-10 12:00 is after until)
    expect = newest_first(seeded, lambda e: "2026-05-05" <= e["created_at"][:10] <= "2026-05-09")
    assert len(expect) == 5
    from urllib.parse import quote
    assert ids(list_all(feedbackd, f"since={quote(since)}&until={quote(until)}")["items"]) == expect
    assert ids(list_all(feedbackd, f"since={quote('2026-05-31T00:00:00+02:00')}")["items"]) == \
        newest_first(seeded, lambda e: e["created_at"] >= "2026-05-30T22")


def test_filters_combine(feedbackd, seeded):
    expect = newest_first(seeded, lambda e: e["kind"] == "rating" and e["user"] == "user0" and "slow" in e.get("tags", []))
    assert ids(list_all(feedbackd, "kind=rating&user=user0&tag=slow")["items"]) == expect


@pytest.mark.parametrize("limit", [1, 2, 33, 34, 500])
def test_limit_bounds(feedbackd, seeded, limit):
    page = feedbackd.get(f"/v1/feedback?limit={limit}", key="read").json()
    assert ids(page["items"]) == newest_first(seeded)[:limit]
    assert (page["next_cursor"] is None) == (limit >= len(seeded))


@pytest.mark.parametrize("limit", [1, 3, 7, 10, 33])
def test_cursor_pagination_covers_everything_exactly_once(feedbackd, seeded, limit):
    got, cursor, pages = [], None, 0
    while True:
        q = f"/v1/feedback?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = feedbackd.get(q, key="read").json()
        assert 0 < len(page["items"]) <= limit
        got += ids(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 100
    assert got == newest_first(seeded)
    assert pages == -(-len(seeded) // limit)


def test_pagination_with_filter(feedbackd, seeded):
    got, cursor = [], None
    while True:
        page = feedbackd.get("/v1/feedback?limit=2&model=chat-v7" + (f"&cursor={cursor}" if cursor else ""),
                             key="read").json()
        got += ids(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert got == newest_first(seeded, lambda e: MODELS.get(e["message_id"]) == "chat-v7")


def test_new_events_do_not_disturb_a_running_pagination(feedbackd, seeded):
    page = feedbackd.get("/v1/feedback?limit=5", key="read").json()
    late = {"id": new_id(), "kind": "rating", "message_id": "m-a", "value": 1, "user": "late"}
    assert feedbackd.post("/v1/feedback", key="ingest", json=late).status_code == 201
    try:
        rest, cursor = [], page["next_cursor"]
        while cursor:
            p = feedbackd.get(f"/v1/feedback?limit=5&cursor={cursor}", key="read").json()
            rest += ids(p["items"])
            cursor = p["next_cursor"]
        assert ids(page["items"]) + rest == newest_first(seeded)
    finally:
        assert feedbackd.delete("/v1/users/late", key="admin").json() == {"user": "late", "feedback_deleted": 1}
