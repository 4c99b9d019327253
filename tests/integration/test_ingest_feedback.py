"""Ingestion API (docs/api.md "Conversation turns", "Feedback events"): every kind, idempotency,
inline message/context, batches, messages, retraction, latest-vote history — against the real
binary and PostgreSQL, checking both the HTTP answers and the stored rows."""

import json
import re
import threading

import pytest

from ingest_helpers import (compact, ctx_id, expect_error, item_error_ok, new_id, post_raw,
                            rating)

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def stored(fd, ev, key="ingest"):
    r = fd.post("/v1/feedback", key=key, json=ev)
    assert r.status_code == 201, r.text
    assert r.json() == {"id": ev["id"], "status": "stored"}
    return r


def row(db_sql, id, cols="kind, message_id, value, scale, comment, edited_content, other_message_id, outcome, strength, tags, user_ref"):
    rows = db_sql(f"SELECT {cols} FROM feedback WHERE id = %s", (id,))
    assert len(rows) == 1, rows
    return rows[0]


# -- kinds -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [1, -1])
def test_thumbs_without_scale(feedbackd, db_sql, value):
    ev = rating(value=value, user="u-thumbs", tags=["inaccurate"], comment="Lyon is not the capital.")
    stored(feedbackd, ev)
    kind, mid, v, scale, comment, *_, tags, user = row(db_sql, ev["id"])
    assert (kind, mid, v, scale, comment, tags, user) == ("rating", ev["message_id"], value, 2, "Lyon is not the capital.",
                                                          ["inaccurate"], "u-thumbs")


@pytest.mark.parametrize("value", [1, -1])
def test_thumbs_with_scale_2_is_the_same_thing(feedbackd, db_sql, value):
    ev = rating(value=value, scale=2)
    stored(feedbackd, ev)
    assert row(db_sql, ev["id"], "value, scale") == (value, 2)


@pytest.mark.parametrize("value,scale", [(0, None), (2, None), (0, 2), (2, 2), (-2, None)])
def test_thumbs_values_other_than_plus_minus_one_are_invalid(feedbackd, db_sql, value, scale):
    ev = rating(value=value)
    if scale:
        ev["scale"] = scale
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=ev), 400, "invalid_field", "value")
    assert db_sql("SELECT count(*) FROM feedback WHERE id = %s", (ev["id"],)) == [(0,)]


@pytest.mark.parametrize("scale", range(3, 11))
def test_scale_ratings_bounds(feedbackd, db_sql, scale):
    for value in (1, scale):
        ev = rating(value=value, scale=scale)
        stored(feedbackd, ev)
        assert row(db_sql, ev["id"], "value, scale") == (value, scale)
    for value in (0, scale + 1):
        expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(value=value, scale=scale)),
                     400, "invalid_field", "value")


@pytest.mark.parametrize("scale", [1, 11, 0, -3])
def test_scale_out_of_range(feedbackd, scale):
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(value=1, scale=scale)),
                 400, "invalid_field", "scale")


@pytest.mark.parametrize("bad", [1.5, "1", True, None])
def test_rating_value_must_be_an_integer(feedbackd, bad):
    ev = rating()
    ev["value"] = bad
    code = "missing_field" if bad is None else "invalid_field"
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=ev), 400, code, "value")


def test_rating_without_value(feedbackd):
    ev = rating()
    del ev["value"]
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=ev), 400, "missing_field", "value")


def test_comment(feedbackd, db_sql):
    ev = {"id": new_id(), "kind": "comment", "message_id": new_id("m"), "comment": "Cite your sources, please. 🙏"}
    stored(feedbackd, ev)
    assert row(db_sql, ev["id"], "kind, comment, value") == ("comment", "Cite your sources, please. 🙏", None)
    bad = {"id": new_id(), "kind": "comment", "message_id": "m1"}
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=bad), 400, "missing_field", "comment")


def test_edit_with_original_in_listing(feedbackd, db_sql):
    conv, mid, user = new_id("c"), new_id("m"), new_id("u")
    r = feedbackd.post("/v1/messages", key="ingest", json={"messages": [
        {"id": mid, "conversation_id": conv, "role": "assistant", "content": "Lyon.", "model": "chat-v7"}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored", r.text
    ev = {"id": new_id(), "kind": "edit", "message_id": mid, "user": user, "edited_content": "Paris."}
    stored(feedbackd, ev)
    assert row(db_sql, ev["id"], "kind, edited_content") == ("edit", "Paris.")
    items = feedbackd.get(f"/v1/feedback?user={user}", key="read").json()["items"]
    assert len(items) == 1
    assert items[0]["id"] == ev["id"] and items[0]["kind"] == "edit"
    assert items[0]["edited_content"] == "Paris."
    assert items[0]["original_content"] == "Lyon."
    assert items[0]["retracted_at"] is None and items[0]["received_at"]

    no_edit = {"id": new_id(), "kind": "edit", "message_id": mid}
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=no_edit), 400, "missing_field", "edited_content")


def test_edit_of_an_unknown_message_lists_original_content_null(feedbackd):
    user = new_id("u")
    ev = {"id": new_id(), "kind": "edit", "message_id": new_id("m"), "user": user, "edited_content": "New text."}
    stored(feedbackd, ev)
    items = feedbackd.get(f"/v1/feedback?user={user}", key="read").json()["items"]
    assert [i["id"] for i in items] == [ev["id"]]
    assert "original_content" in items[0] and items[0]["original_content"] is None


def test_comparison_outcomes_and_strength(feedbackd, db_sql):
    a, b = new_id("m"), new_id("m")
    ev = {"id": new_id(), "kind": "comparison", "message_id": a, "other_message_id": b, "user": "u42"}
    stored(feedbackd, ev)
    assert row(db_sql, ev["id"], "kind, message_id, other_message_id, outcome, strength") == \
        ("comparison", a, b, "preferred", None)
    for outcome in ("preferred", "tie", "both_bad"):
        for strength in (1, 2, 3):
            ev = {"id": new_id(), "kind": "comparison", "message_id": a, "other_message_id": b,
                  "outcome": outcome, "strength": strength}
            stored(feedbackd, ev)
            assert row(db_sql, ev["id"], "outcome, strength") == (outcome, strength)
    base = {"kind": "comparison", "message_id": a, "other_message_id": b}
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json={**base, "id": new_id(), "outcome": "better"}),
                 400, "invalid_field", "outcome")
    for s in (0, 4):
        expect_error(feedbackd.post("/v1/feedback", key="ingest", json={**base, "id": new_id(), "strength": s}),
                     400, "invalid_field", "strength")
    no_other = {"id": new_id(), "kind": "comparison", "message_id": a}
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=no_other), 400, "missing_field", "other_message_id")


def test_kind_and_message_id_are_required(feedbackd):
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json={"id": new_id(), "message_id": "m1", "value": 1}),
                 400, "missing_field", "kind")
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json={"id": new_id(), "kind": "thumbs", "message_id": "m1"}),
                 400, "invalid_field", "kind")
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json={"id": new_id(), "kind": "rating", "value": 1}),
                 400, "missing_field", "message_id")


def test_unknown_top_level_field(feedbackd, db_sql):
    ev = rating(score=3)
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=ev), 400, "unknown_field", "score")
    assert db_sql("SELECT count(*) FROM feedback WHERE id = %s", (ev["id"],)) == [(0,)]


def test_server_generates_a_uuid4_when_the_event_has_no_id(feedbackd, db_sql):
    ev = rating()
    del ev["id"]
    r = feedbackd.post("/v1/feedback", key="ingest", json=ev)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "stored" and UUID4.match(body["id"]), body
    assert row(db_sql, body["id"], "message_id") == (ev["message_id"],)


def test_created_at_is_the_clients_and_received_at_is_recorded(feedbackd, db_sql):
    ev = rating(created_at="2026-01-02T03:04:05.123456+02:00")
    stored(feedbackd, ev)
    ((created, received_later),) = db_sql(
        "SELECT created_at = '2026-01-02T01:04:05.123456Z'::timestamptz, received_at > created_at FROM feedback WHERE id = %s",
        (ev["id"],))
    assert created and received_later
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=rating(created_at="2026-01-02 03:04:05")),
                 400, "invalid_field", "created_at")


# -- inline message and context ---------------------------------------------------------------

def test_inline_message_and_context_turns_get_the_api_md_ids(feedbackd, db_sql):
    conv, mid = new_id("c"), new_id("m")
    context = [{"role": "system", "content": "Be terse."},
               {"role": "user", "content": "Capital of France?"},
               {"role": "assistant", "content": "Which France? 🇫🇷"},
               {"role": "user", "content": "The country."}]
    ev = {"id": new_id(), "kind": "rating", "message_id": mid, "value": 5, "scale": 5,
          "message": {"conversation_id": conv, "content": "Paris.", "model": "chat-v7"}, "context": context}
    stored(feedbackd, ev)
    ids = [ctx_id(conv, i, t["role"], t["content"]) for i, t in enumerate(context)]
    rows = db_sql("SELECT id, parent_id, role, content, model, conversation_id FROM messages WHERE conversation_id = %s",
                  (conv,))
    got = {r[0]: r[1:] for r in rows}
    assert set(got) == set(ids) | {mid}, got
    for i, (cid, t) in enumerate(zip(ids, context)):
        assert got[cid] == (ids[i - 1] if i else None, t["role"], t["content"], None, conv)
    assert got[mid] == (ids[-1], "assistant", "Paris.", "chat-v7", conv)
    assert row(db_sql, ev["id"], "conversation_id") == (conv,)

    # the same context with another answer: siblings (same parent), no new context rows
    mid2 = new_id("m")
    ev2 = {"id": new_id(), "kind": "rating", "message_id": mid2, "value": -1,
           "message": {"conversation_id": conv, "content": "Lyon.", "model": "chat-v7"}, "context": context}
    stored(feedbackd, ev2)
    assert db_sql("SELECT count(*) FROM messages WHERE conversation_id = %s", (conv,)) == [(len(context) + 2,)]
    assert db_sql("SELECT parent_id FROM messages WHERE id = %s", (mid2,)) == [(ids[-1],)]


def test_inline_comparison_both_answers_are_siblings(feedbackd, db_sql):
    conv, a, b = new_id("c"), new_id("m"), new_id("m")
    context = [{"role": "user", "content": "2+2?"}]
    ev = {"id": new_id(), "kind": "comparison", "message_id": a, "other_message_id": b, "outcome": "preferred",
          "message": {"conversation_id": conv, "content": "4"}, "other_message": {"content": "5"}, "context": context}
    stored(feedbackd, ev)
    parent = ctx_id(conv, 0, "user", "2+2?")
    assert sorted(db_sql("SELECT id, parent_id, content FROM messages WHERE conversation_id = %s", (conv,))) == \
        sorted([(parent, None, "2+2?"), (a, parent, "4"), (b, parent, "5")])


def test_context_with_message_parent_id_is_invalid(feedbackd):
    ev = {"id": new_id(), "kind": "rating", "message_id": new_id("m"), "value": 1,
          "message": {"conversation_id": "c1", "content": "x", "parent_id": "p1"},
          "context": [{"role": "user", "content": "q"}]}
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=ev), 400, "invalid_field", "message.parent_id")
    ev = {"id": new_id(), "kind": "rating", "message_id": new_id("m"), "value": 1,
          "message": {"conversation_id": "c1", "content": "x"},
          "context": [{"role": "user", "content": "q"}, {"role": "narrator", "content": "q"}]}
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json=ev), 400, "invalid_field", "context[1].role")


# -- idempotency -------------------------------------------------------------------------------

def test_retry_is_a_duplicate_and_changes_nothing(feedbackd, db_sql):
    ev = rating(user="u1", tags=["a", "b"], metadata={"x": 1, "y": [1, 2]})
    stored(feedbackd, ev)
    before = db_sql("SELECT seq, received_at, created_at FROM feedback WHERE id = %s", (ev["id"],))
    r = feedbackd.post("/v1/feedback", key="ingest", json=ev)
    assert r.status_code == 200 and r.json() == {"id": ev["id"], "status": "duplicate"}, r.text
    assert db_sql("SELECT seq, received_at, created_at FROM feedback WHERE id = %s", (ev["id"],)) == before


def test_reordered_keys_and_spacing_are_the_same_content(feedbackd):
    ev = rating(user="u1", tags=["x"], metadata={"a": 1, "b": {"c": [1, 2, 3]}})
    stored(feedbackd, ev)
    reordered = {k: ev[k] for k in reversed(list(ev))}
    reordered["metadata"] = {"b": {"c": [1, 2, 3]}, "a": 1}
    text = json.dumps(reordered, indent=3)
    assert text != json.dumps(ev)
    r = post_raw(feedbackd, "/v1/feedback", text)
    assert r.status_code == 200 and r.json() == {"id": ev["id"], "status": "duplicate"}, r.text


@pytest.mark.parametrize("change", [{"value": -1}, {"tags": ["y"]}, {"user": "u2"}, {"metadata": {"a": 2}},
                                    {"comment": "now with a comment"}, {"created_at": "2026-01-01T00:00:00Z"}])
def test_same_id_different_content_is_409(feedbackd, db_sql, change):
    ev = rating(user="u1", metadata={"a": 1})
    stored(feedbackd, ev)
    expect_error(feedbackd.post("/v1/feedback", key="ingest", json={**ev, **change}), 409, "conflict", any_field=True)
    assert row(db_sql, ev["id"], "value, user_ref") == (1, "u1")


def test_defaulted_created_at_is_not_compared(feedbackd):
    ev = rating()
    stored(feedbackd, ev)
    import time
    time.sleep(0.05)
    r = feedbackd.post("/v1/feedback", key="ingest", json=ev)
    assert r.status_code == 200 and r.json()["status"] == "duplicate"


def test_50_concurrent_posts_of_one_id_store_one_row(feedbackd, db_sql):
    ev = rating(user="u-race")
    barrier = threading.Barrier(50)
    statuses = []
    lock = threading.Lock()

    def post():
        import requests
        s = requests.Session()
        s.trust_env = False
        barrier.wait()
        r = s.post(feedbackd.base_url + "/v1/feedback", json=ev,
                   headers={"Authorization": f"Bearer {feedbackd.keys['ingest']}"}, timeout=30)
        with lock:
            statuses.append((r.status_code, r.json()))
        s.close()

    threads = [threading.Thread(target=post) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(s for s, _ in statuses)
    assert codes == [200] * 49 + [201], codes
    assert all(b == {"id": ev["id"], "status": "stored" if s == 201 else "duplicate"} for s, b in statuses)
    assert db_sql("SELECT count(*) FROM feedback WHERE id = %s", (ev["id"],)) == [(1,)]


# -- batch -------------------------------------------------------------------------------------

def test_batch_per_item_results(feedbackd, db_sql):
    good1, good2 = rating(), {"id": new_id(), "kind": "comment", "message_id": "m1", "comment": "ok"}
    bad_kind = {"id": new_id(), "kind": "vote", "message_id": "m1"}
    bad_tag = rating(tags=["a", "b", "c", "x" * 65])
    events = [good1, good2, bad_kind, good1, bad_tag, {**good2, "comment": "changed"}]
    r = feedbackd.post("/v1/feedback/batch", key="ingest", json={"events": events})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert list(r.json()) == ["results"]
    # compact JSON, each item's keys in the order index, id, status (the reply is written as
    # text by feedbackd, not by a JSON library)
    assert r.text == json.dumps(r.json(), separators=(",", ":"), ensure_ascii=False)
    assert [list(x)[:3] for x in res] == [["index", "id", "status"]] * 6
    assert len(res) == 6
    assert res[0] == {"index": 0, "id": good1["id"], "status": "stored"}
    assert res[1] == {"index": 1, "id": good2["id"], "status": "stored"}
    item_error_ok(res[2], 2, "invalid_field", "events[2].kind")
    assert res[3] == {"index": 3, "id": good1["id"], "status": "duplicate"}  # repeated inside one batch
    item_error_ok(res[4], 4, "invalid_field", "events[4].tags[3]")
    item_error_ok(res[5], 5, "conflict", res[5]["error"]["field"])
    ids = [e["id"] for e in events]
    assert sorted(db_sql("SELECT id FROM feedback WHERE id = ANY(%s)", (ids,))) == sorted([(good1["id"],), (good2["id"],)])
    assert db_sql("SELECT comment FROM feedback WHERE id = %s", (good2["id"],)) == [("ok",)]


def test_batch_item_paths(feedbackd):
    events = [rating(), rating(), {"kind": "rating"}, "not an object", rating(extra=1)]
    r = feedbackd.post("/v1/feedback/batch", key="ingest", json={"events": events})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    item_error_ok(res[2], 2, "missing_field", "events[2].message_id")
    item_error_ok(res[3], 3, "invalid_field", "events[3]")
    item_error_ok(res[4], 4, "unknown_field", "events[4].extra")


@pytest.mark.parametrize("body,status,code,field", [
    ({}, 400, "missing_field", "events"),
    ({"events": {}}, 400, "invalid_field", "events"),
    ({"events": [], "extra": 1}, 400, "unknown_field", "extra"),
])
def test_batch_whole_body_errors(feedbackd, body, status, code, field):
    expect_error(feedbackd.post("/v1/feedback/batch", key="ingest", json=body), status, code, field)


def test_batch_of_1000_is_accepted_and_1001_is_413(feedbackd, db_sql):
    events = [rating(user="u-batch1000") for _ in range(1000)]
    r = feedbackd.post("/v1/feedback/batch", key="ingest", json={"events": events}, timeout=60)
    assert r.status_code == 200, r.text[:500]
    res = r.json()["results"]
    assert [x["index"] for x in res] == list(range(1000))
    assert all(x["status"] == "stored" and x["id"] == e["id"] for x, e in zip(res, events))
    assert db_sql("SELECT count(*) FROM feedback WHERE user_ref = 'u-batch1000'") == [(1000,)]

    more = [rating(user="u-batch1001") for _ in range(1001)]
    expect_error(feedbackd.post("/v1/feedback/batch", key="ingest", json={"events": more}, timeout=60),
                 413, "payload_too_large", any_field=True)
    assert db_sql("SELECT count(*) FROM feedback WHERE user_ref = 'u-batch1001'") == [(0,)]


# -- messages ----------------------------------------------------------------------------------

def test_messages_tree_duplicates_and_conflicts(feedbackd, db_sql):
    conv = new_id("c")
    msgs = [
        {"id": new_id("m"), "conversation_id": conv, "parent_id": None, "role": "system", "content": "Be terse.",
         "user": "u-msg"},
        {"id": new_id("m"), "conversation_id": conv, "role": "user", "content": "Capital of France?"},
        {"id": new_id("m"), "conversation_id": conv, "role": "assistant", "content": "Lyon.", "model": "chat-v7"},
        {"id": new_id("m"), "conversation_id": conv, "role": "assistant", "content": "Paris.", "model": "chat-v7"},
    ]
    msgs[1]["parent_id"] = msgs[0]["id"]
    msgs[2]["parent_id"] = msgs[1]["id"]
    msgs[3]["parent_id"] = msgs[1]["id"]
    # a child whose parent arrives later in the same batch is fine
    order = [msgs[2], msgs[0], msgs[1], msgs[3]]
    r = feedbackd.post("/v1/messages", key="ingest", json={"messages": order})
    assert r.status_code == 200, r.text
    assert r.json() == {"results": [{"index": i, "id": m["id"], "status": "stored"} for i, m in enumerate(order)]}
    rows = dict((r[0], r[1:]) for r in db_sql(
        "SELECT id, parent_id, role, content, model FROM messages WHERE conversation_id = %s", (conv,)))
    assert rows == {m["id"]: (m.get("parent_id"), m["role"], m["content"], m.get("model")) for m in msgs}
    assert db_sql("SELECT user_ref FROM conversations WHERE id = %s", (conv,)) == [("u-msg",)]

    again = [msgs[0], {**msgs[2], "content": "Marseille."}, {"id": new_id("m"), "conversation_id": conv,
                                                               "role": "robot", "content": "x"}]
    r = feedbackd.post("/v1/messages", key="ingest", json={"messages": again})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert res[0] == {"index": 0, "id": msgs[0]["id"], "status": "duplicate"}
    item_error_ok(res[1], 1, "conflict", res[1]["error"]["field"])
    item_error_ok(res[2], 2, "invalid_field", "messages[2].role")
    assert db_sql("SELECT content FROM messages WHERE id = %s", (msgs[2]["id"],)) == [("Lyon.",)]


def test_messages_batch_limit(feedbackd):
    conv = new_id("c")
    ok = [{"id": new_id("m"), "conversation_id": conv, "role": "user", "content": str(i)} for i in range(1000)]
    r = feedbackd.post("/v1/messages", key="ingest", json={"messages": ok}, timeout=60)
    assert r.status_code == 200 and len(r.json()["results"]) == 1000
    assert all(x["status"] == "stored" for x in r.json()["results"])
    expect_error(feedbackd.post("/v1/messages", key="ingest", json={"messages": ok + ok[:1]}, timeout=60),
                 413, "payload_too_large", any_field=True)


# -- retraction and vote history ---------------------------------------------------------------

def test_retraction(feedbackd, db_sql):
    user = new_id("u")
    ev = rating(user=user)
    stored(feedbackd, ev)
    r = feedbackd.delete(f"/v1/feedback/{ev['id']}", key="ingest")
    assert r.status_code == 200, r.text
    ((retracted, still_there),) = db_sql("SELECT retracted_at IS NOT NULL, true FROM feedback WHERE id = %s", (ev["id"],))
    assert retracted and still_there
    items = feedbackd.get(f"/v1/feedback?user={user}", key="read").json()["items"]
    assert [i["id"] for i in items] == [ev["id"]] and items[0]["retracted_at"] is not None
    # a retry of the retraction does not fail; an unknown id is 404
    assert feedbackd.delete(f"/v1/feedback/{ev['id']}", key="ingest").status_code == 200
    expect_error(feedbackd.delete(f"/v1/feedback/{new_id()}", key="ingest"), 404, "not_found")
    # a retracted event is still the same id: a re-send is a duplicate, not a new row
    assert feedbackd.post("/v1/feedback", key="ingest", json=ev).status_code == 200
    assert db_sql("SELECT count(*) FROM feedback WHERE id = %s", (ev["id"],)) == [(1,)]


def test_latest_vote_history_is_kept(feedbackd, db_sql):
    user, mid = new_id("u"), new_id("m")
    first = rating(message_id=mid, user=user, value=1, created_at="2026-03-01T10:00:00Z")
    second = rating(message_id=mid, user=user, value=-1, created_at="2026-03-01T10:05:00Z")
    stored(feedbackd, first)
    stored(feedbackd, second)
    # both stay in history; the listing shows both, newest received first
    assert sorted(db_sql("SELECT id, value FROM feedback WHERE user_ref = %s", (user,))) == \
        sorted([(first["id"], 1), (second["id"], -1)])
    items = feedbackd.get(f"/v1/feedback?user={user}", key="read").json()["items"]
    assert [(i["id"], i["value"]) for i in items] == [(second["id"], -1), (first["id"], 1)]
    # retracting the latest leaves the earlier one unretracted in history
    assert feedbackd.delete(f"/v1/feedback/{second['id']}", key="ingest").status_code == 200
    assert sorted(db_sql("SELECT id, retracted_at IS NOT NULL FROM feedback WHERE user_ref = %s", (user,))) == \
        sorted([(first["id"], False), (second["id"], True)])


def test_admin_key_may_ingest(feedbackd):
    stored(feedbackd, rating(), key="admin")


def test_compact_body_helper_round_trip(feedbackd):
    # a body sent byte for byte (no client library re-encoding): non-ASCII stays as sent
    ev = {"id": new_id(), "kind": "comment", "message_id": "m1", "comment": "naïve café — 日本"}
    r = post_raw(feedbackd, "/v1/feedback", compact(ev))
    assert r.status_code == 201, r.text
    items = feedbackd.get("/v1/feedback?kind=comment&limit=500", key="read").json()["items"]
    assert any(i["id"] == ev["id"] and i["comment"] == ev["comment"] for i in items)
