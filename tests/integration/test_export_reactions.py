"""reactions=true, signals=true and format=reward (docs/export.md "Reactions and signals"),
with the consent rule on the way (a rater opted out from the start; the consent-over-time
cases are in test_export_consent.py).

Random conversations of 2-3 siblings get random thumbs and scale ratings, emoji reactions
(repeated and retracted, anonymous ones too), implicit signals from the widget and detected
signals as the server stores them; some messages get edits or comparisons and signals (the
signal rule must leave them alone), some only dwell. After the events, the project's reaction
set changes (a name is dropped, a value changes, a name is added and used): reactions count
with the current set. Every expected record is computed by export_signals_model.py from what
was sent."""

import hashlib
import random

import pytest

import export_data as D
import export_signals_model as S
from ingest_helpers import new_id

T0 = 1767225600  # 2026-01-01T00:00:00Z
USERS = ["u1", "u2", "u3", "u4", "out", None]  # "out" opted out before any export
NEW_SET = [("love", 1.0), ("like", 1.0), ("laugh", 0.25), ("sad", -0.5), ("angry", -1.0), ("dislike", -1.0),
           ("fire", 0.75)]
EMOJI = {"love": "❤️", "like": "👍", "laugh": "😂", "wow": "😮", "sad": "😢", "angry": "😡", "dislike": "👎",
         "fire": "🔥"}
CLIENT_SIGNALS = ["copy", "share", "regenerate", "continue", "abandon", "dwell", "retry"]
DETECTED = ["detected_praise", "detected_complaint", "detected_correction"]


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Data:
    def __init__(self, fd, db_sql, rng):
        self.fd, self.sql, self.rng, self.t = fd, db_sql, rng, T0
        self.msgs, self.events = {}, []
        self.opted_out = {"out"}
        r = fd.put("/v1/users/out/consent", key="ingest", json={"train": False})
        assert r.status_code == 200, r.text
        self.post_messages()
        self.post_events()

    def consent(self, user):
        return user not in self.opted_out

    def model(self, fmt, **kw):
        m = S.Model(self.msgs, self.events, NEW_SET, self.consent)
        return m.export(fmt, **kw)

    def tick(self):
        self.t += 60
        return iso(self.t)

    def add(self, msgs, id, conv, parent, role, content, model=None):
        m = {"id": id, "conversation_id": conv, "role": role, "content": content, "parent_id": parent}
        if model:
            m["model"] = model
        msgs.append({k: v for k, v in m.items() if v is not None})
        self.msgs[id] = {"conv": conv, "parent": parent, "role": role, "content": content, "model": model}

    def post_messages(self):
        msgs, rng = [], self.rng
        for c in range(20):
            conv = f"rx-{c:02d}"
            parent = None
            if c % 5 == 0:
                self.add(msgs, f"{conv}-s", conv, None, "system", "Réponds brièvement. ✓")
                parent = f"{conv}-s"
            self.add(msgs, f"{conv}-u", conv, parent, "user", f"Question {c}: warum? 🤔")
            for a in range(rng.choice([2, 3])):
                self.add(msgs, f"{conv}-a{a}", conv, f"{conv}-u", "assistant", f"Answer {c}.{a} — ok 👍",
                         model=rng.choice(["rx-m1", "rx-m2"]))
        # the same prompt and completion in two conversations: reward keeps the first (rx-dup-a)
        for conv in ("rx-dup-a", "rx-dup-b"):
            self.add(msgs, f"{conv}-u", conv, None, "user", "Same question")
            self.add(msgs, f"{conv}-a0", conv, f"{conv}-u", "assistant", "Same answer", model="rx-m1")
        # an answer without a usable prompt (its parent is an assistant turn)
        self.add(msgs, "rx-bad-u", "rx-bad", None, "user", "Hi")
        self.add(msgs, "rx-bad-a", "rx-bad", "rx-bad-u", "assistant", "Hello", model="rx-m1")
        self.add(msgs, "rx-bad-b", "rx-bad", "rx-bad-a", "assistant", "Hello again", model="rx-m1")
        self.add(msgs, "rx-bad-c", "rx-bad", "rx-bad-a", "assistant", "Hello once more", model="rx-m1")
        r = self.fd.post("/v1/messages", key="ingest", json={"messages": msgs})
        assert r.status_code == 200 and all(x["status"] == "stored" for x in r.json()["results"]), r.text

    def send(self, ev, retract=False):
        return D.send_event(self.fd, self.events, ev, new_id("rx"), self.tick(), retract)

    def detected(self, mid, name):
        """A detected signal as the server stores it (docs/detection.md): user null, id det-…."""
        t = self.tick()
        eid = "det-" + hashlib.sha256(f"{mid}:{name}:{t}".encode()).hexdigest()[:32]
        self.sql("INSERT INTO feedback (project_id, id, kind, message_id, conversation_id, signal, created_at,"
                 " content_sha256, metadata) SELECT p.id, %s, 'signal', %s, %s, %s, %s::timestamptz, '\\x00',"
                 " '{\"detected\": {}}'::jsonb FROM projects p WHERE p.slug = %s",
                 (eid, mid, self.msgs[mid]["conv"], name, t, D.SLUG))
        self.events.append({"id": eid, "kind": "signal", "message_id": mid, "signal": name, "created_at": t,
                            "retracted": False})

    def signal(self, mid, name, retract=False):
        if name in DETECTED:
            self.detected(mid, name)
        else:
            self.send({"kind": "signal", "message_id": mid, "signal": name, "user": self.rng.choice(USERS),
                       "value": self.rng.randint(0, 90000) if name == "dwell" else None}, retract=retract)

    def post_events(self):
        rng = self.rng
        answers = sorted(m for m, v in self.msgs.items() if v["role"] == "assistant" and v["conv"].startswith("rx-")
                         and not v["conv"].startswith(("rx-dup", "rx-bad")))
        for mid in answers:
            mode = rng.random()
            if mode < 0.55:  # ratings and reactions
                for _ in range(rng.randint(0, 2)):
                    user = rng.choice(USERS)
                    if rng.random() < 0.5:
                        ev = {"kind": "rating", "message_id": mid, "value": rng.choice([-1, 1]), "user": user}
                    else:
                        ev = {"kind": "rating", "message_id": mid, "value": rng.randint(1, 5), "scale": 5,
                              "user": user}
                    self.send(ev, retract=rng.random() < 0.1)
                for _ in range(rng.randint(0, 4)):
                    name = rng.choice([n for n, _ in S.DEFAULT_SET])
                    user = rng.choice(USERS)
                    emoji = EMOJI[name] if rng.random() < 0.5 else name
                    self.send({"kind": "reaction", "message_id": mid, "emoji": emoji, "user": user},
                              retract=rng.random() < 0.15)
                    if user and rng.random() < 0.3:  # the same slot again: only the latest counts
                        self.send({"kind": "reaction", "message_id": mid, "emoji": name, "user": user},
                                  retract=rng.random() < 0.3)
            elif mode < 0.9:  # signals only
                for _ in range(rng.randint(1, 4)):
                    self.signal(mid, rng.choice(CLIENT_SIGNALS + DETECTED), retract=rng.random() < 0.1)
            else:  # only dwell: a tie for kto and reward
                self.signal(mid, "dwell")
        # explicit feedback keeps the signal rule away: an edit and a comparison on messages
        # that also have signals (and no ratings or reactions)
        sig_only = [m for m in answers if not any(e["message_id"] == m and e["kind"] in ("rating", "reaction")
                                                  for e in self.events)]
        edited = sig_only[0]
        self.signal(edited, "copy")
        self.send({"kind": "edit", "message_id": edited, "user": "u1",
                   "edited_content": self.msgs[edited]["content"] + " (edited)"})
        pair = next((a, b) for a in sig_only for b in sig_only
                    if a < b and self.msgs[a]["parent"] == self.msgs[b]["parent"] and edited not in (a, b))
        self.signal(pair[0], "regenerate")
        self.send({"kind": "comparison", "message_id": pair[0], "other_message_id": pair[1], "user": "u2",
                   "outcome": "preferred"})
        # the duplicate pair and the bad prompt
        self.send({"kind": "rating", "message_id": "rx-dup-a-a0", "value": 1, "user": "u1"})
        self.send({"kind": "reaction", "message_id": "rx-dup-b-a0", "emoji": "sad", "user": "u2"})
        self.send({"kind": "rating", "message_id": "rx-bad-b", "value": 1, "user": "u3"})
        self.send({"kind": "rating", "message_id": "rx-bad-a", "value": -1, "user": "out"})  # only opted out
        # invalid_prompt, but named only by the rater who opted out: no_consent instead
        self.send({"kind": "rating", "message_id": "rx-bad-c", "value": -1, "user": "out"})
        # a message rated only by the rater who opted out, and one with an opted-out reaction
        self.send({"kind": "rating", "message_id": answers[1], "value": 1, "user": "out"})
        # the set changes: wow goes, laugh is worth 0.25, fire comes and is used
        r = self.fd.patch("/v1/project", key="admin", json={"reactions": [
            {"name": n, "emoji": EMOJI[n], "value": v} for n, v in NEW_SET]})
        assert r.status_code == 200, r.text
        for mid in answers[2:6]:
            self.send({"kind": "reaction", "message_id": mid, "emoji": "🔥", "user": "u4"})
        self.events = [dict(e, emoji={v: k for k, v in EMOJI.items()}.get(e.get("emoji"), e.get("emoji")))
                       if e["kind"] == "reaction" else e for e in self.events]


@pytest.fixture(scope="module")
def data(feedbackd, db_sql):
    return Data(feedbackd, db_sql, random.Random(1212))


def manifest(fd, r):
    m = fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export")
    assert m.status_code == 200, m.text
    return m.json()


def check(data, fmt, **kw):
    """Export with these parameters; compare records (in order) and every skip counter."""
    params = {k: ("true" if v is True else v) for k, v in kw.items() if v not in (None, False)}
    r, body, recs = D.export(data.fd, format=fmt, **params)
    assert r.status_code == 200, r.text
    want, skipped = data.model(fmt, **{k: v for k, v in kw.items() if k in ("reactions", "signals", "since",
                                                                            "model", "split")})
    assert [D.canonical(x) for x in recs] == [D.canonical(w) for w, *_ in want]
    m = manifest(data.fd, r)
    assert set(m["skipped"]) == D.SKIP_KEYS
    for k in D.SKIP_KEYS:
        assert m["skipped"][k] == skipped.get(k, 0), (k, m["skipped"], dict(skipped))
    assert m["records"] == len(recs) and m["params"]["reactions"] == bool(kw.get("reactions")) and \
        m["params"]["signals"] == bool(kw.get("signals"))
    return recs, m, want, skipped


@pytest.mark.parametrize("reactions", [False, True])
@pytest.mark.parametrize("fmt", ["trl", "kto"])
def test_reactions_as_ratings(data, fmt, reactions):
    recs, m, want, skipped = check(data, fmt, reactions=reactions)
    assert len(recs) >= 3
    if reactions:  # reactions changed the records
        _, _, plain, _ = check(data, fmt)
        assert [D.canonical(w) for w, *_ in want] != [D.canonical(w) for w, *_ in plain]
    assert skipped["no_consent"] >= 1 and m["skipped"]["invalid_prompt"] == 1
    if fmt == "kto":
        assert m["by_label"]["true"] + m["by_label"]["false"] == len(recs)
    else:
        assert sum(m["by_origin"].values()) == len(recs)
        assert m["by_origin"]["ratings"] == sum(1 for *_, c in want if c["origin"] == "ratings")


@pytest.mark.parametrize("signals", [False, True])
def test_reward(data, signals):
    recs, m, want, skipped = check(data, "reward", signals=signals)
    assert "by_label" not in m and "by_origin" not in m
    assert skipped["duplicate"] == 1 and skipped["no_consent"] >= 1
    names = [n for n, _ in NEW_SET]
    for rec in recs:
        assert list(rec) == ["prompt", "completion", "reward", "n", "reactions"]
        assert list(rec["reactions"]) == names  # every name of the current set, in its order
    dup = [x for x in recs if x["completion"][0]["content"] == "Same answer"]
    assert len(dup) == 1 and dup[0]["reward"] == 1.0 and dup[0]["reactions"]["sad"] == 0  # rx-dup-a's
    fire = [x for x in recs if x["reactions"]["fire"]]
    assert fire, "reactions sent after the set changed count"
    assert not any("wow" in x["reactions"] for x in recs)
    if signals:
        assert skipped["tie"] >= 1 and any(c["origin"] == "signal" for *_, c in want)


@pytest.mark.parametrize("fmt", ["kto", "reward"])
def test_signals_origin_and_meta(data, fmt):
    recs, _, want, _ = check(data, fmt, signals=True)
    r, _, meta_recs = D.export(data.fd, format=fmt, signals="true", reactions="true" if fmt == "kto" else None,
                               include_meta="true")
    assert r.status_code == 200
    want, _ = data.model(fmt, signals=True, reactions=(fmt == "kto"))
    assert len(meta_recs) == len(want)
    origins = set()
    for rec, (w, conv, parent, c) in zip(meta_recs, want):
        assert D.without_meta(rec) == w
        meta = rec["meta"]
        origins.add(meta["origin"])
        assert meta["origin"] == c["origin"] and meta["conversation_id"] == conv and meta["parent_id"] == parent
        assert meta["model"] == c["models"][0]
        if "Same answer" not in D.canonical(w):  # the kept duplicate merges the other's evidence
            assert meta["feedback_ids"] == sorted({e["id"] for e in c["ev"]}, key=lambda s: s.encode())
        assert meta["split"] == D.split_of(conv)
    assert {"signal", "reaction", "ratings"} <= origins


def test_signals_give_kto_labels_only_without_explicit_feedback(data):
    _, _, want, _ = check(data, "kto", signals=True)
    by_text = {w["completion"][0]["content"]: c for w, _, _, c in want}
    for e in data.events:
        if e["kind"] in ("edit", "comparison"):
            for mid in (e["message_id"], e.get("other_message_id")):
                if mid:
                    c = by_text.get(data.msgs[mid]["content"])
                    assert c is None or c["origin"] != "signal"


@pytest.mark.parametrize("fmt", ["trl", "kto", "reward"])
def test_split_and_filters(data, fmt):
    kw = {"reactions": True} if fmt != "reward" else {"signals": True}
    for split in ("train", "test"):
        check(data, fmt, split=split, **kw)
    check(data, fmt, model="rx-m2", **kw)
    since = data.events[len(data.events) // 2]["created_at"]
    recs, _, _, _ = check(data, fmt, since=since, **kw)
    full, _, _, _ = check(data, fmt, **kw)
    assert 0 < len(recs) < len(full)


def test_other_formats_take_reactions(data):
    for fmt in ("trl-text", "openai", "hh"):
        r, _, recs = D.export(data.fd, format=fmt, reactions="true")
        assert r.status_code == 200, r.text
        _, _, plain = D.export(data.fd, format=fmt)
        assert len(recs) != len(plain) or recs != plain


@pytest.mark.parametrize("params,field", [
    ({"format": "sft", "reactions": "true"}, "reactions"),
    ({"format": "prm", "reactions": "true"}, "reactions"),
    ({"format": "spans", "reactions": "true"}, "reactions"),
    ({"format": "trl", "signals": "true"}, "signals"),
    ({"format": "sft", "signals": "true"}, "signals"),
    ({"format": "hh", "signals": "true"}, "signals"),
    ({"format": "kto", "reactions": "yes"}, "reactions"),
    ({"format": "kto", "signals": "1"}, "signals"),
    ({"format": "kto", "signals": ""}, "signals"),
    ({"format": "rewards"}, "format"),
])
def test_bad_parameters(data, params, field):
    r = data.fd.get("/v1/export", key="export", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_parameter" and r.json()["error"]["field"] == field


def test_false_is_the_default(data):
    _, body1, _ = D.export(data.fd, format="kto", reactions="false", signals="false")
    _, body2, _ = D.export(data.fd, format="kto")
    assert body1 == body2


def test_incremental_reward(data):
    fd = data.fd
    r, _, _ = D.export(fd, format="reward", signals="true", include_meta="true")
    wm = r.headers["X-Export-Watermark"]
    mid = "rx-07-a1"
    data.send({"kind": "reaction", "message_id": mid, "emoji": "fire", "user": "u9"})
    r, _, recs = D.export(fd, format="reward", signals="true", include_meta="true", after=wm)
    assert r.status_code == 200, r.text
    group = {("rx-07", "rx-07-u")}
    want, _ = data.model("reward", signals=True, only_groups=group)
    assert [D.without_meta(x) for x in recs] == [w for w, *_ in want]
    assert {(x["meta"]["conversation_id"], x["meta"]["parent_id"]) for x in recs} <= group
    assert any(x["completion"][0]["content"] == data.msgs[mid]["content"] and x["reactions"]["fire"] >= 1
               for x in recs)


def test_cli_equals_http(data, tmp_path):
    fd = data.fd
    for fmt, flags, params in (("reward", ["--signals"], {"signals": "true"}),
                               ("kto", ["--reactions", "--signals=true"], {"reactions": "true", "signals": "true"}),
                               ("trl", ["--reactions"], {"reactions": "true"})):
        out = tmp_path / f"{fmt}.jsonl"
        fd.cli("export", "--project", "test", "--format", fmt, *flags, "-o", str(out))
        _, body, _ = D.export(fd, format=fmt, **params)
        assert out.read_bytes() == body and body
    d = tmp_path / "reward"
    fd.cli("export", "--project", "test", "--format", "reward", "--signals", "--out", str(d))
    recs = D.parse_ndjson((d / "train.jsonl").read_text()) + D.parse_ndjson((d / "test.jsonl").read_text())
    want, _ = data.model("reward", signals=True)
    assert D.multiset(recs) == sorted(D.canonical(w) for w, *_ in want)
    card = (d / "README.md").read_text()
    assert "— reward export" in card and "- name: reward" in card and "- name: fire" in card
    import yaml
    features = yaml.safe_load(card.split("---")[1])["dataset_info"]["features"]
    reactions = next(f for f in features if f["name"] == "reactions")
    assert [x["name"] for x in reactions["struct"]] == [n for n, _ in NEW_SET]
    bad = fd.cli("export", "--project", "test", "--format", "sft", "--reactions", "-o", str(tmp_path / "x"),
                 check=False)
    assert bad.returncode == 2 and "--reactions" in bad.stderr


def test_detected_feedback_from_logged_turns(feedbackd_factory):
    """Signals detected in logged user turns (docs/detection.md) label the answer they judge
    with signals=true, and follow default_consent (they have no user)."""
    fd = feedbackd_factory()
    turns = []
    for c, reply in (("d1", "Perfect, thanks!"), ("d2", "That's wrong."), ("d3", "And what about Spain?")):
        turns += [{"id": f"{c}-u", "conversation_id": c, "role": "user", "content": f"Capital of France? ({c})"},
                  {"id": f"{c}-a", "conversation_id": c, "role": "assistant", "content": f"Paris. ({c})",
                   "parent_id": f"{c}-u", "model": "m"},
                  {"id": f"{c}-f", "conversation_id": c, "role": "user", "content": reply, "parent_id": f"{c}-a"}]
    r = fd.post("/v1/messages", key="ingest", json={"messages": turns})
    assert r.status_code == 200, r.text
    listed = fd.get("/v1/feedback", key="read", params={"kind": "signal"}).json()["items"]
    assert sorted((x["message_id"], x["signal"]) for x in listed) == [("d1-a", "detected_praise"),
                                                                     ("d2-a", "detected_complaint")]

    def prompt(c):
        return [{"role": "user", "content": f"Capital of France? ({c})"}]

    def A(c):
        return [{"role": "assistant", "content": f"Paris. ({c})"}]

    _, _, recs = D.export(fd, format="kto", signals="true")
    assert recs == [{"prompt": prompt("d1"), "completion": A("d1"), "label": True},
                    {"prompt": prompt("d2"), "completion": A("d2"), "label": False}]
    _, _, recs = D.export(fd, format="kto")
    assert recs == []
    zeros = {n: 0 for n, _ in S.DEFAULT_SET}
    _, _, recs = D.export(fd, format="reward", signals="true")
    assert recs == [{"prompt": prompt("d1"), "completion": A("d1"), "reward": 1.0, "n": 1, "reactions": zeros},
                    {"prompt": prompt("d2"), "completion": A("d2"), "reward": -1.0, "n": 1, "reactions": zeros}]
    assert fd.patch("/v1/project", key="admin", json={"default_consent": "none"}).status_code == 200
    r, _, recs = D.export(fd, format="kto", signals="true")
    assert recs == []
    m = fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
    assert m["skipped"]["no_consent"] == 2
