"""GET /v1/agreement (docs/api.md "Rater agreement").

Ratings (thumbs and 1..5 scales) and comparisons from eight raters, with re-votes, flip-flops,
retractions and anonymous events, go in through the API (rank_data.py). This file computes
Krippendorff's alpha from the coincidence matrix as Krippendorff defines it (every ordered
pair of values within a unit, weighted 1/(m−1)) — not the server's closed form —, each
rater's agreement with the majority of the others and their flip-flops from the full event
history, and compares.
"""

import pytest

from rank_data import MODELS, World, at, post_messages
from vote_rules import post_events, retract

USERS = [f"r{i}" for i in range(8)]


def score(ev):
    scale = ev.get("scale", 2)
    return float(ev["value"]) if scale == 2 else 2 * (ev["value"] - 1) / (scale - 1) - 1


def item_and_value(ev):
    if ev["kind"] == "rating":
        return ("r", ev["message_id"]), score(ev)
    a, b = ev["message_id"], ev["other_message_id"]
    pair = tuple(sorted([a, b], key=str.encode))
    outcome = ev.get("outcome", "preferred")
    code = 0 if outcome != "preferred" else (1 if a.encode() < b.encode() else 2)
    return ("c",) + pair, float(code)


def events(world):
    w = world
    evs, n = [], 0
    quality = {}
    for c in range(12):
        for m in MODELS:
            quality[f"c{c}-{m}"] = w.rng.random()
    for c in range(12):
        for m in MODELS:
            mid = f"c{c}-{m}"
            for u in w.rng.sample(USERS, w.rng.randrange(0, 5)):
                noisy = quality[mid] + (w.rng.gauss(0, 0.2) if u != "r7" else w.rng.gauss(0, 1.5))
                if w.rng.random() < 0.5:
                    ev = {"value": 1 if noisy > 0.5 else -1}
                else:
                    ev = {"value": min(5, max(1, 1 + round(noisy * 4))), "scale": 5}
                n += 1
                evs.append({"id": f"rt-{n}", "kind": "rating", "message_id": mid, "user": u,
                            "created_at": at(w.rng.uniform(0, 240)), **ev})
        for _ in range(3):
            a, b = w.rng.sample([f"c{c}-{m}" for m in MODELS], 2)
            for u in w.rng.sample(USERS, w.rng.randrange(1, 5)):
                r = w.rng.random()
                win, lose = (a, b) if quality[a] + w.rng.gauss(0, 0.2) > quality[b] else (b, a)
                n += 1
                ev = {"id": f"cp-{n}", "kind": "comparison", "message_id": win, "other_message_id": lose, "user": u,
                      "created_at": at(w.rng.uniform(0, 240))}
                if r < 0.15:
                    ev["outcome"] = "tie" if r < 0.1 else "both_bad"
                evs.append(ev)
    # anonymous votes are nobody's
    evs += [{"id": f"anon-{i}", "kind": "rating", "message_id": "c0-alpha-1", "value": -1,
             "created_at": at(5)} for i in range(3)]
    return evs


def flip_events(world, evs):
    """Re-votes on the same items: same value again (no flip-flop), another value, and back."""
    out = []
    for k, ev in enumerate([e for e in evs if "user" in e][:60:4]):
        base = {x: y for x, y in ev.items() if not x.startswith("_")}
        if ev["kind"] == "rating":
            same, other = dict(base), dict(base, value=-ev["value"] if ev.get("scale", 2) == 2 else 6 - ev["value"])
        else:
            same = dict(base)
            other = dict(base, message_id=ev["other_message_id"], other_message_id=ev["message_id"])
        t = 241 + k
        out.append(dict(same, id=f"same-{k}", created_at=at(t)))
        out.append(dict(other, id=f"flip-{k}", created_at=at(t + 0.5)))
        if k % 3 == 0:
            out.append(dict(same, id=f"back-{k}", created_at=at(t + 0.7)))
    return out


@pytest.fixture(scope="module")
def world(feedbackd):
    w = World(4242)
    post_messages(feedbackd, w.messages())
    evs = events(w)
    post_events(feedbackd, w, evs)
    post_events(feedbackd, w, flip_events(w, evs))
    ids = [ev["id"] for ev in w.events]
    for prefix, k in (("rt-", 3), ("rt-", 10), ("cp-", 20), ("flip-", 4), ("back-", 1)):
        retract(feedbackd, w, [i for i in ids if i.startswith(prefix)][k])
    return w


def alpha(units, interval):
    """Krippendorff's alpha from the coincidence matrix; None with fewer than two units."""
    units = [vals for vals in units if len(vals) >= 2]
    if len(units) < 2:
        return None
    o = {}
    for vals in units:
        m = len(vals)
        for i, a in enumerate(vals):
            for j, b in enumerate(vals):
                if i != j:
                    o[a, b] = o.get((a, b), 0) + 1 / (m - 1)
    nc = {}
    for (a, _), x in o.items():
        nc[a] = nc.get(a, 0) + x
    n = sum(nc.values())
    d = (lambda a, b: (a - b) ** 2) if interval else (lambda a, b: float(a != b))
    dobs = sum(x * d(a, b) for (a, b), x in o.items())
    dexp = sum(nc[a] * nc[b] * d(a, b) for a in nc for b in nc)
    return 1.0 if dexp == 0 else 1 - (n - 1) * dobs / dexp


def in_window(ev, since, until):
    return (not since or ev["created_at"] >= since) and (not until or ev["created_at"] < until)


def expected(world, since=None, until=None):
    counting = [ev for ev in world.counting()
                if ev.get("user") and ev["kind"] in ("rating", "comparison") and in_window(ev, since, until)]
    units = {}
    for ev in counting:
        item, value = item_and_value(ev)
        units.setdefault(item, []).append((ev["user"], round(value, 9)))
    raters = {}
    history = {}
    for ev in sorted(world.events, key=lambda e: (e["created_at"], e["_arrival"])):
        if ev.get("user") and ev["kind"] in ("rating", "comparison") and in_window(ev, since, until):
            r = raters.setdefault(ev["user"], {"user": ev["user"], "events": 0, "on": 0, "agreed": 0, "flip_flops": 0})
            item, value = item_and_value(ev)
            key = (ev["user"], item)
            if key in history and abs(history[key] - value) > 1e-9:
                r["flip_flops"] += 1
            history[key] = value
    for item, votes in units.items():
        for i, (user, value) in enumerate(votes):
            raters[user]["events"] += 1
            if len(votes) < 2:
                continue
            others = {}
            for j, (_, v) in enumerate(votes):
                if j != i:
                    others[v] = others.get(v, 0) + 1
            top = sorted(others.values(), reverse=True)
            majority = [v for v, c in others.items() if c == top[0]]
            raters[user]["on"] += 1
            raters[user]["agreed"] += len(majority) == 1 and majority[0] == value
    out = {}
    for kind, interval, name in (("r", True, "ratings"), ("c", False, "comparisons")):
        pairable = [votes for item, votes in units.items() if item[0] == kind and len(votes) >= 2]
        out[name] = {"alpha": alpha([[v for _, v in votes] for votes in pairable], interval),
                     "items": len(pairable), "raters": len({u for votes in pairable for u, _ in votes})}
    out["raters"] = [{"user": r["user"], "events": r["events"],
                      "agreement": r["agreed"] / r["on"] if r["on"] else None, "flip_flops": r["flip_flops"]}
                     for r in sorted(raters.values(), key=lambda r: r["user"].encode())]
    return out


def agreement(fd, **params):
    r = fd.get("/v1/agreement", key="read", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def assert_close(got, want, path="$"):
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), (path, got, want)
        for k in want:
            assert_close(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (path, got, want)
        for i, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert got is not None and abs(got - want) < 1e-9, (path, got, want)
    else:
        assert got == want, (path, got, want)


def test_the_world_has_every_case(world):
    want = expected(world)
    assert want["ratings"]["items"] >= 10 and want["comparisons"]["items"] >= 10
    assert any(r["flip_flops"] > 0 for r in want["raters"])
    assert any(ev["id"].startswith("same-") for ev in world.events)
    agreements = [r["agreement"] for r in want["raters"] if r["agreement"] is not None]
    assert min(agreements) < max(agreements)
    assert 0 < want["ratings"]["alpha"] < 1


def test_all_time(feedbackd, world):
    assert_close(agreement(feedbackd), expected(world))


def test_window(feedbackd, world):
    since, until = at(60), at(180)
    assert_close(agreement(feedbackd, since=since, until=until), expected(world, since, until))
    assert_close(agreement(feedbackd, since=at(241)), expected(world, at(241)))


def test_fewer_than_two_items_is_null(feedbackd, world):
    empty = agreement(feedbackd, since="2030-01-01T00:00:00Z")
    assert empty == {"ratings": {"alpha": None, "items": 0, "raters": 0},
                     "comparisons": {"alpha": None, "items": 0, "raters": 0}, "raters": []}


@pytest.mark.parametrize("params,field", [
    ({"since": "nope"}, "since"), ({"until": "2026-13-01T00:00:00Z"}, "until"),
    ({"since": at(5), "until": at(4)}, "since"),
])
def test_bad_parameters(feedbackd, params, field):
    r = feedbackd.get("/v1/agreement", key="read", params=params)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_parameter" and err["field"] == field and err["message"]


@pytest.mark.parametrize("key,status", [("ingest", 403), ("export", 403), (None, 401), ("admin", 200)])
def test_scope(feedbackd, key, status):
    assert feedbackd.get("/v1/agreement", key=key).status_code == status

