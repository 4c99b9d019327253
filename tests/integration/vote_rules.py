"""The vote semantics of docs/api.md, computed by the tests themselves: which of the events a
test posted count, and the posting and retracting that record each event in the test's world
(an object with add(ev), which stamps its arrival, and a `retracted` set of ids)."""


def post_events(fd, world, evs, chunk=100):
    """Post evs in batches of at most `chunk` (each event must be stored) and add each to world
    in the order sent, which is the order of arrival."""
    for i in range(0, len(evs), chunk):
        part = evs[i:i + chunk]
        r = fd.post("/v1/feedback/batch", key="ingest", json={"events": part})
        assert r.status_code == 200, r.text
        assert [x["status"] for x in r.json()["results"]] == ["stored"] * len(part), r.text
        for ev in part:
            world.add(ev)


def retract(fd, world, eid):
    r = fd.delete(f"/v1/feedback/{eid}", key="ingest")
    assert r.status_code == 200, r.text
    world.retracted.add(eid)


def counting(events, retracted, erased_users=(), created=lambda ev: ev["created_at"]):
    """The latest event per (user, kind, message) — per unordered pair for comparisons, per
    reaction name, span (start, end, label) and step index — by created_at then arrival
    ("_arrival"), unless retracted; events without user and signals each count unless
    retracted; erased users' events are gone."""
    latest, out = {}, []
    for ev in events:
        if ev.get("user") in erased_users:
            continue
        # signals are not votes: each counts on its own, like an event without user
        if ev.get("user") is None or ev["kind"] == "signal":
            if ev["id"] not in retracted:
                out.append(ev)
            continue
        if ev["kind"] == "comparison":
            slot = (ev["user"], "comparison", frozenset([ev["message_id"], ev["other_message_id"]]))
        elif ev["kind"] == "reaction":  # per reaction name ("_reaction": an emoji sent as its character, resolved)
            slot = (ev["user"], "reaction", ev["message_id"], ev.get("_reaction", ev.get("emoji")))
        elif ev["kind"] == "span":
            slot = (ev["user"], "span", ev["message_id"], ev["start"], ev["end"], ev["label"])
        elif ev["kind"] == "step":
            slot = (ev["user"], "step", ev["message_id"], ev["step"])
        else:
            slot = (ev["user"], ev["kind"], ev["message_id"])
        key = (created(ev), ev["_arrival"])
        if slot not in latest or key > latest[slot][0]:
            latest[slot] = (key, ev)
    out += [ev for _, ev in latest.values() if ev["id"] not in retracted]
    return out
