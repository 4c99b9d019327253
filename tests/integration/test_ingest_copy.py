"""The writer's COPY (docs/architecture.md "The writer's COPY"): a batch of events only is stored
by binary COPY into feedback_ids and feedback; a batch holding an id already stored rolls back
and is written by the INSERT … ON CONFLICT statement; a batch of a project with a
feedback.stored endpoint is written by that statement from the start (its CTE builds the
payloads). What must not change: the stored rows, the answers' statuses, the registry.

The rows the COPY stores are compared column by column with the rows the INSERT path stores
for the same events (a second project that has a feedback.stored endpoint); which path ran is
read from feedbackd_ingest_copy_batches_total{result}, whose expected deltas are counted here."""

import re

import pytest

from helpers import metric_value
from ingest_helpers import second_project

TAG = 'Ü-✓ "q", \\ {b}'
TEXT = 'Ünïcödé — ✓ "quoted", back\\slash, {braces}, tab\there, NULL, emoji \U0001F600'
ANSWER = "Paris is the capital.\nIt is on the Seine.\nIt has the Louvre."

# every column the writer sends, compared between the two paths; created_at of an event that
# sent none is its receipt time, compared apart
COLUMNS = ("id, kind, message_id, conversation_id, user_ref, value, scale, tags, comment, edited_content,"
           " other_message_id, outcome, strength, metadata, encode(content_sha256, 'hex'), span_start, span_end,"
           " span_label, quote, step_index, reaction, signal, signal_value, edit_ratio IS NULL OR kind = 'edit',"
           " retracted_at, retracted_txid")


def sql(fd, query, params=None):
    return fd.pg.sql(query, params, dbname=re.search(r"dbname=(\S+)", fd.database_url).group(1))


def batches(fd):
    text = fd.metrics()
    return {r: metric_value(text, "feedbackd_ingest_copy_batches_total", result=r) for r in ("copy", "webhook", "fallback")}


def delta(before, after):
    return {k: after[k] - before[k] for k in before}


def post_batch(fd, key, events):
    r = fd.post("/v1/feedback/batch", key=key, json={"events": events})
    assert r.status_code == 200, r.text
    return [i["status"] if i["status"] != "error" else i["error"]["code"] for i in r.json()["results"]]


def events(prefix):
    at = "2026-11-30T10:11:12.345678Z"
    return [
        {"id": f"{prefix}-thumb", "kind": "rating", "message_id": "a1", "value": -1, "tags": ["inaccurate", TAG],
         "user": "u-1", "created_at": at, "metadata": {"model": "m", "nested": {"x": [1, 2.5, None, True]}, "t": TEXT}},
        {"id": f"{prefix}-scale", "kind": "rating", "message_id": "a1", "value": 4, "scale": 5, "created_at": at},
        {"id": f"{prefix}-comment", "kind": "comment", "message_id": "a1", "comment": TEXT, "user": "u-2",
         "created_at": "2025-01-02T03:04:05Z"},
        {"id": f"{prefix}-edit", "kind": "edit", "message_id": "a1", "edited_content": "Paris. " + TEXT,
         "created_at": at},
        {"id": f"{prefix}-cmp", "kind": "comparison", "message_id": "a1", "other_message_id": "a2",
         "outcome": "preferred", "strength": 2, "created_at": at},
        {"id": f"{prefix}-span", "kind": "span", "message_id": "a1", "start": 0, "end": 5, "label": "incorrect", "quote": ANSWER[:5],
         "created_at": at},
        {"id": f"{prefix}-step", "kind": "step", "message_id": "a1", "step": 1, "value": 1, "created_at": at},
        {"id": f"{prefix}-react", "kind": "reaction", "message_id": "a1", "emoji": "love", "created_at": at},
        {"id": f"{prefix}-dwell", "kind": "signal", "message_id": "a1", "signal": "dwell", "value": 1234.5,
         "created_at": at},
        {"id": f"{prefix}-copy", "kind": "signal", "message_id": "a1", "signal": "copy"},  # created_at: receipt
    ]


def store_messages(fd, key):
    msgs = [{"id": "q1", "conversation_id": "c1", "parent_id": None, "role": "user", "content": "Capital?"},
            {"id": "a1", "conversation_id": "c1", "parent_id": "q1", "role": "assistant", "content": ANSWER},
            {"id": "a2", "conversation_id": "c1", "parent_id": "q1", "role": "assistant", "content": "Lyon."}]
    r = fd.post("/v1/messages", key=key, json={"messages": msgs})
    assert r.status_code == 200, r.text


def rows(fd, slug):
    return sql(fd, f"SELECT {COLUMNS} FROM feedback WHERE project_id = (SELECT id FROM projects WHERE slug = %s)"
                   " ORDER BY seq", (slug,))


@pytest.fixture
def two(feedbackd_factory, pg):
    """A daemon with project "test" (no endpoint: COPY) and "other" (a feedback.stored endpoint:
    INSERT); no delivery threads, the deliveries stay in the outbox to be counted."""
    fd = feedbackd_factory(start=False, env={"FEEDBACKD_WEBHOOK_WORKERS": "0"})
    fd.pg = pg
    fd.other = second_project(fd)
    fd.start()
    sql(fd, "INSERT INTO webhook_endpoints (project_id, url, events, secret) SELECT id, 'https://hooks.example/x',"
            " '{feedback.stored}', 'whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdA==' FROM projects WHERE slug = 'other'")
    store_messages(fd, fd.keys["ingest"])
    store_messages(fd, fd.other["ingest"])
    return fd


def test_copy_stores_the_rows_the_insert_stores(two):
    fd = two
    b0 = batches(fd)
    evs = events("x")
    assert post_batch(fd, fd.keys["ingest"], evs) == ["stored"] * len(evs)
    b1 = batches(fd)
    assert delta(b0, b1) == {"copy": 1, "webhook": 0, "fallback": 0}
    assert post_batch(fd, fd.other["ingest"], evs) == ["stored"] * len(evs)
    assert delta(b1, batches(fd)) == {"copy": 0, "webhook": 1, "fallback": 0}

    by_copy, by_insert = rows(fd, "test"), rows(fd, "other")
    assert [r[0] for r in by_copy] == [e["id"] for e in evs]  # seq follows the batch's order
    assert by_copy == by_insert
    # what the values must be, from the events themselves (not read back from either path)
    thumb, dwell = by_copy[0], by_copy[8]
    assert thumb[7] == ["inaccurate", TAG] and thumb[13]["t"] == TEXT and thumb[13]["nested"]["x"] == [1, 2.5, None, True]
    assert (thumb[5], thumb[6]) == (-1, 2)
    assert by_copy[2][8] == TEXT and by_copy[1][7] == [] and by_copy[1][6] == 5
    assert dwell[22] == 1234.5 and by_copy[9][22] is None
    assert by_copy[5][15:19] == (0, 5, "incorrect", ANSWER[:5])
    # created_at: as sent; the event without one has its receipt time, before received_at
    got = sql(fd, "SELECT p.slug, f.id, f.created_at = %s::timestamptz, f.created_at <= f.received_at"
                  " FROM feedback f JOIN projects p ON p.id = f.project_id WHERE f.id LIKE 'x-%%' ORDER BY 1, f.seq",
              ("2026-11-30T10:11:12.345678Z",))
    for slug, ident, same, before in got:
        assert before, (slug, ident)
        assert same == (ident not in ("x-comment", "x-copy")), (slug, ident)
    # the id registry: one row per event, received_at the feedback row's
    reg = sql(fd, "SELECT count(*), count(*) FILTER (WHERE i.received_at = f.received_at) FROM feedback_ids i"
                  " JOIN feedback f ON f.project_id = i.project_id AND f.id = i.id")
    assert reg == [(2 * len(evs), 2 * len(evs))]
    # deliveries for the INSERT path's project only, one per stored event
    assert sql(fd, "SELECT p.slug, count(*) FROM webhook_deliveries d JOIN projects p ON p.id = d.project_id"
                   " GROUP BY 1") == [("other", len(evs))]


def test_a_stored_id_rolls_the_copy_back_and_the_insert_settles_each_item(two):
    fd = two
    key = fd.keys["ingest"]
    first = [{"id": f"f-{i}", "kind": "rating", "message_id": "a1", "value": 1} for i in range(3)]
    b0 = batches(fd)
    assert post_batch(fd, key, first) == ["stored"] * 3
    # within one batch: the first occurrence is stored by COPY, the others settle against it
    again = [{"id": "w-1", "kind": "rating", "message_id": "a1", "value": 1}]
    assert post_batch(fd, key, again + again + [dict(again[0], value=-1)]) == ["stored", "duplicate", "conflict"]
    b1 = batches(fd)
    assert delta(b0, b1) == {"copy": 2, "webhook": 0, "fallback": 0}
    # a stored id in the batch: the COPY fails on feedback_ids' key, the INSERT writes the new ones
    new = [{"id": f"n-{i}", "kind": "comment", "message_id": "a1", "comment": f"c{i}"} for i in range(2)]
    mixed = [first[0], new[0], dict(first[1], value=-1), new[1], new[0]]
    assert post_batch(fd, key, mixed) == ["duplicate", "stored", "conflict", "stored", "duplicate"]
    assert delta(b1, batches(fd)) == {"copy": 0, "webhook": 0, "fallback": 1}
    got = sql(fd, "SELECT f.id, f.value, f.comment FROM feedback f JOIN projects p ON p.id = f.project_id"
                  " WHERE p.slug = 'test' ORDER BY f.seq")
    assert got == [("f-0", 1, None), ("f-1", 1, None), ("f-2", 1, None), ("w-1", 1, None),
                   ("n-0", None, "c0"), ("n-1", None, "c1")]
    assert sql(fd, "SELECT count(*) FROM feedback_ids i JOIN projects p ON p.id = i.project_id"
                   " WHERE p.slug = 'test'") == [(6,)]
    # single events take the same way: a new one by COPY, a resent one (200) by the INSERT
    r = fd.post("/v1/feedback", key=key, json={"id": "s-1", "kind": "rating", "message_id": "a1", "value": 1})
    assert r.status_code == 201, r.text
    r = fd.post("/v1/feedback", key=key, json={"id": "s-1", "kind": "rating", "message_id": "a1", "value": 1})
    assert r.status_code == 200, r.text
    assert delta(b1, batches(fd)) == {"copy": 1, "webhook": 0, "fallback": 2}
