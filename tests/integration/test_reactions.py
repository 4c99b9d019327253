"""Kind "reaction" (docs/api.md "Reactions"): the project's reaction set in GET/PATCH
/v1/project and its validation, validation of reaction events (name or emoji character,
stored as the name), vote semantics in /v1/stats (the latest per rater, message and name
counts), idempotency, retraction, erasure, listing and /metrics. Expected values are
written out here from the contract, never read back from the server."""

import pytest

from ingest_helpers import (check_counting_and_retraction, check_erasure, check_idempotency, listed, new_id,
                            stored_count)

# The contract's default set: (name, emoji, value).
DEFAULT_SET = [("love", "\u2764\ufe0f", 1), ("like", "\U0001f44d", 1), ("laugh", "\U0001f602", 0.5),
               ("wow", "\U0001f62e", 0), ("sad", "\U0001f622", -0.5), ("angry", "\U0001f621", -1),
               ("dislike", "\U0001f44e", -1)]


def reaction(mid, emoji, **kw):
    return dict({"id": new_id("rx"), "kind": "reaction", "message_id": mid, "emoji": emoji}, **kw)


def test_default_set_in_project(feedbackd):
    got = feedbackd.get("/v1/project", key="admin").json()["reactions"]
    assert [(r["name"], r["emoji"], r["value"]) for r in got] == DEFAULT_SET


def test_reaction_by_name_and_by_emoji_stored_as_name(feedbackd):
    before = stored_count(feedbackd, "reaction")
    a, b = reaction("m-rx1", "love", user="u1"), reaction("m-rx1", "\U0001f44d", user="u1")
    for ev in (a, b):
        r = feedbackd.post("/v1/feedback", key="ingest", json=ev)
        assert r.status_code == 201, r.text
    items = listed(feedbackd, kind="reaction")
    assert items[a["id"]]["emoji"] == "love" and items[a["id"]]["kind"] == "reaction"
    assert items[b["id"]]["emoji"] == "like"
    assert "value" not in items[a["id"]]
    assert stored_count(feedbackd, "reaction") == before + 2
    assert all(i["kind"] == "reaction" for i in items.values())


@pytest.mark.parametrize("body, code, field", [
    ({"emoji": "heart"}, "invalid_field", "emoji"),  # not in the set
    ({"emoji": ""}, "invalid_field", "emoji"),
    ({"emoji": 3}, "invalid_field", "emoji"),
    ({"emoji": "x" * 33}, "invalid_field", "emoji"),
    ({}, "missing_field", "emoji"),
    ({"emoji": "love", "value": 1}, "invalid_field", "value"),  # a rating's field
    ({"emoji": "love", "signal": "copy"}, "invalid_field", "signal"),
])
def test_reaction_validation(feedbackd, body, code, field):
    ev = {"kind": "reaction", "message_id": "m-rx2"}
    ev.update(body)
    r = feedbackd.post("/v1/feedback", key="ingest", json=ev)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["field"] == field


def test_emoji_on_another_kind_is_invalid(feedbackd):
    r = feedbackd.post("/v1/feedback", key="ingest",
                       json={"kind": "rating", "message_id": "m", "value": 1, "emoji": "love"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "emoji"


def test_batch_item_with_unknown_emoji(feedbackd):
    good, bad = reaction("m-rx3", "wow"), reaction("m-rx3", "nope")
    r = feedbackd.post("/v1/feedback/batch", key="ingest", json={"events": [good, bad]})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert res[0]["status"] == "stored"
    assert res[1]["status"] == "error" and res[1]["error"]["field"] == "events[1].emoji"


def test_idempotency(feedbackd):
    ev = reaction("m-rx4", "sad", user="u9")
    check_idempotency(feedbackd, ev, dict(ev, emoji="angry"))


def test_vote_semantics_and_retraction_in_stats(feedbackd):
    """One rater: love, like, then love again on one message; another rater: angry. Counting:
    the latest love and the like of u1 (several names per message), u2's angry = 3 events.
    Retracting the like leaves 2."""
    day = "2026-03-04"
    evs = [reaction("m-rx5", "love", user="u1", created_at=f"{day}T01:00:00Z"),
           reaction("m-rx5", "like", user="u1", created_at=f"{day}T02:00:00Z"),
           reaction("m-rx5", "\u2764\ufe0f", user="u1", created_at=f"{day}T03:00:00Z"),
           reaction("m-rx5", "angry", user="u2", created_at=f"{day}T04:00:00Z")]
    check_counting_and_retraction(feedbackd, evs, day, counting=3, retracted=1)


def test_erasure_removes_reactions(feedbackd):
    check_erasure(feedbackd, reaction("m-rx6", "laugh", user=new_id("rx-user")), "reaction")


@pytest.mark.parametrize("reactions, field", [
    ([], "reactions"),
    ("love", "reactions"),
    ([{"name": "x", "emoji": "a", "value": 1}] * 2, "reactions[1].name"),
    ([{"name": "x", "emoji": "a", "value": 1}, {"name": "y", "emoji": "a", "value": 1}], "reactions[1].emoji"),
    ([{"name": "Bad", "emoji": "a", "value": 1}], "reactions[0].name"),
    ([{"name": "n" * 33, "emoji": "a", "value": 1}], "reactions[0].name"),
    ([{"name": "x", "emoji": "", "value": 1}], "reactions[0].emoji"),
    ([{"name": "x", "emoji": "e" * 33, "value": 1}], "reactions[0].emoji"),
    ([{"name": "x", "emoji": "a", "value": 1.5}], "reactions[0].value"),
    ([{"name": "x", "emoji": "a", "value": "1"}], "reactions[0].value"),
    ([{"name": "x", "emoji": "a"}], "reactions[0].value"),
    ([{"name": "x", "emoji": "a", "value": 1, "color": "red"}], "reactions[0].color"),
    ([{"name": f"r{i}", "emoji": f"e{i}", "value": 0} for i in range(33)], "reactions"),
])
def test_patch_reactions_validation(feedbackd, reactions, field):
    r = feedbackd.patch("/v1/project", key="admin", json={"reactions": reactions})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == {**r.json()["error"], "code": "invalid_field", "field": field}


def test_patch_reactions_replaces_the_set(feedbackd_factory):
    fd = feedbackd_factory()
    new_set = [{"name": "star", "emoji": "\u2b50", "value": 1}, {"name": "meh", "emoji": "\U0001f610", "value": -0.25}]
    old = reaction("m-rx7", "love")
    assert fd.post("/v1/feedback", key="ingest", json=old).status_code == 201  # loads the default set
    r = fd.patch("/v1/project", key="admin", json={"reactions": new_set})
    assert r.status_code == 200, r.text
    assert r.json()["reactions"] == new_set
    assert fd.get("/v1/project", key="admin").json()["reactions"] == new_set
    # the new set applies at once (the cached default is dropped)
    assert fd.post("/v1/feedback", key="ingest", json=reaction("m-rx7", "\u2b50")).status_code == 201
    r = fd.post("/v1/feedback", key="ingest", json=reaction("m-rx7", "love"))
    assert r.status_code == 400 and r.json()["error"]["field"] == "emoji"
    # events keep their name when the set changes
    assert listed(fd, kind="reaction")[old["id"]]["emoji"] == "love"


def test_reaction_set_readable_with_ingest_key(feedbackd):
    # GET /v1/reactions: the set for browser pages, with the ingest key they hold
    r = feedbackd.get("/v1/reactions", key="ingest")
    assert r.status_code == 200, r.text
    assert r.json() == {"reactions": [{"name": n, "emoji": e, "value": v} for n, e, v in DEFAULT_SET]}
    for key in ("read", "export", "admin"):
        assert feedbackd.get("/v1/reactions", key=key).status_code == (200 if key == "admin" else 403)
    assert feedbackd.get("/v1/reactions").status_code == 401


def test_reaction_set_endpoint_follows_patch(feedbackd):
    custom = [{"name": "star", "emoji": "\u2b50", "value": 1}, {"name": "meh", "emoji": "\U0001f610", "value": -0.25}]
    before = feedbackd.get("/v1/project", key="admin").json()["reactions"]
    try:
        r = feedbackd.patch("/v1/project", key="admin", json={"reactions": custom})
        assert r.status_code == 200, r.text
        assert feedbackd.get("/v1/reactions", key="ingest").json() == {"reactions": custom}
    finally:
        assert feedbackd.patch("/v1/project", key="admin", json={"reactions": before}).status_code == 200
    assert feedbackd.get("/v1/reactions", key="ingest").json() == {"reactions": before}
