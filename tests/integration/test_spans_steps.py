"""Kinds span and step (docs/api.md "Span feedback", "Step feedback"): offsets in Unicode code
points of the judged message, checked against stored and inline messages; quotes; step indexes
into the non-blank lines; the project's span labels; listing, idempotency, retraction,
erasure and /metrics. Answers are random text with multi-byte characters, emoji and
combining marks, so a byte or UTF-16 count would land elsewhere; every expected offset and
step is computed here with Python's str (which indexes code points)."""

import random

import pytest

from helpers import error_body, metric_value
from ingest_helpers import new_id

# ASCII, Latin with precomposed and combining accents, CJK, emoji (astral: 4 UTF-8 bytes,
# 2 UTF-16 units), a ZWJ sequence and a flag (several code points per glyph)
ALPHABET = ["a", "b", "Z", " ", "é", "e\u0301", "ß", "中", "文", "😀", "👩\u200d💻", "🇩🇪", "ñ", "Ω", ".", ","]
DEFAULT_LABELS = [{"name": "incorrect", "value": -1}, {"name": "irrelevant", "value": -1},
                  {"name": "incomplete", "value": -1}, {"name": "unsafe", "value": -1},
                  {"name": "well_said", "value": 1}]


def random_answer(rng, lines=5):
    out = []
    for _ in range(lines):
        out.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(3, 20))))
        if rng.random() < 0.4:
            out.append(rng.choice(["", "  ", "\t"]))  # blank lines are not steps
    return "\n".join(out)


def steps_of(text):
    """docs/api.md: split on "\\n", drop lines that are empty or only whitespace."""
    return [line for line in text.split("\n") if line.strip(" \t\r\v\f")]


def store_message(fd, mid, content):
    r = fd.post("/v1/messages", key="ingest", json={"messages": [
        {"id": mid, "conversation_id": "c-" + mid, "role": "assistant", "content": content}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "stored", r.text


def post(fd, ev):
    return fd.post("/v1/feedback", key="ingest", json=ev)


def invalid(resp, field, code="invalid_field"):
    assert resp.status_code == 400, resp.text
    err = error_body(resp)
    assert (err["code"], err["field"]) == (code, field), err


def listed(fd, query):
    r = fd.get(f"/v1/feedback?limit=500&{query}", key="read")
    assert r.status_code == 200, r.text
    return {e["id"]: e for e in r.json()["items"]}


@pytest.fixture(scope="module")
def rng():
    return random.Random(1313)


def test_span_offsets_are_code_points_of_a_stored_message(feedbackd, rng):
    for _ in range(20):
        mid = new_id("m-")
        text = random_answer(rng)
        store_message(feedbackd, mid, text)
        n = len(text)  # code points
        start = rng.randrange(0, n)
        end = rng.randint(start + 1, n)
        ev = {"id": new_id("s-"), "kind": "span", "message_id": mid, "start": start, "end": end,
              "label": rng.choice(DEFAULT_LABELS)["name"], "quote": text[start:end], "user": "u1"}
        r = post(feedbackd, ev)
        assert r.status_code == 201, (r.text, text, start, end)
        # one past the end, in code points, is refused; the byte length would be accepted by a
        # byte count, the UTF-16 length by a UTF-16 count
        invalid(post(feedbackd, dict(ev, id=new_id("s-"), start=0, end=n + 1, quote=None)), "end")
        if len(text.encode()) > n:
            invalid(post(feedbackd, dict(ev, id=new_id("s-"), start=0, end=len(text.encode()), quote=None)), "end")
        # the quote must be exactly content[start:end]: one code point off is refused
        if end < n:
            invalid(post(feedbackd, dict(ev, id=new_id("s-"), quote=text[start:end + 1])), "quote")
        invalid(post(feedbackd, dict(ev, id=new_id("s-"), quote=text[start:end] + "x")), "quote")


def test_span_against_inline_message_and_unknown_message(feedbackd, rng):
    text = random_answer(rng)
    n = len(text)
    inline = {"conversation_id": "c-inline-span", "content": text}
    base = {"kind": "span", "message_id": new_id("m-"), "label": "incorrect", "message": inline}
    r = post(feedbackd, dict(base, id=new_id("s-"), start=n - 1, end=n, quote=text[n - 1:]))
    assert r.status_code == 201, r.text
    invalid(post(feedbackd, dict(base, id=new_id("s-"), start=0, end=n + 1)), "end")
    invalid(post(feedbackd, dict(base, id=new_id("s-"), start=0, end=1, quote=text[1:2] + "?")), "quote")
    # unknown message: stored (an export skips it if it does not fit)
    r = post(feedbackd, {"id": new_id("s-"), "kind": "span", "message_id": new_id("m-nowhere-"), "start": 5,
                         "end": 10 ** 5, "label": "unsafe", "quote": "anything"})
    assert r.status_code == 201, r.text


def test_span_field_rules(feedbackd):
    mid = new_id("m-")
    store_message(feedbackd, mid, "héllo wörld")
    base = {"kind": "span", "message_id": mid, "start": 0, "end": 5, "label": "incorrect"}
    invalid(post(feedbackd, {k: v for k, v in base.items() if k != "start"}), "start", "missing_field")
    invalid(post(feedbackd, {k: v for k, v in base.items() if k != "end"}), "end", "missing_field")
    invalid(post(feedbackd, {k: v for k, v in base.items() if k != "label"}), "label", "missing_field")
    invalid(post(feedbackd, dict(base, start=-1)), "start")
    invalid(post(feedbackd, dict(base, start=3, end=3)), "end")
    invalid(post(feedbackd, dict(base, start=4, end=2)), "end")
    invalid(post(feedbackd, dict(base, start=1.0)), "start")
    invalid(post(feedbackd, dict(base, label="nonsense")), "label")
    invalid(post(feedbackd, dict(base, label="")), "label")
    invalid(post(feedbackd, dict(base, value=1)), "value")
    invalid(post(feedbackd, dict(base, step=1)), "step")
    invalid(post(feedbackd, {"kind": "rating", "message_id": mid, "value": 1, "start": 0}), "start")
    invalid(post(feedbackd, {"kind": "comment", "message_id": mid, "comment": "x", "label": "unsafe"}), "label")


def test_step_index_counts_non_blank_lines(feedbackd, rng):
    for _ in range(10):
        mid = new_id("m-")
        text = random_answer(rng)
        store_message(feedbackd, mid, text)
        k = len(steps_of(text))
        base = {"kind": "step", "message_id": mid, "user": "u2"}
        for i in range(k):
            r = post(feedbackd, dict(base, id=new_id("t-"), step=i, value=rng.choice([-1, 0, 1])))
            assert r.status_code == 201, r.text
        invalid(post(feedbackd, dict(base, id=new_id("t-"), step=k, value=1)), "step")
        # the number of lines (blank ones included) is past the last step when there are blanks
        lines = len(text.split("\n"))
        if lines > k:
            invalid(post(feedbackd, dict(base, id=new_id("t-"), step=lines - 1, value=1)), "step")


def test_step_field_rules(feedbackd):
    mid = new_id("m-")
    store_message(feedbackd, mid, "one\n\n  \ntwo")
    base = {"kind": "step", "message_id": mid, "step": 1, "value": 0}
    assert post(feedbackd, base).status_code == 201
    invalid(post(feedbackd, dict(base, step=2)), "step")
    invalid(post(feedbackd, dict(base, value=2)), "value")
    invalid(post(feedbackd, dict(base, value=-2)), "value")
    invalid(post(feedbackd, dict(base, step=-1)), "step")
    invalid(post(feedbackd, {k: v for k, v in base.items() if k != "step"}), "step", "missing_field")
    invalid(post(feedbackd, {k: v for k, v in base.items() if k != "value"}), "value", "missing_field")
    invalid(post(feedbackd, dict(base, start=0)), "start")
    # inline message: checked as sent; unknown message: kept
    inline = {"conversation_id": "c-step-inline", "content": "a\nb"}
    invalid(post(feedbackd, dict(base, message_id=new_id("m-"), step=2, message=inline)), "step")
    assert post(feedbackd, dict(base, message_id=new_id("m-"), step=1, message=inline)).status_code == 201
    assert post(feedbackd, dict(base, message_id=new_id("m-none-"), step=99)).status_code == 201


def test_batch_reports_each_invalid_item_and_stores_the_rest(feedbackd):
    mid = new_id("m-")
    text = "x😀y\nz"
    store_message(feedbackd, mid, text)
    events = [
        {"id": new_id("b-"), "kind": "span", "message_id": mid, "start": 1, "end": 2, "label": "unsafe", "quote": "😀"},
        {"id": new_id("b-"), "kind": "span", "message_id": mid, "start": 1, "end": 6, "label": "unsafe"},
        {"id": new_id("b-"), "kind": "rating", "message_id": mid, "value": 1},
        {"id": new_id("b-"), "kind": "step", "message_id": mid, "step": 2, "value": 1},
        {"id": new_id("b-"), "kind": "step", "message_id": mid, "step": 1, "value": -1},
    ]
    r = feedbackd.post("/v1/feedback/batch", key="ingest", json={"events": events})
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res] == ["stored", "error", "stored", "error", "stored"], res
    assert res[1]["error"]["field"] == "events[1].end" and res[3]["error"]["field"] == "events[3].step"
    assert [x["index"] for x in res] == list(range(5))
    got = listed(feedbackd, "")
    assert events[0]["id"] in got and events[4]["id"] in got and events[1]["id"] not in got


def test_project_span_labels(feedbackd):
    r = feedbackd.get("/v1/project", key="admin")
    assert r.status_code == 200 and r.json()["span_labels"] == DEFAULT_LABELS, r.text
    for bad in [[], "x", [{"name": "a"}], [{"name": "a", "value": 2}], [{"name": "", "value": 1}],
                [{"name": "a", "value": 1, "colour": "red"}], [{"name": "a", "value": 1}, {"name": "a", "value": -1}],
                [{"name": "a" * 65, "value": 1}], [{"name": "a", "value": 1.0}]]:
        invalid(feedbackd.patch("/v1/project", key="admin", json={"span_labels": bad}),
                "span_labels" if not isinstance(bad, list) or not bad else
                f"span_labels[{1 if len(bad) == 2 else 0}]")
    labels = [{"name": "hallucination", "value": -1}, {"name": "great", "value": 1}, {"name": "meh", "value": 0}]
    r = feedbackd.patch("/v1/project", key="admin", json={"span_labels": labels})
    assert r.status_code == 200 and r.json()["span_labels"] == labels, r.text
    assert feedbackd.get("/v1/project", key="admin").json()["span_labels"] == labels
    mid = new_id("m-")
    store_message(feedbackd, mid, "abc")
    base = {"kind": "span", "message_id": mid, "start": 0, "end": 1}
    assert post(feedbackd, dict(base, label="hallucination")).status_code == 201
    invalid(post(feedbackd, dict(base, label="incorrect")), "label")  # no longer a label
    # a name change keeps allowed_origins, and the labels stay
    origins = feedbackd.get("/v1/project", key="admin").json()["allowed_origins"]
    r = feedbackd.patch("/v1/project", key="admin", json={"name": "renamed"})
    assert r.json()["span_labels"] == labels and r.json()["allowed_origins"] == origins
    assert feedbackd.patch("/v1/project", key="admin", json={"span_labels": DEFAULT_LABELS}).status_code == 200


def test_listing_idempotency_retraction_erasure_metrics(feedbackd):
    before_span = metric_value(feedbackd.metrics(), "feedbackd_events_stored_total", kind="span") or 0
    before_step = metric_value(feedbackd.metrics(), "feedbackd_events_stored_total", kind="step") or 0
    mid = new_id("m-")
    text = "Ünïcode 👩‍💻 line\n\nsecond"
    store_message(feedbackd, mid, text)
    user = new_id("erase-me-")
    span = {"id": new_id("s-"), "kind": "span", "message_id": mid, "start": 8, "end": 11, "label": "well_said",
            "quote": text[8:11], "comment": "nice", "tags": ["t1"], "user": user}
    step = {"id": new_id("t-"), "kind": "step", "message_id": mid, "step": 1, "value": 0, "user": user}
    assert post(feedbackd, span).status_code == 201
    assert post(feedbackd, step).status_code == 201
    # idempotency: the same event again is a duplicate; the same id with other offsets a conflict
    r = post(feedbackd, span)
    assert (r.status_code, r.json()["status"]) == (200, "duplicate")
    r = post(feedbackd, dict(span, end=10, quote=text[8:10]))
    assert r.status_code == 409, r.text
    spans = listed(feedbackd, "kind=span")
    got = spans[span["id"]]
    assert {k: got[k] for k in ("kind", "start", "end", "label", "quote", "comment", "tags", "user")} == \
        {k: span[k] for k in ("kind", "start", "end", "label", "quote", "comment", "tags", "user")}
    assert "value" not in got and "step" not in got
    assert all(e["kind"] == "span" for e in spans.values())
    steps = listed(feedbackd, "kind=step")
    assert steps[step["id"]]["step"] == 1 and steps[step["id"]]["value"] == 0 and "scale" not in steps[step["id"]]
    assert all(e["kind"] == "step" for e in steps.values())
    # both carry the judged message's text, which the offsets and the step index point into
    assert got["original_content"] == text and got["original_content"][8:11] == span["quote"]
    assert steps[step["id"]]["original_content"] == text
    assert steps_of(steps[step["id"]]["original_content"])[1] == "second"
    text_m = feedbackd.metrics()
    assert metric_value(text_m, "feedbackd_events_stored_total", kind="span") == before_span + 1
    assert metric_value(text_m, "feedbackd_events_stored_total", kind="step") == before_step + 1
    # retraction
    r = feedbackd.delete(f"/v1/feedback/{span['id']}", key="ingest")
    assert r.status_code == 200 and r.json()["status"] == "retracted", r.text
    assert listed(feedbackd, "kind=span")[span["id"]]["retracted_at"] is not None
    # erasure removes both
    r = feedbackd.delete(f"/v1/users/{user}", key="admin")
    assert r.status_code == 200, r.text
    assert span["id"] not in listed(feedbackd, "kind=span") and step["id"] not in listed(feedbackd, "kind=step")


def test_latest_vote_per_span_and_per_step_in_stats(feedbackd):
    """A rater's latest event counts per (message, start, end, label) for spans and per
    (message, step) for steps: stats count one event per such slot."""
    def events(model):
        r = feedbackd.get(f"/v1/stats?model={model}&since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z",
                          key="read")
        assert r.status_code == 200, r.text
        return r.json()["totals"]["events"]
    model = new_id("model-")
    mid = new_id("m-")
    r = feedbackd.post("/v1/messages", key="ingest", json={"messages": [
        {"id": mid, "conversation_id": "c-" + mid, "role": "assistant", "content": "a😀b\nc\nd", "model": model}]})
    assert r.status_code == 200
    span = {"kind": "span", "message_id": mid, "user": "voter"}
    sent = [dict(span, start=0, end=2, label="incorrect"), dict(span, start=0, end=2, label="unsafe"),
            dict(span, start=0, end=3, label="incorrect"), dict(span, start=0, end=2, label="incorrect"),
            {"kind": "step", "message_id": mid, "user": "voter", "step": 0, "value": 1},
            {"kind": "step", "message_id": mid, "user": "voter", "step": 0, "value": -1},
            {"kind": "step", "message_id": mid, "user": "voter", "step": 2, "value": 0}]
    for i, ev in enumerate(sent):
        ev["created_at"] = f"2026-01-0{1 + i}T00:00:00Z"
        assert post(feedbackd, ev).status_code == 201
    # slots: (0,2,incorrect), (0,2,unsafe), (0,3,incorrect), step 0, step 2
    assert events(model) == 5


def test_listing_original_content_only_for_edits_spans_steps(feedbackd):
    """GET /v1/feedback: spans and steps carry original_content (the judged message's text) like
    edits; null while the message is not logged, filled in once it is; other kinds never."""
    mid = new_id("m-")
    text = "Première ligne 😀\nzweite Zeile"
    span = {"id": new_id("s-"), "kind": "span", "message_id": mid, "start": 0, "end": 8, "label": "incorrect"}
    step = {"id": new_id("t-"), "kind": "step", "message_id": mid, "step": 0, "value": 1}
    rating = {"id": new_id("r-"), "kind": "rating", "message_id": mid, "value": 1}
    for ev in (span, step, rating):
        assert post(feedbackd, ev).status_code == 201
    items = listed(feedbackd, "since=2000-01-01T00:00:00Z")
    assert items[span["id"]]["original_content"] is None
    assert items[step["id"]]["original_content"] is None
    assert "original_content" not in items[rating["id"]]
    store_message(feedbackd, mid, text)
    items = listed(feedbackd, "since=2000-01-01T00:00:00Z")
    assert items[span["id"]]["original_content"] == text
    assert items[span["id"]]["original_content"][0:8] == "Première"
    assert items[step["id"]]["original_content"] == text
    assert "original_content" not in items[rating["id"]]


def test_span_labels_readable_with_ingest_key(feedbackd):
    # GET /v1/span-labels: the labels for browser pages, with the ingest key they hold
    r = feedbackd.get("/v1/span-labels", key="ingest")
    assert r.status_code == 200, r.text
    assert r.json() == {"span_labels": DEFAULT_LABELS}
    for key in ("read", "export", "admin"):
        assert feedbackd.get("/v1/span-labels", key=key).status_code == (200 if key == "admin" else 403)
    assert feedbackd.get("/v1/span-labels").status_code == 401
    labels = [{"name": "made_up", "value": -1}, {"name": "spot_on", "value": 1}, {"name": "so_so", "value": 0}]
    try:
        assert feedbackd.patch("/v1/project", key="admin", json={"span_labels": labels}).status_code == 200
        assert feedbackd.get("/v1/span-labels", key="ingest").json() == {"span_labels": labels}
    finally:
        assert feedbackd.patch("/v1/project", key="admin", json={"span_labels": DEFAULT_LABELS}).status_code == 200
    assert feedbackd.get("/v1/span-labels", key="ingest").json() == {"span_labels": DEFAULT_LABELS}
