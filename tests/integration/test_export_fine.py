"""format=prm and format=spans (docs/export.md "Fine-grained rules", "Formats"): records,
skipped counters (invalid_span, invalid_step, unlabelled, not_single_turn), split, filters,
include_meta, incremental exports and the CLI with its dataset card; and the manifest rule
that a comment names its message for unknown_turn / invalid_prompt in every format.

The data are random answers made of multi-byte characters, emoji and combining marks over
several lines, with random span and step votes by several raters (repeated votes, retractions,
anonymous events, events stored before their message). Every expected record is computed here
from what was sent, with Python's str (code points) — never from the server's answers."""

import random
from collections import defaultdict

import pytest

import export_data as D
from ingest_helpers import new_id

ALPHABET = ["a", "b", "Z", " ", "é", "e\u0301", "ß", "中", "文", "😀", "👩\u200d💻", "🇩🇪", "ñ", "Ω", ".", ","]
LABEL_VALUE = {"incorrect": -1, "irrelevant": -1, "incomplete": -1, "unsafe": -1, "well_said": 1}
USERS = ["u1", "u2", "u3", None]
T0 = 1767225600  # 2026-01-01T00:00:00Z


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def steps_of(text):
    return [line for line in text.split("\n") if line.strip(" \t\r\v\f")]


def random_answer(rng, tag):
    lines = [tag]  # a unique first step: no two answers are equal (no dedup in play)
    for _ in range(rng.randint(1, 4)):
        lines.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(2, 12))))
        if rng.random() < 0.3:
            lines.append(rng.choice(["", " ", "\t "]))
    return "\n".join(lines)


class Data:
    """What was sent, and the expected records computed from it."""

    def __init__(self, fd, rng):
        self.fd, self.rng, self.t = fd, rng, T0
        self.msgs = {}        # id -> (conversation, content, model, prompt turns or None when invalid, single)
        self.events = []      # every event sent (dicts, with "retracted")
        self.post_messages()
        self.post_events()

    def tick(self):
        self.t += 60
        return iso(self.t)

    def post_messages(self):
        msgs = []
        rng = self.rng
        for c in range(8):
            conv = f"fine-{c}"
            multi = c % 4 == 3  # system + user prompt: not_single_turn for prm
            turns, parent = [], None
            if multi:
                turns.append(("system", "Sei knapp. ✓"))
                msgs.append({"id": f"{conv}-s", "conversation_id": conv, "role": "system", "content": turns[-1][1]})
                parent = f"{conv}-s"
            turns.append(("user", f"Frage {c}: wie geht das? 🤔"))
            msgs.append({"id": f"{conv}-u", "conversation_id": conv, "role": "user", "content": turns[-1][1],
                         "parent_id": parent})
            for a in range(2):
                mid = f"{conv}-a{a}"
                content = random_answer(rng, f"answer {c}.{a}")
                model = "fine-x" if a == 0 else "fine-y"
                msgs.append({"id": mid, "conversation_id": conv, "role": "assistant", "content": content,
                             "parent_id": f"{conv}-u", "model": model})
                self.msgs[mid] = {"conv": conv, "content": content, "model": model,
                                  "prompt": [{"role": r, "content": x} for r, x in turns], "single": not multi}
        r = self.fd.post("/v1/messages", key="ingest", json={"messages": msgs})
        assert r.status_code == 200 and all(x["status"] == "stored" for x in r.json()["results"]), r.text

    def send(self, ev, retract=False):
        return D.send_event(self.fd, self.events, ev, new_id("f"), self.tick(), retract)

    def post_events(self):
        rng = self.rng
        for mid, m in self.msgs.items():
            text, n_steps = m["content"], len(steps_of(m["content"]))
            for _ in range(rng.randint(0, 6)):
                start = rng.randrange(len(text))
                end = rng.randint(start + 1, min(len(text), start + 6))
                label = rng.choice(list(LABEL_VALUE))
                user = rng.choice(USERS)
                self.send({"kind": "span", "message_id": mid, "start": start, "end": end, "label": label,
                           "quote": text[start:end], "user": user}, retract=rng.random() < 0.1)
                if user and rng.random() < 0.3:  # the same slot again: only the latest counts
                    self.send({"kind": "span", "message_id": mid, "start": start, "end": end, "label": label,
                               "user": user}, retract=rng.random() < 0.2)
            for _ in range(rng.randint(0, 10)):
                self.send({"kind": "step", "message_id": mid, "step": rng.randrange(min(n_steps, 3)),
                           "value": rng.choice([-1, 0, 1, 1]), "user": rng.choice(USERS)},
                          retract=rng.random() < 0.1)
        # events stored before their message, which then does not fit them
        late = "late-a0"
        self.send({"kind": "span", "message_id": late, "start": 3, "end": 50, "label": "unsafe", "user": "u1"})
        self.send({"kind": "span", "message_id": late, "start": 0, "end": 2, "label": "well_said", "user": "u1"})
        self.send({"kind": "step", "message_id": late, "step": 7, "value": 1, "user": "u2"})
        self.send({"kind": "step", "message_id": late, "step": 0, "value": 1, "user": "u2"})
        content = "ok 😀\nfine"
        r = self.fd.post("/v1/messages", key="ingest", json={"messages": [
            {"id": "late-u", "conversation_id": "late", "role": "user", "content": "q?"},
            {"id": late, "conversation_id": "late", "role": "assistant", "content": content, "parent_id": "late-u",
             "model": "fine-x"}]})
        assert r.status_code == 200
        self.msgs[late] = {"conv": "late", "content": content, "model": "fine-x",
                           "prompt": [{"role": "user", "content": "q?"}], "single": True}
        # a message whose steps are all neutral: unlabelled
        content = "one\ntwo"
        r = self.fd.post("/v1/messages", key="ingest", json={"messages": [
            {"id": "flat-u", "conversation_id": "flat", "role": "user", "content": "q?"},
            {"id": "flat-a0", "conversation_id": "flat", "role": "assistant", "content": content,
             "parent_id": "flat-u", "model": "fine-y"}]})
        assert r.status_code == 200
        self.msgs["flat-a0"] = {"conv": "flat", "content": content, "model": "fine-y",
                                "prompt": [{"role": "user", "content": "q?"}], "single": True}
        self.send({"kind": "step", "message_id": "flat-a0", "step": 0, "value": 0, "user": "u1"})
        self.send({"kind": "step", "message_id": "flat-a0", "step": 1, "value": 1, "user": "u1"})

    # ---- expected ----------------------------------------------------------------------------
    def counting(self, kind):
        """docs/export.md "Which feedback counts": latest per slot, retracted latest -> nothing."""
        latest, out = {}, []
        for ev in self.events:  # sent in created_at order
            if ev["kind"] != kind:
                continue
            if "user" not in ev:
                if not ev["retracted"]:
                    out.append(ev)
                continue
            slot = (ev["user"], ev["message_id"], ev.get("start"), ev.get("end"), ev.get("label"), ev.get("step"))
            latest[slot] = ev
        out += [ev for ev in latest.values() if not ev["retracted"]]
        return out

    def expected(self, fmt, since=None, model=None):
        """(records, skipped counters, evidence ids per record) of a full export."""
        kind = "span" if fmt == "spans" else "step"
        by_msg = defaultdict(list)
        for ev in self.counting(kind):
            if ev["message_id"] in self.msgs:
                by_msg[ev["message_id"]].append(ev)
        recs, skipped = [], defaultdict(int)
        for mid, evs in by_msg.items():
            m = self.msgs[mid]
            if model and m["model"] != model:
                continue
            text = m["content"]
            fit = (lambda e: e["end"] <= len(text)) if kind == "span" else \
                (lambda e: e["step"] < len(steps_of(text)))
            in_window = (lambda e: since is None or e["created_at"] >= since)
            for e in evs:
                if not fit(e) and in_window(e):
                    skipped["invalid_" + kind] += 1
            good = [e for e in evs if fit(e)]
            if not good or not any(in_window(e) for e in good):
                continue
            if kind == "span":
                groups = defaultdict(list)
                for e in good:
                    groups[(e["start"], e["end"], e["label"])].append(LABEL_VALUE[e["label"]])
                spans = [{"start": s, "end": e, "label": lab, "value": sum(v) / len(v), "n": len(v)}
                         for (s, e, lab), v in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                                                     kv[0][2].encode()))]
                recs.append(({"prompt": m["prompt"], "completion": text, "spans": spans}, mid, good))
            else:
                steps = steps_of(text)
                sums = defaultdict(int)
                for e in good:
                    sums[e["step"]] += e["value"]
                labels = []
                for i in range(len(steps)):
                    if sums[i] == 0:
                        break
                    labels.append(sums[i] > 0)
                if not labels:
                    skipped["unlabelled"] += 1
                elif not m["single"]:
                    skipped["not_single_turn"] += 1
                else:
                    recs.append(({"prompt": m["prompt"][0]["content"], "completions": steps[:len(labels)],
                                  "labels": labels}, mid, good))
        return recs, skipped


@pytest.fixture(scope="module")
def data(feedbackd):
    return Data(feedbackd, random.Random(2026))


def manifest(fd, r):
    m = fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export")
    assert m.status_code == 200, m.text
    return m.json()


def check_skipped(m, skipped):
    assert set(m["skipped"]) == D.SKIP_KEYS
    for k in ("invalid_span", "invalid_step", "unlabelled", "not_single_turn"):
        assert m["skipped"][k] == skipped.get(k, 0), (k, m["skipped"])
    assert m["skipped"]["no_consent"] == 0 and m["skipped"]["duplicate"] == 0


@pytest.mark.parametrize("fmt", ["spans", "prm"])
def test_records_and_manifest(data, fmt):
    fd = data.fd
    r, body, recs = D.export(fd, format=fmt)
    assert r.status_code == 200, r.text
    want, skipped = data.expected(fmt)
    assert len(want) >= 3, "the random data must give records"
    assert D.multiset(recs) == sorted(D.canonical(w) for w, _, _ in want)
    m = manifest(fd, r)
    assert m["records"] == len(recs) and m["format"] == fmt
    assert "by_origin" not in m and "by_label" not in m
    check_skipped(m, skipped)
    assert skipped["invalid_span" if fmt == "spans" else "invalid_step"] >= 1
    if fmt == "prm":
        assert skipped["unlabelled"] >= 1 and skipped["not_single_turn"] >= 1


def test_spans_offsets_cut_the_completion(data):
    _, _, recs = D.export(data.fd, format="spans")
    quotes = {(e["message_id"], e["start"], e["end"]): e["quote"] for e in data.events if "quote" in e}
    by_content = {m["content"]: mid for mid, m in data.msgs.items()}
    for rec in recs:
        text, mid = rec["completion"], by_content[rec["completion"]]
        for s in rec["spans"]:
            assert 0 <= s["start"] < s["end"] <= len(text)
            piece = text[s["start"]:s["end"]]  # code points
            if (mid, s["start"], s["end"]) in quotes:
                assert piece == quotes[(mid, s["start"], s["end"])]
            # the UTF-8 bytes cut at the same places decode to the same text
            b = text.encode()
            lo, hi = len(text[:s["start"]].encode()), len(text[:s["end"]].encode())
            assert b[lo:hi].decode() == piece


def test_prm_steps_rejoin_to_lines_of_the_message(data):
    _, _, recs = D.export(data.fd, format="prm")
    contents = [m["content"] for m in data.msgs.values()]
    for rec in recs:
        assert len(rec["completions"]) == len(rec["labels"]) >= 1
        owners = [c for c in contents if steps_of(c)[:len(rec["completions"])] == rec["completions"]]
        assert len(owners) == 1
        lines = owners[0].split("\n")
        assert all(step in lines for step in rec["completions"])
        # in order, as a subsequence of the message's lines
        it = iter(lines)
        assert all(any(step == line for line in it) for step in rec["completions"])


@pytest.mark.parametrize("fmt", ["spans", "prm"])
def test_split_filters_and_meta(data, fmt):
    fd = data.fd
    want, _ = data.expected(fmt)
    for split in ("train", "test"):
        _, _, recs = D.export(fd, format=fmt, split=split)
        exp = [w for w, mid, _ in want if D.split_of(data.msgs[mid]["conv"]) == split]
        assert D.multiset(recs) == sorted(D.canonical(w) for w in exp)
    r, _, recs = D.export(fd, format=fmt, model="fine-y")
    w_model, sk_model = data.expected(fmt, model="fine-y")
    assert D.multiset(recs) == sorted(D.canonical(w) for w, _, _ in w_model)
    since = data.events[len(data.events) // 2]["created_at"]  # about half of the events are older
    r, _, recs = D.export(fd, format=fmt, since=since)
    w_since, sk_since = data.expected(fmt, since=since)
    assert 0 < len(w_since) < len(want)
    assert D.multiset(recs) == sorted(D.canonical(w) for w, _, _ in w_since)
    assert manifest(fd, r)["skipped"]["invalid_" + ("span" if fmt == "spans" else "step")] == \
        sk_since.get("invalid_" + ("span" if fmt == "spans" else "step"), 0)
    _, _, recs = D.export(fd, format=fmt, include_meta="true")
    by_mid = {mid: (w, good) for w, mid, good in want}
    assert len(recs) == len(want)
    for rec in recs:
        meta = rec["meta"]
        mid = next(k for k, (w, _) in by_mid.items() if D.canonical(w) == D.canonical(D.without_meta(rec)))
        w, good = by_mid[mid]
        assert meta["origin"] == ("span" if fmt == "spans" else "step")
        assert meta["model"] == data.msgs[mid]["model"]
        assert meta["conversation_id"] == data.msgs[mid]["conv"] and meta["parent_id"] == f"{meta['conversation_id']}-u"
        assert meta["feedback_ids"] == sorted({e["id"] for e in good}, key=lambda s: s.encode())
        assert meta["split"] == D.split_of(meta["conversation_id"])
        assert meta["prompt_id"] == D.sha_hex(data.msgs[mid]["prompt"])


def test_incremental(data):
    fd = data.fd
    r, _, _ = D.export(fd, format="spans")
    wm = r.headers["X-Export-Watermark"]
    mid = "fine-1-a1"
    text = data.msgs[mid]["content"]
    data.send({"kind": "span", "message_id": mid, "start": 0, "end": 1, "label": "irrelevant", "user": "u9"})
    r, _, recs = D.export(fd, format="spans", after=wm)
    assert r.status_code == 200, r.text
    want, _ = data.expected("spans")
    group = [w for w, m, _ in want if data.msgs[m]["conv"] == "fine-1"]
    assert D.multiset(recs) == sorted(D.canonical(w) for w in group)
    assert any(rec["completion"] == text and {"start": 0, "end": 1, "label": "irrelevant", "value": -1.0, "n": 1}
               in rec["spans"] for rec in recs)


def test_cli_with_dataset_card(data, tmp_path):
    fd = data.fd
    for fmt in ("prm", "spans"):
        out = tmp_path / fmt
        fd.cli("export", "--project", "test", "--format", fmt, "--out", str(out))
        recs = D.parse_ndjson((out / "train.jsonl").read_text()) + D.parse_ndjson((out / "test.jsonl").read_text())
        want, _ = data.expected(fmt)
        assert D.multiset(recs) == sorted(D.canonical(w) for w, _, _ in want)
        card = (out / "README.md").read_text()
        assert f"— {fmt} export" in card
        features = ["completions", "labels"] if fmt == "prm" else ["completion", "spans", "label"]
        for name in features:
            assert f"- name: {name}" in card


def test_a_comment_names_its_message_for_unknown_turn_and_invalid_prompt(feedbackd_factory):
    """docs/export.md: these counters count every logged assistant message named by at least one
    counting feedback event, a comment included, in every format."""
    fd = feedbackd_factory()
    r = fd.post("/v1/messages", key="ingest", json={"messages": [
        # parent never logged: unknown_turn
        {"id": "orphan", "conversation_id": "cu", "role": "assistant", "content": "x", "parent_id": "missing"},
        # a root assistant message: empty prompt, invalid_prompt
        {"id": "root", "conversation_id": "ci", "role": "assistant", "content": "y"}]})
    assert r.status_code == 200
    for mid in ("orphan", "root"):
        r = fd.post("/v1/feedback", key="ingest", json={"kind": "comment", "message_id": mid, "comment": "hm",
                                                         "user": "u"})
        assert r.status_code == 201
    for fmt in ("trl", "trl-text", "kto", "openai", "hh", "sft", "prm", "spans"):
        r, _, recs = D.export(fd, format=fmt)
        m = manifest(fd, r)
        assert recs == [] and m["skipped"]["unknown_turn"] == 1 and m["skipped"]["invalid_prompt"] == 1, (fmt, m)
