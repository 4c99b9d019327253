"""include_meta=true (docs/export.md "Formats": meta; rule 4 "Dedup") on data with
duplicates across conversations and within one, and enough records that the body is written
in many pieces (export.h "SPILL"): every record's meta is computed here from what was posted,
for several formats, split selections, the CLI and an incremental export; and the body without
meta is line for line the body of the same export without include_meta."""

import hashlib
import json

import pytest

import export_data as D

N_PLAIN = 200  # conversations without duplicates: a body of several hundred KiB
FILLER = " Details: " + "the widget reads its key and endpoint from the script tag. " * 12


def thumbs(id, m, v, user):
    return {"id": id, "kind": "rating", "message_id": m, "value": v, "user": user,
            "created_at": D.jan(len(id) % 50)}


def build():
    """Messages, events, and the candidates each sibling group gives (the test's model)."""
    msgs, events, groups = [], [], []

    def group(conv, parent, prompt_turns, good, bad, users, edit=None):
        """One sibling group under `parent`: good rated up and bad rated down by each user;
        with edit, bad is also edited into good's text by a rater of its own."""
        gid, bid = f"{parent}-g", f"{parent}-b"
        msgs.append(D.msg(gid, conv, parent, "assistant", good, model="m-good"))
        msgs.append(D.msg(bid, conv, parent, "assistant", bad, model="m-bad"))
        up, down = [], []
        for u in users:
            events.append(thumbs(f"{parent}-{u}-up", gid, 1, u))
            events.append(thumbs(f"{parent}-{u}-down", bid, -1, u))
            up.append(f"{parent}-{u}-up")
            down.append(f"{parent}-{u}-down")
        ed = None
        if edit:
            ed = f"{parent}-edit"
            events.append({"id": ed, "kind": "edit", "message_id": bid, "user": f"{parent}-editor",
                           "edited_content": edit, "created_at": D.jan(5)})
        groups.append({"conv": conv, "parent": parent, "prompt": prompt_turns, "good": good, "bad": bad,
                       "up": up, "down": down, "edit": ed, "edit_text": edit})

    def conv_with(conv, question, good, bad, users, edit=None):
        u = f"{conv}-u"
        msgs.append(D.msg(u, conv, None, "user", question))
        group(conv, u, [D.turn("user", question)], good, bad, users, edit)

    # the same record in three conversations ("d-" sorts before "m-"), and in a fourth where
    # it is also an edit (by_origin: edit is the first origin)
    for i in (1, 2, 3):
        conv_with(f"d-{i}", "Same question?", "Same good.", "Same bad.", [f"r{i}a", f"r{i}b"])
    conv_with("d-4", "Same question?", "Other good.", "Same bad.", ["r4a"], edit="Same good.")
    # within one conversation: two root turns with the same text, each with the same answers
    for k in (1, 2):
        u = f"w-u{k}"
        msgs.append(D.msg(u, "w-1", None, "user", "Again?"))
        group("w-1", u, [D.turn("user", "Again?")], "Yes." + FILLER, "No.", [f"w{k}"])
    for i in range(N_PLAIN):
        conv_with(f"m-{i:03d}", f"Question {i}?", f"Good answer {i}." + FILLER, f"Bad {i}.", [f"p{i}"])
    return msgs, events, groups


MSGS, EVENTS, GROUPS = build()


def candidates(fmt):
    """(conv, parent, record, origin, evidence, model fields) per candidate, by docs/export.md
    for these groups: one rated pair (margin 2) or the edit pair; kto each rated message and
    each edit's two records; sft the messages rated 1 and the edit's text."""
    out = []
    for g in GROUPS:
        p = g["prompt"]
        ratings_ev = g["up"] + g["down"]
        if fmt in ("trl", "hh"):
            def pair(chosen, rejected):
                if fmt == "trl":
                    return {"prompt": p, "chosen": D.A(chosen), "rejected": D.A(rejected)}
                human = "\n\nHuman: " + p[0]["content"] + "\n\nAssistant: "
                return {"chosen": human + chosen, "rejected": human + rejected}
            if g["edit"]:
                out.append((g, pair(g["edit_text"], g["bad"]), "edit", [g["edit"]],
                            {"margin": None, "models": {"chosen": "m-bad", "rejected": "m-bad"}}))
            # the rated pair good > bad, unless it repeats the edit record (conflict)
            if not (g["edit"] and g["edit_text"] == g["good"]):
                out.append((g, pair(g["good"], g["bad"]), "ratings", ratings_ev,
                            {"margin": 2.0, "models": {"chosen": "m-good", "rejected": "m-bad"}}))
        elif fmt == "kto":
            if g["edit"]:
                out.append((g, {"prompt": p, "completion": D.A(g["edit_text"]), "label": True}, "edit",
                            [g["edit"]], {"model": "m-bad"}))
                out.append((g, {"prompt": p, "completion": D.A(g["bad"]), "label": False}, "edit",
                            [g["edit"]], {"model": "m-bad"}))
            out.append((g, {"prompt": p, "completion": D.A(g["good"]), "label": True}, "ratings", g["up"],
                        {"model": "m-good"}))
            out.append((g, {"prompt": p, "completion": D.A(g["bad"]), "label": False}, "ratings", g["down"],
                        {"model": "m-bad"}))
        elif fmt == "sft":
            if g["edit"]:
                out.append((g, {"messages": p + D.A(g["edit_text"])}, "edit", [g["edit"]], {"model": "m-bad"}))
            out.append((g, {"messages": p + D.A(g["good"])}, "ratings", g["up"], {"model": "m-good"}))
    return out


def expected(fmt, test_fraction=0.1, split="all"):
    """The records rule 4 keeps, by canonical JSON: the occurrence with the smallest
    (conversation id, parent id) bytewise, its split, the union of all occurrences' evidence;
    plus how many duplicates fall in the selected splits and by_origin of the pair formats."""
    keep, dups = {}, 0
    order = sorted(candidates(fmt), key=lambda c: (c[0]["conv"].encode(), c[0]["parent"].encode()))
    for g, rec, origin, ev, extra in order:
        key = D.canonical(rec)
        sp = D.split_of(g["conv"], test_fraction)
        if key in keep:
            keep[key]["ids"] |= set(ev)
            keep[key]["origins"].add(origin)
            dups += split in ("all", sp)
            continue
        keep[key] = {"rec": rec, "conv": g["conv"], "parent": g["parent"], "origin": origin, "ids": set(ev),
                     "origins": {origin}, "split": sp, "extra": extra}
    kept = {k: v for k, v in keep.items() if split in ("all", v["split"])}
    by_origin = {"edit": 0, "comparison": 0, "ratings": 0}
    for v in kept.values():
        by_origin[min(v["origins"], key=["edit", "comparison", "ratings"].index)] += 1
    return kept, dups, by_origin


@pytest.fixture(scope="module")
def fd(feedbackd):
    r = feedbackd.post("/v1/messages", key="ingest", json={"messages": MSGS})
    assert r.status_code == 200, r.text
    for i in range(0, len(EVENTS), 100):
        r = feedbackd.post("/v1/feedback/batch", key="ingest", json={"events": EVENTS[i:i + 100]})
        assert r.status_code == 200, r.text
        assert all(x["status"] == "stored" for x in r.json()["results"]), r.text
    return feedbackd


def check(fd, fmt, body, recs, test_fraction=0.1, split="all", manifest=None):
    want, dups, by_origin = expected(fmt, test_fraction, split)
    assert len(recs) == len(want)
    seen = []
    for rec in recs:
        meta = rec["meta"]
        w = want[D.canonical(D.without_meta(rec))]
        assert (meta["conversation_id"], meta["parent_id"]) == (w["conv"], w["parent"])
        assert meta["feedback_ids"] == sorted(w["ids"], key=str.encode)
        assert meta["origin"] == w["origin"] and meta["split"] == w["split"]
        prompt = w["rec"].get("prompt") or w["rec"].get("messages", [])[:-1]
        if fmt != "hh":
            assert meta["prompt_id"] == D.sha_hex(prompt)
        if fmt in ("trl", "hh"):
            assert meta["pair_id"] == D.sha_hex(D.without_meta(rec))
            assert meta["n_votes"] == len(w["ids"]) and meta["agreement"] is None
            assert meta["margin"] == w["extra"]["margin"] and meta["models"] == w["extra"]["models"]
        elif fmt == "kto":
            assert meta["model"] == w["extra"]["model"]
        else:  # sft: the keys every record has, nothing more
            assert set(meta) == {"prompt_id", "conversation_id", "parent_id", "origin", "feedback_ids", "split"}
        seen.append((meta["conversation_id"].encode(), meta["parent_id"].encode()))
    assert seen == sorted(seen), "records come in (conversation id, parent id) order"
    # every line, a merged one too, is compact JSON with its keys in the order written
    for line in body.decode().splitlines():
        assert line == json.dumps(json.loads(line), separators=(",", ":"), ensure_ascii=False)
    if manifest is not None:
        assert manifest["records"] == len(want) and manifest["skipped"]["duplicate"] == dups
        assert manifest["sha256"] == hashlib.sha256(body).hexdigest()
        if fmt in ("trl", "hh"):
            assert manifest["by_origin"] == by_origin
    return want


@pytest.mark.parametrize("fmt", ["trl", "kto", "sft", "hh"])
def test_meta_of_duplicates_and_the_plain_body(fd, fmt):
    r, body, recs = D.export(fd, format=fmt, include_meta="true")
    assert r.status_code == 200, r.text
    m = fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
    want = check(fd, fmt, body, recs, manifest=m)
    assert len(body) > 128 * 1024, "a body of many pieces"
    # the merges this data set was built for
    if fmt == "trl":
        same = want[D.canonical({"prompt": [D.turn("user", "Same question?")], "chosen": D.A("Same good."),
                                 "rejected": D.A("Same bad.")})]
        assert same["conv"] == "d-1" and len(same["ids"]) == 3 * 4 + 1  # three groups' thumbs and d-4's edit
        assert m["by_origin"]["edit"] == 1 and m["skipped"]["duplicate"] == 4  # d-2, d-3, d-4 and w-u2
    # the same export without meta: the same lines in the same order
    _, plain, _ = D.export(fd, format=fmt)
    stripped = [D.canonical(D.without_meta(x)) for x in recs]
    assert stripped == [D.canonical(x) for x in D.parse_ndjson(plain)]


@pytest.mark.parametrize("split", ["train", "test"])
def test_meta_with_a_split(fd, split):
    r, body, recs = D.export(fd, format="kto", include_meta="true", test_fraction="0.5", split=split)
    m = fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
    check(fd, "kto", body, recs, test_fraction=0.5, split=split, manifest=m)
    assert recs and all(x["meta"]["split"] == split for x in recs)


def test_cli_meta_equals_http(fd, tmp_path):
    _, body, _ = D.export(fd, format="trl", include_meta="true")
    r = fd.cli("export", "--project", "test", "--include-meta", "-o", str(tmp_path / "m.jsonl"))
    assert (tmp_path / "m.jsonl").read_bytes() == body
    out = tmp_path / "ds"
    fd.cli("export", "--project", "test", "--format", "kto", "--include-meta", "--test-fraction", "0.5",
           "--out", str(out))
    _, kbody, krecs = D.export(fd, format="kto", include_meta="true", test_fraction="0.5")
    check(fd, "kto", kbody, krecs, test_fraction=0.5)
    train = (out / "train.jsonl").read_bytes()
    test = (out / "test.jsonl").read_bytes()
    lines = kbody.splitlines(keepends=True)
    assert train == b"".join(x for x, rec in zip(lines, krecs) if rec["meta"]["split"] == "train")
    assert test == b"".join(x for x, rec in zip(lines, krecs) if rec["meta"]["split"] == "test")
    assert r.returncode == 0


def test_incremental_meta(fd):
    r, _, _ = D.export(fd, format="trl", include_meta="true")
    after = r.headers["X-Export-Watermark"]
    ev = thumbs("d-3-late-up", "d-3-u-g", 1, "late")
    assert fd.post("/v1/feedback", key="ingest", json=ev).status_code == 201
    try:
        r, body, recs = D.export(fd, format="trl", include_meta="true", after=after)
        assert r.status_code == 200, r.text
        # only d-3's group is touched: its record is kept there, with d-3's evidence only
        assert len(recs) == 1
        meta = recs[0]["meta"]
        assert (meta["conversation_id"], meta["parent_id"]) == ("d-3", "d-3-u")
        d3 = [g for g in GROUPS if g["conv"] == "d-3"][0]
        want = sorted(d3["up"] + d3["down"] + ["d-3-late-up"], key=str.encode)
        assert meta["feedback_ids"] == want and meta["n_votes"] == 5
    finally:
        assert fd.delete("/v1/feedback/d-3-late-up", key="ingest").status_code == 200
