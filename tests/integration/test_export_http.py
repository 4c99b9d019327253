"""GET /v1/export and GET /v1/exports/{id} (docs/api.md "Export", docs/export.md) on the hand-built
conversations of export_data.py: every format's records and shapes, the manifest, filters,
split, include_meta, parameter errors and scopes."""

import hashlib
import json

import pytest

import export_data as D
from ingest_helpers import expect_error

FORMATS = ["trl", "trl-text", "kto", "openai", "hh", "sft"]


@pytest.fixture(scope="module")
def fd(feedbackd):
    D.load(feedbackd)
    return feedbackd


def check_manifest(fd, r, body, recs, fmt):
    """The manifest of an export against its body, by docs/export.md's field list."""
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/x-ndjson")
    assert r.headers.get("Transfer-Encoding") == "chunked"
    eid, wm = r.headers["X-Export-Id"], r.headers["X-Export-Watermark"]
    m = fd.get(f"/v1/exports/{eid}", key="export")
    assert m.status_code == 200, m.text
    m = m.json()
    assert m["id"] == eid and m["watermark"] == wm and m["format"] == fmt
    assert m["finished_at"] and m["started_at"] and m["finished_at"] >= m["started_at"]
    assert m["records"] == len(recs)
    assert m["sha256"] == hashlib.sha256(body).hexdigest()
    assert m["by_split"]["train"] + m["by_split"]["test"] == len(recs)
    assert set(m["skipped"]) == D.SKIP_KEYS
    assert m["exporter_version"]
    assert isinstance(m["params"], dict) and m["params"]["format"] == fmt
    if fmt in ("trl", "trl-text", "openai", "hh"):
        assert set(m["by_origin"]) == {"edit", "comparison", "ratings"}
        assert sum(m["by_origin"].values()) == len(recs)
        assert "by_label" not in m
    else:
        assert "by_origin" not in m
    if fmt == "kto":
        assert m["by_label"] == {"true": sum(1 for x in recs if x["label"]),
                                 "false": sum(1 for x in recs if not x["label"])}
    return m


def is_msg_list(v, roles=None):
    return isinstance(v, list) and all(set(t) == {"role", "content"} and isinstance(t["content"], str)
                                       and t["role"] in (roles or {"system", "user", "assistant", "tool"})
                                       for t in v)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_shape_and_manifest(fd, fmt):
    r, body, recs = D.export(fd, format=fmt)
    m = check_manifest(fd, r, body, recs, fmt)
    assert recs, "the data set gives records in every format"
    for rec in recs:
        if fmt == "trl":
            assert set(rec) == {"prompt", "chosen", "rejected"}
            assert is_msg_list(rec["prompt"]) and rec["prompt"][-1]["role"] in ("user", "tool")
            for side in ("chosen", "rejected"):
                assert is_msg_list(rec[side], {"assistant"}) and len(rec[side]) == 1
        elif fmt == "trl-text":
            assert set(rec) == {"prompt", "chosen", "rejected"}
            assert all(isinstance(rec[k], str) for k in rec)
        elif fmt == "kto":
            assert set(rec) == {"prompt", "completion", "label"}
            assert rec["prompt"][-1]["role"] in ("user", "tool")
            assert is_msg_list(rec["completion"], {"assistant"}) and len(rec["completion"]) == 1
            assert isinstance(rec["label"], bool)
        elif fmt == "openai":
            assert set(rec) == {"input", "preferred_output", "non_preferred_output"}
            assert set(rec["input"]) == {"messages"} and is_msg_list(rec["input"]["messages"])
            assert rec["input"]["messages"][-1]["role"] in ("user", "tool")
            for side in ("preferred_output", "non_preferred_output"):
                assert is_msg_list(rec[side], {"assistant"}) and len(rec[side]) == 1
        elif fmt == "hh":
            assert set(rec) == {"chosen", "rejected"}
            c, j = rec["chosen"], rec["rejected"]
            assert c.startswith("\n\nHuman: ") and j.startswith("\n\nHuman: ")
            cut_c, cut_j = c.rindex("\n\nAssistant:"), j.rindex("\n\nAssistant:")
            assert c[:cut_c] == j[:cut_j] and c != j
        elif fmt == "sft":
            assert set(rec) == {"messages"}
            assert is_msg_list(rec["messages"]) and rec["messages"][-1]["role"] == "assistant"
            assert rec["messages"][-2]["role"] in ("user", "tool")
    if fmt in ("trl", "openai"):
        assert len(recs) == 7 and m["by_origin"] == {"edit": 1, "comparison": 1, "ratings": 5}
    if fmt == "trl-text":
        assert m["skipped"]["not_single_turn"] == 3  # c-basic (system), c-multi, c-tool
    if fmt == "hh":
        assert len(recs) == 6 and m["skipped"]["unsupported_role"] == 1  # c-tool


def test_trl_records_by_hand(fd):
    r, body, recs = D.export(fd)  # trl is the default
    assert r.status_code == 200
    assert D.multiset(recs) == sorted(D.canonical(x) for x in D.TRL)
    m = fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
    assert m["skipped"] == D.TRL_SKIPPED


def test_kto_records_by_hand(fd):
    r, body, recs = D.export(fd, format="kto")
    assert D.multiset(recs) == sorted(D.canonical(x) for x in D.KTO)
    m = fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
    assert m["by_label"] == {"true": 6, "false": 7}
    for k in ("unknown_turn", "invalid_prompt", "trivial_edit", "duplicate"):
        assert m["skipped"][k] == {"unknown_turn": 2, "invalid_prompt": 1, "trivial_edit": 1, "duplicate": 0}[k], k


def test_sft_records_by_hand(fd):
    r, body, recs = D.export(fd, format="sft")
    assert D.multiset(recs) == sorted(D.canonical(x) for x in D.SFT)


def test_hh_and_trl_text_by_hand(fd):
    _, _, hh = D.export(fd, format="hh")
    want = {"chosen": "\n\nHuman: You are a poet.\n\nHi\n\nAssistant: Hello.\n\nHuman: Rhyme with cat\n\nAssistant: hat",
            "rejected": "\n\nHuman: You are a poet.\n\nHi\n\nAssistant: Hello.\n\nHuman: Rhyme with cat\n\nAssistant: dog"}
    assert want in hh
    assert {"chosen": "\n\nHuman: Be terse.\n\nCapital of France?\n\nAssistant: Paris.",
            "rejected": "\n\nHuman: Be terse.\n\nCapital of France?\n\nAssistant: Lyon."} in hh
    _, _, tt = D.export(fd, format="trl-text")
    assert D.multiset(tt) == sorted(D.canonical(x) for x in [
        {"prompt": "Pick a color", "chosen": "Red", "rejected": "Blue"},
        {"prompt": "Write a haiku", "chosen": "An old silent pond", "rejected": "Old pond frog"},
        {"prompt": "Rate me", "chosen": "A", "rejected": "C"},
        {"prompt": "Rate me", "chosen": "B", "rejected": "C"}])


def test_include_meta(fd):
    r, body, recs = D.export(fd, include_meta="true")
    check_manifest(fd, r, body, recs, "trl")
    by_key = {(x["meta"]["conversation_id"], x["chosen"][0]["content"]): x for x in recs}
    assert len(by_key) == 7
    for rec in recs:
        meta = rec["meta"]
        assert set(meta) == {"prompt_id", "conversation_id", "parent_id", "origin", "feedback_ids", "split",
                             "pair_id", "margin", "n_votes", "agreement", "models"}
        assert meta["prompt_id"] == D.sha_hex(rec["prompt"])
        assert meta["pair_id"] == D.sha_hex(D.without_meta(rec))
        assert meta["split"] == D.split_of(meta["conversation_id"])
        assert meta["n_votes"] == len(meta["feedback_ids"])
    cmp_ = by_key[("c-cmp", "Red")]["meta"]
    assert cmp_["origin"] == "comparison" and cmp_["parent_id"] == "k-u"
    assert sorted(cmp_["feedback_ids"]) == ["e-k1", "e-k2", "e-k3", "e-k4b"]  # v4's latest vote only
    assert cmp_["agreement"] == pytest.approx(0.75) and cmp_["margin"] is None
    assert cmp_["models"] == {"chosen": "base", "rejected": "base"}
    ed = by_key[("c-edit", "An old silent pond")]["meta"]
    assert ed["origin"] == "edit" and ed["margin"] is None and ed["agreement"] is None
    assert ed["feedback_ids"] == ["e-d1"]
    sc = by_key[("c-scale", "A")]["meta"]
    assert sc["origin"] == "ratings" and sc["margin"] == pytest.approx(1.5) and sc["agreement"] is None
    assert sorted(sc["feedback_ids"]) == ["e-s1", "e-s3"]
    mu = by_key[("c-multi", "hat")]["meta"]
    assert mu["models"] == {"chosen": "poet-2", "rejected": "poet-1"} and mu["parent_id"] == "p-u2"
    basic = by_key[("c-basic", "Paris.")]["meta"]
    assert sorted(basic["feedback_ids"]) == ["e-b1", "e-b2"]  # the retracted e-b3 is not evidence
    # KTO meta carries the completion's model
    _, _, kto = D.export(fd, format="kto", include_meta="true")
    hat = [x for x in kto if x["completion"][0]["content"] == "hat"][0]
    assert hat["meta"]["model"] == "poet-2" and "pair_id" not in hat["meta"]
    # without meta the records are the same
    _, _, plain = D.export(fd)
    assert D.multiset(plain) == D.multiset(recs)


def test_split_disjoint_and_union(fd):
    _, _, every = D.export(fd, format="kto", include_meta="true", test_fraction="0.5")
    _, _, train = D.export(fd, format="kto", include_meta="true", test_fraction="0.5", split="train")
    _, _, test = D.export(fd, format="kto", include_meta="true", test_fraction="0.5", split="test")
    tr = {x["meta"]["conversation_id"] for x in train}
    te = {x["meta"]["conversation_id"] for x in test}
    assert tr and te and not (tr & te)
    assert D.multiset(train + test) == D.multiset(every)
    for x in every:
        assert x["meta"]["split"] == D.split_of(x["meta"]["conversation_id"], 0.5)
    assert all(x["meta"]["split"] == "train" for x in train) and all(x["meta"]["split"] == "test" for x in test)
    _, _, none_test = D.export(fd, format="kto", test_fraction="0", split="test")
    _, _, all_test = D.export(fd, format="kto", test_fraction="1", split="test")
    assert none_test == [] and len(all_test) == len(D.KTO)


def test_filters(fd):
    _, _, late = D.export(fd, since="2026-02-01T00:00:00Z")
    assert D.multiset(late) == sorted(D.canonical(x) for x in D.TRL if x["prompt"] == D.P_SCALE)
    _, _, early = D.export(fd, until="2026-02-01T00:00:00+00:00")
    assert D.multiset(early) == sorted(D.canonical(x) for x in D.TRL if x["prompt"] != D.P_SCALE)
    _, _, window = D.export(fd, since="2026-01-10T00:00:30Z", until="2026-01-10T00:00:31Z")
    assert D.multiset(window) == [D.canonical(D.TRL[2])]  # only the edit e-d1 was created then
    _, _, poet = D.export(fd, model="poet-1")
    assert D.multiset(poet) == [D.canonical(D.TRL[3])]
    _, _, kpoet = D.export(fd, format="kto", model="poet-2")
    assert D.multiset(kpoet) == [D.canonical({"prompt": D.P_MULTI, "completion": D.A("hat"), "label": True})]
    _, _, nomodel = D.export(fd, model="no-such-model")
    assert nomodel == []


def test_min_margin(fd):
    ab = {"prompt": D.P_SCALE, "chosen": D.A("A"), "rejected": D.A("B")}
    _, _, low = D.export(fd, min_margin="0.5")
    assert D.multiset(low) == sorted(D.canonical(x) for x in D.TRL + [ab])
    _, _, high = D.export(fd, min_margin="1.6")  # drops A>C (1.5) and B>C (1.0); margins 2 stay
    assert D.multiset(high) == sorted(D.canonical(x) for x in D.TRL if x["prompt"] != D.P_SCALE)


@pytest.mark.parametrize("param,value", [
    ("format", "dpo"), ("format", ""), ("split", "validation"), ("test_fraction", "1.5"),
    ("test_fraction", "-0.1"), ("test_fraction", "abc"), ("min_margin", "-1"), ("min_margin", "x"),
    ("since", "2026-01-01"), ("until", "yesterday"), ("include_meta", "yes"), ("after", "garbage"),
    ("after", "10:5:"),
])
def test_invalid_parameters(fd, param, value):
    r = fd.get("/v1/export", key="export", params={param: value})
    expect_error(r, 400, "invalid_parameter", param)


def test_scopes_and_manifest_lookup(fd):
    expect_error(fd.get("/v1/export", key="read"), 403, "forbidden")
    expect_error(fd.get("/v1/export", key="ingest"), 403, "forbidden")
    assert fd.get("/v1/export", key=None).status_code == 401
    assert fd.get("/v1/export", key="admin").status_code == 200  # admin implies export
    expect_error(fd.get("/v1/exports/not-a-uuid", key="export"), 404, "not_found")
    expect_error(fd.get("/v1/exports/00000000-0000-4000-8000-000000000000", key="export"), 404, "not_found")
    r, _, _ = D.export(fd)
    expect_error(fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="read"), 403, "forbidden")


def test_other_project_cannot_see_export(fd):
    from ingest_helpers import second_project
    keys = second_project(fd, slug="exp-other")
    r, _, _ = D.export(fd)
    eid = r.headers["X-Export-Id"]
    expect_error(fd.get(f"/v1/exports/{eid}", key=keys["export"]), 404, "not_found")
    r2 = fd.get("/v1/export", key=keys["export"])
    assert r2.status_code == 200 and r2.content == b""  # no data of the other project


def test_metrics_count_exports(fd):
    from helpers import metric_value
    before = fd.metrics()
    r, _, recs = D.export(fd)
    after = fd.metrics()
    assert len(recs) == 7
    assert metric_value(after, "feedbackd_exports_total") - metric_value(before, "feedbackd_exports_total") == 1
    assert (metric_value(after, "feedbackd_export_records_total")
            - metric_value(before, "feedbackd_export_records_total")) == 7


def test_unfinished_export_manifest(fd, db_sql):
    """An export that never finished (client gone, failure, still running): what is known."""
    pid = db_sql("SELECT id FROM projects WHERE slug = 'test'")[0][0]
    # the row as the daemon inserts it when an export starts (params has every key)
    params = {"format": "kto", "split": "all", "test_fraction": 0.1, "min_margin": 1.0, "include_meta": False,
              "since": None, "until": None, "model": None, "after": None}
    eid = db_sql("INSERT INTO exports (project_id, format, params) VALUES (%s, 'kto', %s)"
                 " RETURNING id::text", (pid, json.dumps(params)))[0][0]
    r = fd.get(f"/v1/exports/{eid}", key="export")
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["id"] == eid and m["format"] == "kto" and m["params"] == params
    assert m["finished_at"] is None and m["records"] is None and m["started_at"]

