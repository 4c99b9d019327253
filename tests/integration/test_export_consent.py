"""Consent and licence in exports (docs/export.md "Consent and licence"): only evidence of
raters whose consent is `train` (explicit, or by the project's default_consent; events without
a user follow the default) is used; a candidate that loses all of its evidence to the rule is
skipped as `no_consent`. Consent is read at export time, so it changes what later exports hold:
opting out, opting back in (admin key), switching the project default. dataset_license goes into
the manifest and the dataset card. Expected records come from export_signals_model.py and, for
the small cases, by hand."""

import pytest

import export_data as D
import export_signals_model as S
from helpers import apply_migrations

T = "2026-02-01T00:00:%02dZ"


def msgs():
    out = []
    for c in ("c1", "c2", "c3", "c4"):
        out.append({"id": f"{c}-u", "conversation_id": c, "role": "user", "content": f"Prompt {c}"})
        for a in range(2):
            out.append({"id": f"{c}-a{a}", "conversation_id": c, "role": "assistant", "content": f"Answer {c}.{a}",
                        "parent_id": f"{c}-u", "model": "m"})
    return out


EVENTS = [
    {"kind": "rating", "message_id": "c1-a0", "value": 1, "user": "alice"},
    {"kind": "rating", "message_id": "c1-a1", "value": -1, "user": "bob"},
    {"kind": "rating", "message_id": "c2-a0", "value": 1},                     # anonymous: the default
    {"kind": "rating", "message_id": "c2-a1", "value": 1, "user": "carol"},
    {"kind": "rating", "message_id": "c2-a1", "value": -1, "user": "bob"},     # c2-a1: score 0 with bob
    {"kind": "reaction", "message_id": "c3-a0", "emoji": "love", "user": "bob"},
    {"kind": "signal", "message_id": "c3-a1", "signal": "copy", "user": "bob"},
    {"kind": "signal", "message_id": "c3-a1", "signal": "share", "user": "alice"},
    {"kind": "rating", "message_id": "c4-a0", "value": 1, "user": "alice"},   # c4: nothing of bob's
    {"kind": "rating", "message_id": "c4-a1", "value": -1, "user": "alice"},
]
C4 = [{"prompt": [{"role": "user", "content": "Prompt c4"}], "completion": [{"role": "assistant", "content": t}],
       "label": lab} for t, lab in (("Answer c4.0", True), ("Answer c4.1", False))]


class World:
    def __init__(self, fd):
        self.fd = fd
        self.rows = {}          # user -> explicit consent
        self.default = True
        r = fd.post("/v1/messages", key="ingest", json={"messages": msgs()})
        assert r.status_code == 200, r.text
        self.msgs = {m["id"]: {"conv": m["conversation_id"], "parent": m.get("parent_id"), "role": m["role"],
                               "content": m["content"], "model": m.get("model")} for m in msgs()}
        self.events = []
        for i, ev in enumerate(EVENTS):
            ev = dict(ev, id=f"ev-{i}", created_at=T % i)
            r = fd.post("/v1/feedback", key="ingest", json=ev)
            assert r.status_code == 201, r.text
            self.events.append(dict(ev, retracted=False))

    def consent(self, user):
        return self.rows.get(user, self.default) if user else self.default

    def put(self, user, train, key):
        r = self.fd.put(f"/v1/users/{user}/consent", key=key, json={"train": train})
        if r.status_code == 200:
            self.rows[user] = train
        return r

    def set_default(self, value):
        r = self.fd.patch("/v1/project", key="admin", json={"default_consent": value})
        assert r.status_code == 200, r.text
        self.default = value == "train"

    def expect(self, fmt, **kw):
        return S.Model(self.msgs, self.events, S.DEFAULT_SET, self.consent).export(fmt, **kw)

    def check(self, fmt, **kw):
        params = {k: "true" for k, v in kw.items() if v is True}
        r, body, recs = D.export(self.fd, format=fmt, **params)
        assert r.status_code == 200, r.text
        want, skipped = self.expect(fmt, **kw)
        assert [D.canonical(x) for x in recs] == [D.canonical(w) for w, *_ in want]
        m = self.fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
        assert m["skipped"] == {k: skipped.get(k, 0) for k in D.SKIP_KEYS}, (m["skipped"], dict(skipped))
        return recs, m, body


def kto(text, label, prompt):
    return {"prompt": [{"role": "user", "content": prompt}], "completion": [{"role": "assistant", "content": text}],
            "label": label}


@pytest.fixture
def world(feedbackd_factory):
    return World(feedbackd_factory())


FORMATS = [("kto", {}), ("kto", {"reactions": True, "signals": True}), ("trl", {}), ("trl", {"reactions": True}),
           ("reward", {}), ("reward", {"signals": True})]


def check_all(w):
    return {(fmt, tuple(kw)): w.check(fmt, **kw) for fmt, kw in FORMATS}


def test_consent_changes_over_time(world):
    w = world
    # 1. nobody said anything, default train: everybody's feedback counts
    recs, m, body_all = w.check("kto")
    assert recs == [kto("Answer c1.0", True, "Prompt c1"), kto("Answer c1.1", False, "Prompt c1"),
                    kto("Answer c2.0", True, "Prompt c2")] + C4  # c2-a1: carol +1, bob -1 -> score 0
    assert m["skipped"]["no_consent"] == 0 and m["license"] is None
    first = check_all(w)
    # 2. bob opts out from the page he is on (ingest key)
    assert w.put("bob", False, "ingest").status_code == 200
    recs, m, _ = w.check("kto")
    assert recs == [kto("Answer c1.0", True, "Prompt c1"), kto("Answer c2.0", True, "Prompt c2"),
                    kto("Answer c2.1", True, "Prompt c2")] + C4  # carol alone now
    assert m["skipped"]["no_consent"] == 1  # c1-a1's only evidence was bob's
    recs, m, _ = w.check("trl")
    assert len(recs) == 1 and m["skipped"]["no_consent"] == 0  # c4's; the c1 pair kept alice's evidence
    recs, m, _ = w.check("reward")
    assert m["skipped"]["no_consent"] == 2  # c1-a1 and c3-a0 (bob's love)
    check_all(w)
    # 3. an ingest key may only opt out; an admin key opts bob back in: as at the start
    r = w.put("bob", True, "ingest")
    assert r.status_code == 403, r.text
    assert w.put("bob", True, "admin").status_code == 200
    assert check_all(w).keys() == first.keys()
    for k, (recs, m, body) in check_all(w).items():
        assert body == first[k][2], k
    # 4. the project default becomes none: only bob (explicitly train) counts; anonymous events
    #    follow the default
    w.set_default("none")
    recs, m, _ = w.check("kto")
    assert recs == [kto("Answer c1.1", False, "Prompt c1"), kto("Answer c2.1", False, "Prompt c2")]
    assert m["skipped"]["no_consent"] == 4  # c1-a0, c4-a0, c4-a1 (alice), c2-a0 (anonymous)
    check_all(w)
    # 5. alice opts in (admin)
    assert w.put("alice", True, "admin").status_code == 200
    check_all(w)
    recs, _, _ = w.check("kto", signals=True, reactions=True)
    assert kto("Answer c3.1", True, "Prompt c3") in recs and kto("Answer c3.0", True, "Prompt c3") in recs


def test_excluded_users_are_not_no_consent(world):
    w = world
    assert w.put("bob", False, "ingest").status_code == 200
    r, _, _ = D.export(w.fd, format="kto", exclude_users="bob")
    m = w.fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
    assert m["skipped"]["no_consent"] == 0  # an excluded rater's events were never sent


def test_license_in_manifest_and_card(world, tmp_path):
    w = world
    r, _, _ = D.export(w.fd, format="kto")
    assert w.fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()["license"] is None
    out = tmp_path / "none"
    w.fd.cli("export", "--project", "test", "--format", "kto", "--out", str(out))
    card = (out / "README.md").read_text()
    assert "\nlicense:" not in card.split("---")[1] and "set no licence" in card
    assert "default consent was `train`" in card
    assert w.fd.patch("/v1/project", key="admin", json={"dataset_license": "CC-BY-4.0"}).status_code == 200
    assert w.put("bob", False, "ingest").status_code == 200
    r, body, _ = D.export(w.fd, format="kto")
    m = w.fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
    assert m["license"] == "CC-BY-4.0"
    out = tmp_path / "cc"
    w.fd.cli("export", "--project", "test", "--format", "kto", "--out", str(out))
    manifest = __import__("json").loads((out / "manifest.json").read_text())
    assert manifest["license"] == "CC-BY-4.0" and manifest["skipped"]["no_consent"] == 1
    card = (out / "README.md").read_text()
    front = card.split("---")[1]
    assert "\nlicense: CC-BY-4.0\n" in front
    import yaml
    assert yaml.safe_load(front)["license"] == "CC-BY-4.0"  # the header stays valid YAML
    assert "1 candidate record(s) lost all of their evidence" in card and "`CC-BY-4.0`" in card
    # the CLI's lines are the HTTP body, consent included
    out = tmp_path / "one.jsonl"
    w.fd.cli("export", "--project", "test", "--format", "kto", "-o", str(out))
    assert out.read_bytes() == body
    assert w.fd.patch("/v1/project", key="admin", json={"dataset_license": None}).status_code == 200
    r, _, _ = D.export(w.fd, format="kto")
    assert w.fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()["license"] is None


def group_of(rec):
    return rec["meta"]["conversation_id"], rec["meta"]["parent_id"]


def replace_groups(base, incremental):
    """docs/export.md "Incremental exports": the consumer replaces its records of each group
    the incremental export sent."""
    touched = {group_of(r) for r in incremental}
    return [r for r in base if group_of(r) not in touched] + incremental


@pytest.mark.parametrize("fmt,kw", [("kto", {}), ("reward", {"signals": "true"}), ("trl", {"reactions": "true"})])
def test_consent_change_is_an_incremental_change(world, fmt, kw):
    w = world
    r, _, full1 = D.export(w.fd, format=fmt, include_meta="true", **kw)
    wm = r.headers["X-Export-Watermark"]
    assert w.put("bob", False, "ingest").status_code == 200
    r, _, incr = D.export(w.fd, format=fmt, include_meta="true", after=wm, **kw)
    assert r.status_code == 200, r.text
    wm2 = r.headers["X-Export-Watermark"]
    # exactly the groups of bob's messages: c1, c2 (ratings) and c3 (reaction, signal) when
    # their current records are not empty
    bobs = {(e["message_id"].split("-")[0], e["message_id"].split("-")[0] + "-u") for e in EVENTS
            if e.get("user") == "bob"}
    assert {group_of(x) for x in incr} <= bobs and ("c4", "c4-u") not in bobs
    assert any(group_of(x) == ("c4", "c4-u") for x in full1)
    want, _ = w.expect(fmt, reactions=kw.get("reactions") == "true", signals=kw.get("signals") == "true",
                       only_groups=bobs)
    assert [D.without_meta(x) for x in incr] == [x for x, *_ in want]
    _, _, full2 = D.export(w.fd, format=fmt, include_meta="true", **kw)
    merged = replace_groups(full1, incr)
    # a group left with no records disappears only in a full export
    gone = {group_of(x) for x in full1} - {group_of(x) for x in full2}
    assert D.multiset([x for x in merged if group_of(x) not in gone]) == D.multiset(full2)
    # the same consent again is no change
    assert w.put("bob", False, "ingest").status_code == 200
    r, body, _ = D.export(w.fd, format=fmt, after=wm2, **kw)
    assert r.status_code == 200 and body == b""
    # opting back in is one
    assert w.put("bob", True, "admin").status_code == 200
    _, _, incr = D.export(w.fd, format=fmt, include_meta="true", after=wm2, **kw)
    assert D.multiset(replace_groups(full2, incr)) == D.multiset(full1)


def test_migration_0010_gives_existing_consents_a_txid(pg):
    """Consent rows recorded before 0010 get the migration's transaction (the SQL file applied
    as is): non-null, and newer than a snapshot taken before the migration."""
    db = pg.create_database("consent_0010")
    apply_migrations(pg, db, upto="0010_consent_txid.sql")
    pg.sql("INSERT INTO projects (slug, name) VALUES ('p', 'p')", dbname=db)
    pg.sql("INSERT INTO consents (project_id, user_ref, train) VALUES (1, 'bob', false)", dbname=db)
    before = pg.sql("SELECT pg_current_snapshot()::text", dbname=db)[0][0]
    apply_migrations(pg, db, only="0010_consent_txid.sql")
    rows = pg.sql("SELECT txid IS NOT NULL, pg_visible_in_snapshot(txid, %s::pg_snapshot) FROM consents",
                  (before,), dbname=db)
    assert rows == [(True, False)]
