"""Kind "signal" (docs/api.md "Implicit signals"): the names, dwell's value rule, that
signals are not votes (every non-retracted one counts in /v1/stats), idempotency,
retraction, erasure, listing and /metrics. Expected values are written out here."""

import pytest

from ingest_helpers import (check_counting_and_retraction, check_erasure, check_idempotency, listed, new_id,
                            stored_count)

NAMES = ["copy", "share", "regenerate", "continue", "abandon", "dwell", "retry"]


def signal(mid, name, **kw):
    return dict({"id": new_id("sg"), "kind": "signal", "message_id": mid, "signal": name}, **kw)


def test_every_name_is_stored_and_listed(feedbackd):
    before = stored_count(feedbackd, "signal")
    evs = [signal("m-sg1", n, **({"value": 1234.5} if n == "dwell" else {})) for n in NAMES]
    r = feedbackd.post("/v1/feedback/batch", key="ingest", json={"events": evs})
    assert [x["status"] for x in r.json()["results"]] == ["stored"] * len(NAMES), r.text
    items = listed(feedbackd, kind="signal")
    for ev in evs:
        got = items[ev["id"]]
        assert got["kind"] == "signal" and got["signal"] == ev["signal"]
        assert got.get("value") == ev.get("value")
    assert all(i["kind"] == "signal" for i in items.values())
    assert stored_count(feedbackd, "signal") == before + len(NAMES)


@pytest.mark.parametrize("body, code, field", [
    ({}, "missing_field", "signal"),
    ({"signal": "like"}, "invalid_field", "signal"),
    ({"signal": "detected_praise"}, "invalid_field", "signal"),  # stored by the server only
    ({"signal": 1}, "invalid_field", "signal"),
    ({"signal": "dwell"}, "missing_field", "value"),
    ({"signal": "dwell", "value": -1}, "invalid_field", "value"),
    ({"signal": "dwell", "value": "10"}, "invalid_field", "value"),
    ({"signal": "copy", "value": 3}, "invalid_field", "value"),
    ({"signal": "copy", "scale": 3}, "invalid_field", "scale"),
    ({"signal": "copy", "emoji": "love"}, "invalid_field", "emoji"),
])
def test_signal_validation(feedbackd, body, code, field):
    ev = {"kind": "signal", "message_id": "m-sg2"}
    ev.update(body)
    r = feedbackd.post("/v1/feedback", key="ingest", json=ev)
    assert r.status_code == 400, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == (code, field)


def test_dwell_zero_is_valid(feedbackd):
    r = feedbackd.post("/v1/feedback", key="ingest", json=signal("m-sg3", "dwell", value=0))
    assert r.status_code == 201, r.text


def test_idempotency(feedbackd):
    ev = signal("m-sg4", "copy", user="u1")
    check_idempotency(feedbackd, ev, dict(ev, signal="share"))


def test_signals_are_not_votes(feedbackd):
    """One rater copies one answer three times and regenerates it once: all 4 count; a
    retracted one stops counting."""
    day = "2026-05-06"
    evs = [signal("m-sg5", n, user="u1", created_at=f"{day}T0{i}:00:00Z")
           for i, n in enumerate(["copy", "copy", "copy", "regenerate"])]
    check_counting_and_retraction(feedbackd, evs, day, counting=4, retracted=0)


def test_erasure_removes_signals(feedbackd):
    check_erasure(feedbackd, signal("m-sg6", "share", user=new_id("sg-user")), "signal")
