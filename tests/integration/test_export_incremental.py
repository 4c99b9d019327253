"""Incremental exports (docs/export.md "Incremental exports"): after=<watermark> re-emits every
sibling group touched by a change after the watermark (new events, new turns, retractions,
erasures); replacing a full export's records of those (conversation_id, parent_id) groups
with the incremental ones gives a new full export, except for groups left with no records."""

import export_data as D


def groups(records):
    out = {}
    for r in records:
        out.setdefault((r["meta"]["conversation_id"], r["meta"]["parent_id"]), []).append(D.canonical(r))
    return {k: sorted(v) for k, v in out.items()}


def apply(base, incremental):
    merged = dict(base)
    merged.update(groups(incremental))
    return merged


def full(fd, fmt):
    r, body, recs = D.export(fd, format=fmt, include_meta="true")
    assert r.status_code == 200, r.text
    return r.headers["X-Export-Watermark"], recs


def incr(fd, fmt, after):
    r, body, recs = D.export(fd, format=fmt, include_meta="true", after=after)
    assert r.status_code == 200, r.text
    wm = r.headers["X-Export-Watermark"]
    m = fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
    assert m["params"]["after"] == after and m["watermark"] == wm and m["records"] == len(recs)
    return wm, recs


def post_events(fd, *events):
    for ev in events:
        r = fd.post("/v1/feedback", key="ingest", json=ev)
        assert r.status_code == 201, r.text


def change_batch_1(fd):
    # new events: Green up, Blue down by a new rater -> a rated pair in c-cmp
    post_events(fd, D.thumbs("n-1", "k-green", 1, "n1", D.jan(100)), D.thumbs("n-2", "k-blue", -1, "n1", D.jan(101)))
    # a new turn: a third answer in c-basic, rated up
    r = fd.post("/v1/messages", key="ingest", json={"messages": [
        D.msg("b-nice", "c-basic", "b-u", "assistant", "Paris, France."),
        D.msg("n-u", "c-new", None, "user", "New question?"),
        D.msg("n-yes", "c-new", "n-u", "assistant", "Yes."),
        D.msg("n-no", "c-new", "n-u", "assistant", "No."),
    ]})
    assert r.status_code == 200
    post_events(fd, D.thumbs("n-3", "b-nice", 1, "n2", D.jan(102)),
                D.thumbs("n-4", "n-yes", 1, "n3", D.jan(103)), D.thumbs("n-5", "n-no", -1, "n3", D.jan(104)))
    # a retraction: c-tool's thumbs down -> its group has no pair any more
    assert fd.delete("/v1/feedback/e-t2", key="ingest").status_code == 200
    # an erasure: uf rated hat/dog in c-multi
    assert fd.delete("/v1/users/uf", key="admin").status_code == 200


def change_batch_2(fd):
    # a second rating of B (1/5): B's score (0.5 - 1) / 2 = -0.25 -> A>B (1.25) and A>C (1.5)
    post_events(fd, {"id": "n-6", "kind": "rating", "message_id": "s-b", "value": 1, "scale": 5, "user": "g4",
                     "created_at": "2026-03-02T00:00:00Z"})
    # a non-trivial edit of the sibling that had only a trivial one
    post_events(fd, {"id": "n-7", "kind": "edit", "message_id": "d-leaves", "user": "ui",
                     "edited_content": "Leaves fall softly", "created_at": D.jan(110)})


def test_incremental_replaces_touched_groups(feedbackd_factory):
    fd = feedbackd_factory()
    D.load(fd)
    w0, f0 = full(fd, "trl")
    w0k, f0k = full(fd, "kto")
    # nothing changed: an incremental export is empty
    _, nothing = incr(fd, "trl", w0)
    assert nothing == []

    change_batch_1(fd)
    w1, i1 = incr(fd, "trl", w0)
    _, i1k = incr(fd, "kto", w0k)
    _, f1 = full(fd, "trl")
    _, f1k = full(fd, "kto")
    # exactly the touched groups that still have records
    assert set(groups(i1)) == {("c-basic", "b-u"), ("c-cmp", "k-u"), ("c-new", "n-u")}
    assert set(groups(i1k)) == {("c-basic", "b-u"), ("c-cmp", "k-u"), ("c-new", "n-u"), ("c-tool", "t-tool")}
    # the new records, by hand
    assert {"prompt": D.P_CMP, "chosen": D.A("Green"), "rejected": D.A("Blue")} in [D.without_meta(x) for x in i1]
    assert {"prompt": D.P_BASIC, "chosen": D.A("Paris, France."), "rejected": D.A("Lyon.")} in \
        [D.without_meta(x) for x in i1]
    # the documented exception: groups left with no records vanish only from a full export
    gone = {("c-tool", "t-tool"), ("c-multi", "p-u2")}
    merged = apply(groups(f0), i1)
    assert set(merged) - set(groups(f1)) == gone
    assert {k: v for k, v in merged.items() if k not in gone} == groups(f1)
    gone_k = {("c-multi", "p-u2")}  # kto: c-tool still has "It is 20C and sunny." true
    merged_k = apply(groups(f0k), i1k)
    assert set(merged_k) - set(groups(f1k)) == gone_k
    assert {k: v for k, v in merged_k.items() if k not in gone_k} == groups(f1k)

    # two consecutive incrementals cover a full export
    change_batch_2(fd)
    w2, i2 = incr(fd, "trl", w1)
    _, f2 = full(fd, "trl")
    assert set(groups(i2)) == {("c-edit", "d-u"), ("c-scale", "s-u")}
    assert sorted(D.canonical(D.without_meta(x)) for x in i2 if x["meta"]["conversation_id"] == "c-scale") == sorted(
        D.canonical({"prompt": D.P_SCALE, "chosen": D.A(c), "rejected": D.A(r)}) for c, r in (("A", "C"), ("A", "B")))
    merged2 = apply(apply(groups(f0), i1), i2)
    assert set(merged2) - set(groups(f2)) == gone
    assert {k: v for k, v in merged2.items() if k not in gone} == groups(f2)
    # and the watermarks advance
    _, after_all = incr(fd, "trl", w2)
    assert after_all == []


def test_incremental_watermark_of_http_and_cli_agree(feedbackd_factory):
    """An incremental export from the CLI sees the same changes as one over HTTP."""
    fd = feedbackd_factory()
    D.load(fd)
    w0, _ = full(fd, "trl")
    change_batch_2(fd)
    _, via_http = incr(fd, "trl", w0)
    r = fd.cli("export", "--project", "test", "--after", w0, "--include-meta")
    via_cli = D.parse_ndjson(r.stdout)
    assert D.multiset(via_cli) == D.multiset(via_http) and via_cli
    assert sorted(D.canonical(x) for x in via_cli) == sorted(D.canonical(x) for x in via_http)
