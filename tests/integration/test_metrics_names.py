"""/metrics by name (docs/operations.md "Metrics"): feedbackd_reactions_stored_total{name}
and feedbackd_signals_stored_total{name} count the reaction and signal events the writer
committed. Expected values come from what this file posted: duplicates are not stored, so not
counted; retractions do not take anything back (counters). The label sets stay bounded: every
signal name of docs/api.md; reaction names of the projects' sets, at most 64 per process in
the order first stored (the default set's registered first), the rest under "other"."""

from test_metrics import scrape, value

DEFAULT = ["love", "like", "laugh", "wow", "sad", "angry", "dislike"]
SIGNALS = ["copy", "share", "regenerate", "continue", "abandon", "dwell", "retry",
           "detected_praise", "detected_complaint", "detected_correction"]
CAP = 64


def reactions(fams):
    return {l["name"]: v for _, l, v in fams["feedbackd_reactions_stored_total"]["samples"]}


def signals(fams):
    return {l["name"]: v for _, l, v in fams["feedbackd_signals_stored_total"]["samples"]}


def post(fd, key, ev):
    r = fd.post("/v1/feedback", key=key, json=ev)
    assert r.status_code in (200, 201), r.text
    return r.status_code == 201  # 200: a duplicate, not stored again


def test_reactions_and_signals_by_name(feedbackd_factory):
    fd = feedbackd_factory()
    fams = scrape(fd)
    # before any event: every default reaction name, "other" and every signal name at 0
    assert reactions(fams) == dict.fromkeys(DEFAULT + ["other"], 0)
    assert signals(fams) == dict.fromkeys(SIGNALS, 0)
    assert fams["feedbackd_reactions_stored_total"]["type"] == "counter"

    want_r = dict.fromkeys(DEFAULT + ["other"], 0)
    want_s = dict.fromkeys(SIGNALS, 0)
    evs = [
        {"id": "r1", "kind": "reaction", "message_id": "m1", "user": "u1", "emoji": "love"},
        {"id": "r2", "kind": "reaction", "message_id": "m1", "user": "u1", "emoji": "\U0001f44d"},  # like
        {"id": "r3", "kind": "reaction", "message_id": "m1", "user": "u2", "emoji": "like"},
        {"id": "r4", "kind": "reaction", "message_id": "m2", "user": "u2", "emoji": "\U0001f621"},  # angry
        {"id": "s1", "kind": "signal", "message_id": "m1", "user": "u1", "signal": "copy"},
        {"id": "s2", "kind": "signal", "message_id": "m1", "user": "u1", "signal": "copy"},
        {"id": "s3", "kind": "signal", "message_id": "m1", "signal": "dwell", "value": 1200},
        {"id": "s4", "kind": "signal", "message_id": "m2", "user": "u3", "signal": "regenerate"},
    ]
    for ev in evs + evs[:3]:  # the last three again: duplicates
        if post(fd, "ingest", ev):
            if ev["kind"] == "reaction":
                want_r[{"\U0001f44d": "like", "\U0001f621": "angry"}.get(ev["emoji"], ev["emoji"])] += 1
            else:
                want_s[ev["signal"]] += 1
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": [
        {"id": f"b{i}", "kind": "signal", "message_id": "m3", "signal": "share"} for i in range(5)]})
    assert r.status_code == 200, r.text
    want_s["share"] += 5
    assert fd.delete("/v1/feedback/r1", key="ingest").status_code == 200  # a counter does not go back
    # other kinds count in neither family
    assert post(fd, "ingest", {"id": "x1", "kind": "rating", "message_id": "m1", "value": 1})
    fams = scrape(fd)
    assert reactions(fams) == want_r and want_r["like"] == 2 and want_r["love"] == 1
    assert signals(fams) == want_s and want_s["copy"] == 2
    assert value(fams, "feedbackd_events_stored_total", kind="reaction") == sum(want_r.values())
    assert value(fams, "feedbackd_events_stored_total", kind="signal") == sum(want_s.values())


def test_reaction_names_are_bounded(feedbackd_factory):
    """Two projects with 32 names each of their own: 7 + 64 names are more than the 64 a
    process keeps; the first ones stored get their series, the rest count as "other"."""
    fd = feedbackd_factory()
    fd.cli("projects", "create", "second")
    keys = {"test": ("admin", "ingest"), "second": (fd.create_key("admin", project="second"),
                                                    fd.create_key("ingest", project="second"))}
    order = []
    for project, prefix in (("test", "p"), ("second", "q")):
        admin, ingest = keys[project]
        names = [f"{prefix}{i:02d}" for i in range(32)]
        r = fd.patch("/v1/project", key=admin, json={"reactions": [
            {"name": n, "emoji": f"e{n}", "value": 1} for n in names]})
        assert r.status_code == 200, r.text
        for i, n in enumerate(names):
            assert post(fd, ingest, {"id": f"{prefix}-{i}", "kind": "reaction", "message_id": "m1", "user": "u",
                                     "emoji": n if i % 2 else f"e{n}"})
            order.append(n)
    kept = set(DEFAULT) | set(order[:CAP - len(DEFAULT)])
    want = {n: 0 for n in DEFAULT}
    want.update({n: 1 for n in order if n in kept})
    want["other"] = sum(1 for n in order if n not in kept)
    got = reactions(scrape(fd))
    assert len(got) == CAP + 1 and want["other"] == 7
    assert got == want
