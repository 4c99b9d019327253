"""Detected feedback (docs/detection.md): a logged user turn whose parent is an assistant
message is classified, and praise / complaint / correction is stored as a `signal` event
(detected_praise, detected_complaint, detected_correction) on that parent, with the id
"det-" + SHA-256(conversation id "\\n" turn id)[:32], user null and metadata.detected =
{turn_id, match, rule}. Covered here against the real binary: POST /v1/messages and inline
context turns, the five languages (the class each turn should get comes from the labelled
set tests/data/detect/dev.tsv, written by people), no detection on assistant turns or when
the parent is no assistant message, retries and conflicts, the detect_feedback and
detect_phrases settings with their validation, retraction, erasure, listing and /metrics.
Expected ids and fields are computed here from the contract, never read back."""

import hashlib
import os

import pytest

from ingest_helpers import ctx_id, listed, new_id, stored_count

SIGNAL = {"praise": "detected_praise", "complaint": "detected_complaint", "correction": "detected_correction"}
DEV = os.path.join(os.path.dirname(__file__), "..", "data", "detect", "dev.tsv")


def det_id(conversation_id, turn_id):
    return "det-" + hashlib.sha256(f"{conversation_id}\n{turn_id}".encode("utf-8")).hexdigest()[:32]


def labelled(per_class=2):
    """The first `per_class` lines of each (language, class) of the dev part."""
    seen, out = {}, []
    with open(DEV, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            lang, cls, text = line.rstrip("\n").split("\t")
            if seen.get((lang, cls), 0) < per_class:
                seen[(lang, cls)] = seen.get((lang, cls), 0) + 1
                out.append((lang, cls, text))
    return out


def post_messages(fd, msgs, key="ingest"):
    r = fd.post("/v1/messages", key=key, json={"messages": msgs})
    assert r.status_code == 200, r.text
    return [x["status"] for x in r.json()["results"]]


def exchange(text, conv=None, user=None, answer_role="assistant", created_at=None):
    """A question, an answer (role answer_role) and the follow-up user turn `text`."""
    conv = conv or new_id("c")
    q, a, u = new_id("q"), new_id("a"), new_id("u")
    msgs = [{"id": q, "conversation_id": conv, "role": "user", "content": "What is the capital of Australia?"},
            {"id": a, "conversation_id": conv, "parent_id": q, "role": answer_role, "content": "Sydney."},
            {"id": u, "conversation_id": conv, "parent_id": a, "role": "user", "content": text}]
    if user:
        msgs[0]["user"] = user
    if created_at:
        msgs[2]["created_at"] = created_at
    return conv, a, u, msgs


def detected(fd):
    return {k: v for k, v in listed(fd, kind="signal").items() if k.startswith("det-")}


@pytest.fixture(autouse=True)
def default_settings(feedbackd):
    yield
    r = feedbackd.patch("/v1/project", key="admin", json={"detect_feedback": True, "detect_phrases": {}})
    assert r.status_code == 200, r.text


def check_event(ev, conv, answer, turn, text, cls):
    assert ev["kind"] == "signal" and ev["signal"] == SIGNAL[cls]
    assert ev["message_id"] == answer and ev["conversation_id"] == conv
    assert "user" not in ev and ev["retracted_at"] is None
    d = ev["metadata"]["detected"]
    assert set(ev["metadata"]) == {"detected"} and set(d) == {"turn_id", "match", "rule"}
    assert d["turn_id"] == turn
    assert d["match"] and d["match"] in text
    assert d["rule"].split(".")[0] in ("en", "de", "fr", "es", "pt", "project")


def test_settings_default(feedbackd):
    p = feedbackd.get("/v1/project", key="admin").json()
    assert p["detect_feedback"] is True
    assert p["detect_phrases"] == {"praise": [], "complaint": [], "correction": []}


def test_every_language_and_class(feedbackd):
    """The dev part's first two turns of each (language, class), each after its own answer:
    an event of that class on the answer for praise, complaint and correction; none for
    the hard negatives."""
    cases = labelled()
    assert {c[0] for c in cases} == {"en", "de", "fr", "es", "pt"} and len(cases) == 5 * 4 * 2
    before = stored_count(feedbackd, "signal")
    msgs, want = [], {}
    for lang, cls, text in cases:
        conv, a, u, m = exchange(text)
        msgs += m
        if cls != "none":
            want[det_id(conv, u)] = (conv, a, u, text, cls, lang)
    assert post_messages(feedbackd, msgs) == ["stored"] * len(msgs)
    got = {k: v for k, v in detected(feedbackd).items() if v["conversation_id"] in {w[0] for w in want.values()}
           or v["metadata"]["detected"]["turn_id"] in {m["id"] for m in msgs}}
    assert set(got) == set(want)
    for i, (conv, a, u, text, cls, lang) in want.items():
        check_event(got[i], conv, a, u, text, cls)
        assert got[i]["metadata"]["detected"]["rule"].startswith(lang + ".")
    assert stored_count(feedbackd, "signal") == before + len(want)


def test_created_at_is_the_turns_and_model_listed(feedbackd):
    conv, a, u, msgs = exchange("That's completely wrong.", created_at="2026-05-01T10:00:00.5Z")
    msgs[1]["model"] = "chat-det"
    post_messages(feedbackd, msgs)
    ev = detected(feedbackd)[det_id(conv, u)]
    check_event(ev, conv, a, u, msgs[2]["content"], "complaint")
    assert ev["created_at"] == "2026-05-01T10:00:00.500000Z" and ev["model"] == "chat-det"


@pytest.mark.parametrize("case", ["assistant_turn", "parent_is_user", "parent_is_system", "parent_unknown", "root"])
def test_nothing_without_an_assistant_parent(feedbackd, case):
    conv, a, u, msgs = exchange("Perfect, thanks!")
    if case == "assistant_turn":  # the judgement is in an assistant turn: never detected
        msgs[2]["role"] = "assistant"
    elif case == "parent_is_user":
        msgs[1]["role"] = "user"
    elif case == "parent_is_system":
        msgs[1]["role"] = "system"
    elif case == "parent_unknown":
        msgs[2]["parent_id"] = new_id("nowhere")
    else:
        del msgs[2]["parent_id"]
    before = stored_count(feedbackd, "signal")
    assert post_messages(feedbackd, msgs) == ["stored"] * 3
    assert det_id(conv, u) not in detected(feedbackd)
    assert stored_count(feedbackd, "signal") == before


def test_parent_logged_in_an_earlier_request(feedbackd):
    conv, a, u, msgs = exchange("No, the capital of Australia is Canberra.")
    post_messages(feedbackd, msgs[:2])
    post_messages(feedbackd, msgs[2:])
    check_event(detected(feedbackd)[det_id(conv, u)], conv, a, u, msgs[2]["content"], "correction")


def test_retries_store_once(feedbackd):
    conv, a, u, msgs = exchange("Thanks, that fixed it!")
    before = stored_count(feedbackd, "signal")
    assert post_messages(feedbackd, msgs) == ["stored"] * 3
    assert post_messages(feedbackd, msgs) == ["duplicate"] * 3
    # the same turn twice in one request, and once more alone
    assert post_messages(feedbackd, [msgs[2], msgs[2]]) == ["duplicate", "duplicate"]
    evs = [v for v in detected(feedbackd).values() if v["metadata"]["detected"]["turn_id"] == u]
    assert [e["id"] for e in evs] == [det_id(conv, u)]
    assert stored_count(feedbackd, "signal") == before + 1


def test_same_turn_twice_in_one_new_request(feedbackd):
    conv, a, u, msgs = exchange("Useless answer.")
    before = stored_count(feedbackd, "signal")
    assert post_messages(feedbackd, msgs + [msgs[2]]) == ["stored"] * 3 + ["duplicate"]
    assert det_id(conv, u) in detected(feedbackd)
    assert stored_count(feedbackd, "signal") == before + 1


def test_conflicting_resend_is_not_read(feedbackd):
    """A turn re-sent with the same id and other text is a conflict: the stored turn stays,
    and so does its detection (or its absence)."""
    conv, a, u, msgs = exchange("What else is there to see?")
    post_messages(feedbackd, msgs)
    changed = dict(msgs[2], content="That's wrong.")
    r = feedbackd.post("/v1/messages", key="ingest", json={"messages": [changed]})
    assert r.json()["results"][0]["error"]["code"] == "conflict"
    assert det_id(conv, u) not in detected(feedbackd)


def test_inline_context_turns(feedbackd):
    """Context [user, assistant, user]: the last user turn judges the assistant context turn
    above it; the judged message's own rating is stored as sent."""
    conv = new_id("c")
    ctx = [{"role": "user", "content": "Capital of Australia?"}, {"role": "assistant", "content": "Sydney."},
           {"role": "user", "content": "That's wrong."}]
    ev = {"id": new_id(), "kind": "rating", "message_id": new_id("m"), "value": -1,
          "message": {"conversation_id": conv, "content": "Sorry: Canberra."}, "context": ctx}
    before = stored_count(feedbackd, "signal")
    r = feedbackd.post("/v1/feedback", key="ingest", json=ev)
    assert r.status_code == 201, r.text
    turn = ctx_id(conv, 2, "user", ctx[2]["content"])
    answer = ctx_id(conv, 1, "assistant", ctx[1]["content"])
    check_event(detected(feedbackd)[det_id(conv, turn)], conv, answer, turn, ctx[2]["content"], "complaint")
    # a second event with the same context (another rater, or a retry) stores nothing new
    ev2 = dict(ev, id=new_id(), user="u-other")
    assert feedbackd.post("/v1/feedback/batch", key="ingest", json={"events": [ev2]}).status_code == 200
    assert stored_count(feedbackd, "signal") == before + 1
    # the first context turn has no parent, the assistant turn is no user turn: nothing else
    assert not [v for v in detected(feedbackd).values() if v["conversation_id"] == conv and v["id"] != det_id(conv, turn)]


def test_detection_off_and_on(feedbackd):
    r = feedbackd.patch("/v1/project", key="admin", json={"detect_feedback": False})
    assert r.status_code == 200 and r.json()["detect_feedback"] is False
    assert feedbackd.get("/v1/project", key="admin").json()["detect_feedback"] is False
    conv, a, u, msgs = exchange("Perfect, thank you!")
    post_messages(feedbackd, msgs)
    assert det_id(conv, u) not in detected(feedbackd)
    r = feedbackd.patch("/v1/project", key="admin", json={"detect_feedback": True})
    assert r.status_code == 200 and r.json()["detect_feedback"] is True
    conv2, a2, u2, msgs2 = exchange("Perfect, thank you!")
    post_messages(feedbackd, msgs2)
    check_event(detected(feedbackd)[det_id(conv2, u2)], conv2, a2, u2, msgs2[2]["content"], "praise")
    # a turn is read once, when it is first stored: logging it again now finds nothing
    assert post_messages(feedbackd, msgs[2:]) == ["duplicate"]
    assert det_id(conv, u) not in detected(feedbackd)


def test_project_phrases(feedbackd):
    phrases = {"praise": ["chef's kiss"], "complaint": ["meh answer", "Völlig daneben gegriffen"],
               "correction": ["the right figure is"]}
    r = feedbackd.patch("/v1/project", key="admin", json={"detect_phrases": phrases})
    assert r.status_code == 200, r.text
    assert r.json()["detect_phrases"] == phrases
    assert feedbackd.get("/v1/project", key="admin").json()["detect_phrases"] == phrases
    cases = [("Chef’s KISS", "praise", "project.praise.0"),             # case, typographic apostrophe
             ("honestly, meh answer", "complaint", "project.complaint.0"),
             ("vollig DANEBEN gegriffen!", "complaint", "project.complaint.1"),  # accents folded
             ("the right figure is 12", "correction", "project.correction.0"),
             ("chefs kissing", None, None),                              # whole words only
             ("is this a meh answer?", None, None)]                      # questions are not verdicts
    msgs, want = [], {}
    for text, cls, rule in cases:
        conv, a, u, m = exchange(text)
        msgs += m
        want[det_id(conv, u)] = (conv, a, u, text, cls, rule)
    post_messages(feedbackd, msgs)
    got = detected(feedbackd)
    for i, (conv, a, u, text, cls, rule) in want.items():
        if cls is None:
            assert i not in got, text
        else:
            check_event(got[i], conv, a, u, text, cls)
            assert got[i]["metadata"]["detected"]["rule"] == rule
    # replacing the phrases as a whole: classes left out have none
    r = feedbackd.patch("/v1/project", key="admin", json={"detect_phrases": {"praise": ["chef's kiss"]}})
    assert r.json()["detect_phrases"] == {"praise": ["chef's kiss"], "complaint": [], "correction": []}
    conv, a, u, msgs = exchange("meh answer")
    post_messages(feedbackd, msgs)
    assert det_id(conv, u) not in detected(feedbackd)


@pytest.mark.parametrize("body, field", [
    ({"detect_feedback": "yes"}, "detect_feedback"),
    ({"detect_feedback": 1}, "detect_feedback"),
    ({"detect_feedback": None}, "detect_feedback"),
    ({"detect_phrases": []}, "detect_phrases"),
    ({"detect_phrases": None}, "detect_phrases"),
    ({"detect_phrases": {"thanks": ["x"]}}, "detect_phrases.thanks"),
    ({"detect_phrases": {"praise": "great"}}, "detect_phrases.praise"),
    ({"detect_phrases": {"praise": ["ok", 1]}}, "detect_phrases.praise[1]"),
    ({"detect_phrases": {"complaint": [""]}}, "detect_phrases.complaint[0]"),
    ({"detect_phrases": {"complaint": ["?!"]}}, "detect_phrases.complaint[0]"),  # no word
    ({"detect_phrases": {"correction": [" ".join(["w"] * 13)]}}, "detect_phrases.correction[0]"),
    ({"detect_phrases": {"correction": ["x" * 201]}}, "detect_phrases.correction[0]"),
    ({"detect_phrases": {"praise": [f"p{i}" for i in range(101)]}}, "detect_phrases.praise"),
])
def test_settings_validation(feedbackd, body, field):
    r = feedbackd.patch("/v1/project", key="admin", json=body)
    assert r.status_code == 400, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("invalid_field", field)


def test_settings_limits_accepted(feedbackd):
    phrases = {"praise": [f"p{i}" for i in range(100)], "complaint": [" ".join(["w"] * 12)],
               "correction": ["é" * 100]}  # 200 bytes
    r = feedbackd.patch("/v1/project", key="admin", json={"detect_phrases": phrases})
    assert r.status_code == 200, r.text
    assert r.json()["detect_phrases"] == phrases


def test_settings_need_admin(feedbackd):
    for key in ("ingest", "read", "export"):
        assert feedbackd.patch("/v1/project", key=key, json={"detect_feedback": False}).status_code == 403


def test_retraction_sticks(feedbackd):
    conv, a, u, msgs = exchange("This is useless.")
    post_messages(feedbackd, msgs)
    i = det_id(conv, u)
    r = feedbackd.delete(f"/v1/feedback/{i}", key="ingest")
    assert r.status_code == 200 and r.json()["status"] == "retracted"
    when = r.json()["retracted_at"]
    post_messages(feedbackd, msgs)  # logging the turn again does not bring it back
    assert detected(feedbackd)[i]["retracted_at"] == when


def test_erasure_of_the_user(feedbackd):
    """Detected events are the feedback of the conversation's user: erasing that user
    deletes them (and counts them), other conversations keep theirs; the turns stay."""
    user, other = new_id("du"), new_id("du")
    conv, a, u, msgs = exchange("That's wrong.", user=user)
    conv2, a2, u2, msgs2 = exchange("That's wrong.", user=other)
    post_messages(feedbackd, msgs + msgs2)
    rated = {"id": new_id(), "kind": "rating", "message_id": a, "value": -1, "user": user}
    assert feedbackd.post("/v1/feedback", key="ingest", json=rated).status_code == 201
    assert det_id(conv, u) in detected(feedbackd)
    r = feedbackd.delete(f"/v1/users/{user}", key="admin")
    assert r.status_code == 200 and r.json() == {"user": user, "feedback_deleted": 2}
    got = detected(feedbackd)
    assert det_id(conv, u) not in got and det_id(conv2, u2) in got
    # the turn stays logged: logging it again is a duplicate and does not bring the event back
    assert post_messages(feedbackd, msgs[2:]) == ["duplicate"]
    assert det_id(conv, u) not in detected(feedbackd)


def test_listing_filters(feedbackd):
    conv, a, u, msgs = exchange("Great answer, thanks!")
    post_messages(feedbackd, msgs)
    i = det_id(conv, u)
    assert i in listed(feedbackd, kind="signal")
    assert i in listed(feedbackd)
    assert i not in listed(feedbackd, kind="rating")
    assert i not in listed(feedbackd, user="anyone")


def test_cli_show_and_set(feedbackd):
    import json
    shown = json.loads(feedbackd.cli("projects", "show", "test").stdout)
    assert shown["detect_feedback"] is True and shown["slug"] == "test"
    phrases = {"praise": ["top notch"]}
    r = feedbackd.cli("projects", "set", "test", "--detect-feedback", "off", "--detect-phrases", json.dumps(phrases))
    out = json.loads(r.stdout)
    want = {"praise": ["top notch"], "complaint": [], "correction": []}
    assert out["detect_feedback"] is False and out["detect_phrases"] == want
    p = feedbackd.get("/v1/project", key="admin").json()
    assert p["detect_feedback"] is False and p["detect_phrases"] == want
    assert json.loads(feedbackd.cli("projects", "set", "test", "--detect-feedback=on").stdout)["detect_feedback"] is True


@pytest.mark.parametrize("args, rc, says", [
    (["set", "test"], 2, "usage"),
    (["set", "test", "--detect-feedback", "maybe"], 2, "detect_feedback must be true or false"),
    (["set", "test", "--detect-phrases", "{nope"], 2, "not JSON"),
    (["set", "test", "--detect-phrases", '{"thanks": []}'], 2, "detect_phrases.thanks"),
    (["set", "test", "--detect-phrases", '{"praise": ["!!"]}'], 2, "detect_phrases.praise[0]"),
    (["set", "no-such-project", "--detect-feedback", "off"], 1, "no project"),
    (["show", "no-such-project"], 1, "no project"),
    (["show"], 2, "usage"),
])
def test_cli_errors(feedbackd, args, rc, says):
    r = feedbackd.cli("projects", *args, check=False)
    assert r.returncode == rc and says in r.stderr, (r.returncode, r.stderr)


def test_export_signals_true_uses_detected(feedbackd):
    """docs/export.md "Reactions and signals": with signals=true a message judged only by signals gets a KTO label from
    them; detected_praise counts +1, detected_complaint and detected_correction -1."""
    import json
    model = new_id("det-model")
    want = []
    for text, label, answer in (("Perfect, thanks!", True, "Canberra."), ("That's completely wrong.", False, "Perth."),
                                ("No, the capital of Australia is Canberra.", False, "Sydney.")):
        conv, a, u, msgs = exchange(text)
        msgs[1].update(model=model, content=answer)
        post_messages(feedbackd, msgs)
        want.append({"prompt": [{"role": "user", "content": msgs[0]["content"]}],
                     "completion": [{"role": "assistant", "content": msgs[1]["content"]}], "label": label})
    r = feedbackd.get("/v1/export", key="export", params={"format": "kto", "signals": "true", "model": model})
    assert r.status_code == 200, r.text
    got = [json.loads(line) for line in r.text.splitlines() if line.strip()]
    key = lambda x: json.dumps(x, sort_keys=True)  # noqa: E731
    assert sorted(map(key, got)) == sorted(map(key, want))
    r = feedbackd.get("/v1/export", key="export", params={"format": "kto", "model": model})
    assert r.status_code == 200 and not r.text.strip()  # without signals=true: nothing


def test_metrics_by_signal_name(feedbackd):
    import re

    def count(name):
        m = re.search(r'^feedbackd_signals_stored_total\{name="%s"\} (\d+)$' % name, feedbackd.get("/metrics").text, re.M)
        return int(m.group(1)) if m else 0
    before = {n: count(n) for n in SIGNAL.values()}
    msgs = []
    for text in ("Perfect, thanks!", "That's completely wrong.", "Useless answer."):
        msgs += exchange(text)[3]
    post_messages(feedbackd, msgs)
    assert count("detected_praise") == before["detected_praise"] + 1
    assert count("detected_complaint") == before["detected_complaint"] + 2
    assert count("detected_correction") == before["detected_correction"]


def test_change_by_another_process_takes_effect_within_ten_seconds(feedbackd):
    """The server keeps a project's detector for 10 s (docs/detection.md "Settings"): a change
    it did not make itself (the command line here, another replica in production) applies
    after that; an unchanged setting keeps working across the reload."""
    import time
    conv, a, u, msgs = exchange("Great answer, thanks!")
    post_messages(feedbackd, msgs)  # loads the detector (on)
    assert det_id(conv, u) in detected(feedbackd)
    time.sleep(10.5)
    conv, a, u, msgs = exchange("Great answer, thanks!")
    post_messages(feedbackd, msgs)  # reloaded, settings unchanged: still on
    assert det_id(conv, u) in detected(feedbackd)
    feedbackd.cli("projects", "set", "test", "--detect-feedback", "off")
    time.sleep(10.5)
    conv, a, u, msgs = exchange("Great answer, thanks!")
    post_messages(feedbackd, msgs)
    assert det_id(conv, u) not in detected(feedbackd)


def test_feedback_stored_webhook_for_detected(feedbackd, db_sql):
    """A detected event is announced like any stored event: a feedback.stored delivery is
    queued in the same commit (docs/api.md "Webhooks"), with its id, kind and message."""
    r = feedbackd.post("/v1/webhooks", key="admin",
                       json={"url": "https://hooks.example.com/detect", "events": ["feedback.stored"]})
    assert r.status_code == 201, r.text
    endpoint = r.json()["id"]
    try:
        conv, a, u, msgs = exchange("That's completely wrong.")
        post_messages(feedbackd, msgs)
        i = det_id(conv, u)
        rows = db_sql("SELECT payload FROM webhook_deliveries WHERE event = 'feedback.stored'"
                      " AND payload->'data'->>'id' = %s", (i,))
        assert len(rows) == 1
        data = rows[0][0]["data"]
        assert (data["kind"], data["message_id"], data["conversation_id"]) == ("signal", a, conv)
        assert data["signal"] == "detected_complaint" and "value" not in data
        post_messages(feedbackd, msgs)  # a retry announces nothing more
        assert db_sql("SELECT count(*) FROM webhook_deliveries WHERE payload->'data'->>'id' = %s", (i,))[0][0] == 1
    finally:
        assert feedbackd.delete(f"/v1/webhooks/{endpoint}", key="admin").status_code == 200
