"""GET /v1/leaderboard (docs/api.md "Model leaderboard").

Comparisons go in through the API (rank_data.py); this file derives the battles itself (the
latest-vote rule, retractions, both messages logged with different non-null models, the
[since, until) window) and fits Bradley–Terry with its own algorithm — Zermelo's MM
iteration, not the server's Newton — then compares ratings to 1e-6 and every count exactly.
The bootstrap's random draws are the server's; its intervals are checked for what the
contract promises: determinism, the rank rule, intervals around the rating.
"""

import math

import pytest

from rank_data import MODELS, STRENGTH, World, at, post_messages
from vote_rules import post_events, retract

LOG10E_400 = 400 / math.log(10)


def outcome_between(world, a, b):
    """preferred with the BT probability of the answers' models (no model: strength 0)."""
    r = world.rng.random()
    if r < 0.10:
        return "tie", a, b
    if r < 0.15:
        return "both_bad", a, b
    sa, sb = STRENGTH.get(world.model_of.get(a), 0), STRENGTH.get(world.model_of.get(b), 0)
    return ("preferred", a, b) if world.rng.random() < 1 / (1 + math.exp(sb - sa)) else ("preferred", b, a)


def comparisons(world, n=700):
    evs = []
    answers = lambda c: [f"c{c}-{m}" for m in MODELS] + [f"c{c}-anon", f"c{c}-twin"]
    for i in range(n):
        c = world.rng.randrange(12)
        pool = answers(c)
        if world.rng.random() < 0.1:  # battles need no sibling relation
            pool = pool + answers((c + 1) % 12)
        if world.rng.random() < 0.4:  # delta-4 plays less: min_battles can drop it
            pool = [m for m in pool if "delta" not in m]
        a, b = world.rng.sample(pool, 2)
        if i % 97 == 0:
            b = "never-logged"
        outcome, win, lose = outcome_between(world, a, b)
        ev = {"id": f"cmp-{i}", "kind": "comparison", "message_id": win, "other_message_id": lose,
              "created_at": at(world.rng.uniform(0, 240))}
        if outcome != "preferred":
            ev["outcome"] = outcome
        if world.rng.random() < 0.85:
            ev["user"] = f"u{world.rng.randrange(8)}"
        evs.append(ev)
    return evs


@pytest.fixture(scope="module")
def world(feedbackd):
    w = World(20260504)
    post_messages(feedbackd, w.messages())
    evs = comparisons(w)
    post_events(feedbackd, w, evs)
    # re-votes: some later (they replace the vote), some older (they never count)
    again = []
    for k, ev in enumerate(evs[:120:3]):
        if "user" not in ev:
            continue
        later = k % 2 == 0
        again.append({**{x: y for x, y in ev.items() if x not in ("_arrival", "outcome")},
                      "id": f"re-{k}", "message_id": ev["other_message_id"], "other_message_id": ev["message_id"],
                      "created_at": at(241 if later else 0) if later else "2026-05-03T00:00:00Z"})
    post_events(feedbackd, w, again)
    for eid in ("cmp-5", "cmp-50", "cmp-77", "re-2", "cmp-300", "cmp-301"):
        retract(feedbackd, w, eid)
    return w


def battles(world, since=None, until=None):
    """{(lo, hi): [lo_wins, hi_wins, ties, both_bad]} over the counting comparisons."""
    cells = {}
    for ev in world.counting():
        if ev["kind"] != "comparison":
            continue
        if (since and ev["created_at"] < since) or (until and ev["created_at"] >= until):
            continue
        ma, mb = world.model_of.get(ev["message_id"]), world.model_of.get(ev["other_message_id"])
        if ma is None or mb is None or ma == mb:
            continue
        lo, hi = sorted([ma, mb], key=lambda s: s.encode())
        cell = cells.setdefault((lo, hi), [0, 0, 0, 0])
        outcome = ev.get("outcome", "preferred")
        if outcome == "tie":
            cell[2] += 1
        elif outcome == "both_bad":
            cell[3] += 1
        else:
            cell[0 if ma == lo else 1] += 1
    return cells


def bt_mm(cells):
    """Zermelo's MM iteration on half-win counts; returns centred θ per model."""
    models = sorted({m for pair in cells for m in pair})
    w = {(a, b): 0.0 for a in models for b in models}
    for (lo, hi), (lw, hw, t, bb) in cells.items():
        w[lo, hi] += lw + (t + bb) / 2
        w[hi, lo] += hw + (t + bb) / 2
    p = {m: 1.0 for m in models}
    for _ in range(100000):
        new = {}
        for i in models:
            wins = sum(w[i, j] for j in models if j != i)
            denom = sum((w[i, j] + w[j, i]) / (p[i] + p[j]) for j in models if j != i)
            new[i] = wins / denom
        g = math.exp(sum(math.log(v) for v in new.values()) / len(new))
        new = {m: v / g for m, v in new.items()}
        done = max(abs(math.log(new[m] / p[m])) for m in models) < 1e-14
        p = new
        if done:
            break
    th = {m: math.log(v) for m, v in p.items()}
    mean = sum(th.values()) / len(th)
    return {m: t - mean for m, t in th.items()}


def expected(world, since=None, until=None, min_battles=0):
    cells = battles(world, since, until)
    total_of = {}
    for (lo, hi), c in cells.items():
        total_of[lo] = total_of.get(lo, 0) + sum(c)
        total_of[hi] = total_of.get(hi, 0) + sum(c)
    cells = {k: c for k, c in cells.items() if total_of[k[0]] >= min_battles and total_of[k[1]] >= min_battles}
    th = bt_mm(cells)
    rows = {}
    for (lo, hi), (lw, hw, t, bb) in cells.items():
        for m, w, l in ((lo, lw, hw), (hi, hw, lw)):
            r = rows.setdefault(m, {"model": m, "battles": 0, "wins": 0, "losses": 0, "ties": 0, "both_bad": 0})
            r["battles"] += lw + hw + t + bb
            r["wins"] += w
            r["losses"] += l
            r["ties"] += t
            r["both_bad"] += bb
    for m, r in rows.items():
        r["rating"] = 1000 + LOG10E_400 * th[m]
    out = sorted(rows.values(), key=lambda r: (-r["rating"], r["model"].encode()))
    return sum(sum(c) for c in cells.values()), out


def leaderboard(fd, **params):
    r = fd.get("/v1/leaderboard", key="read", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def assert_matches(got, want_total, want_rows, intervals):
    assert got["method"] == "bradley_terry" and got["ties_as"] == "half"
    assert got["battles"] == want_total
    assert [m["model"] for m in got["models"]] == [r["model"] for r in want_rows]
    for g, w in zip(got["models"], want_rows):
        for k in ("battles", "wins", "losses", "ties", "both_bad"):
            assert g[k] == w[k], (g, w, k)
        assert abs(g["rating"] - w["rating"]) < 1e-6, (g, w)
    assert abs(sum(m["rating"] for m in got["models"]) / len(got["models"]) - 1000) < 1e-9
    if not intervals:
        ratings = [m["rating"] for m in got["models"]]
        for m in got["models"]:
            assert m["ci95"] is None
            assert m["rank"] == 1 + sum(r > m["rating"] for r in ratings)


def test_the_world_has_every_case(world):
    """Guards the test: re-votes that count and that do not, retractions, anonymous votes,
    unlogged and model-less messages, same-model pairs, ties and both_bad."""
    counting = {ev["id"] for ev in world.counting()}
    assert any(i.startswith("re-") for i in counting) and any(ev["id"].startswith("re-") and ev["id"] not in counting
                                                              for ev in world.events)
    evs = [ev for ev in world.events if ev["id"] in counting]
    assert any("user" not in ev for ev in evs)
    assert any(ev["other_message_id"] == "never-logged" for ev in evs)
    assert any(ev["message_id"].endswith("-anon") or ev["other_message_id"].endswith("-anon") for ev in evs)
    assert any({world.model_of.get(ev["message_id"]), world.model_of.get(ev["other_message_id"])} == {"alpha-1"}
               for ev in evs)
    assert {ev.get("outcome") for ev in evs} >= {"tie", "both_bad", None}
    total, rows = expected(world)
    assert total > 300 and len(rows) == 4


def test_all_time_without_intervals(feedbackd, world):
    total, rows = expected(world)
    assert_matches(leaderboard(feedbackd, bootstrap=0), total, rows, intervals=False)


def test_default_bootstrap_intervals(feedbackd, world):
    got = leaderboard(feedbackd)
    total, rows = expected(world)
    assert_matches(got, total, rows, intervals=True)
    for m in got["models"]:
        lo, hi = m["ci95"]
        assert lo < m["rating"] < hi
        assert m["rank"] == 1 + sum(o["ci95"][0] > hi for o in got["models"])
    # the strongest true model is clearly first, the weakest clearly behind it
    assert got["models"][0]["model"] == "alpha-1" and got["models"][0]["rank"] == 1
    assert got["models"][-1]["rank"] > 1
    assert leaderboard(feedbackd) == got  # a fixed seed: the same data, the same answer


def test_more_resamples_give_other_but_similar_intervals(feedbackd, world):
    a, b = leaderboard(feedbackd, bootstrap=50), leaderboard(feedbackd, bootstrap=400)
    for x, y in zip(a["models"], b["models"]):
        assert x["model"] == y["model"] and x["rating"] == y["rating"]
        width = y["ci95"][1] - y["ci95"][0]
        assert abs(x["ci95"][0] - y["ci95"][0]) < width and abs(x["ci95"][1] - y["ci95"][1]) < width


def test_window(feedbackd, world):
    since, until = at(48), at(200)
    total, rows = expected(world, since, until)
    assert_matches(leaderboard(feedbackd, since=since, until=until, bootstrap=0), total, rows, intervals=False)
    # since inclusive, until exclusive: an event exactly at the bound
    ev = next(e for e in world.counting() if e["kind"] == "comparison" and
              {world.model_of.get(e["message_id"]), world.model_of.get(e["other_message_id"])} == {"alpha-1", "beta-2"})
    t = ev["created_at"]
    assert leaderboard(feedbackd, since=t, bootstrap=0)["battles"] == expected(world, since=t)[0]
    assert leaderboard(feedbackd, until=t, bootstrap=0)["battles"] == expected(world, until=t)[0]
    assert expected(world, since=t)[0] + expected(world, until=t)[0] == total + expected(world, None, since)[0] + \
        expected(world, until, None)[0]


def test_min_battles_leaves_models_out_of_the_fit(feedbackd, world):
    _, rows = expected(world)
    fewest = min(r["battles"] for r in rows)
    threshold = fewest + 1
    total, rows2 = expected(world, min_battles=threshold)
    assert len(rows2) == len(rows) - 1
    assert_matches(leaderboard(feedbackd, min_battles=threshold, bootstrap=0), total, rows2, intervals=False)
    assert len(leaderboard(feedbackd, min_battles=fewest, bootstrap=0)["models"]) == len(rows)
    assert leaderboard(feedbackd, min_battles=10**9, bootstrap=0) == {
        "method": "bradley_terry", "battles": 0, "ties_as": "half", "models": []}


def test_empty_window(feedbackd, world):
    got = leaderboard(feedbackd, since="2030-01-01T00:00:00Z")
    assert got == {"method": "bradley_terry", "battles": 0, "ties_as": "half", "models": []}


@pytest.mark.parametrize("params,field", [
    ({"since": "yesterday"}, "since"),
    ({"until": "2026-05-04"}, "until"),
    ({"since": at(10), "until": at(10)}, "since"),
    ({"since": at(11), "until": at(10)}, "since"),
    ({"min_battles": "-1"}, "min_battles"),
    ({"min_battles": "1.5"}, "min_battles"),
    ({"min_battles": ""}, "min_battles"),
    ({"min_battles": " 3"}, "min_battles"),
    ({"min_battles": "99999999999999999999999"}, "min_battles"),
    ({"bootstrap": "1001"}, "bootstrap"),
    ({"bootstrap": "+5"}, "bootstrap"),
    ({"bootstrap": "x"}, "bootstrap"),
])
def test_bad_parameters(feedbackd, params, field):
    r = feedbackd.get("/v1/leaderboard", key="read", params=params)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_parameter" and err["field"] == field and err["message"]


@pytest.mark.parametrize("key,status", [("ingest", 403), ("export", 403), (None, 401), ("admin", 200)])
def test_scope(feedbackd, key, status):
    assert feedbackd.get("/v1/leaderboard", key=key, params={"bootstrap": 0}).status_code == status


def test_undefeated_model_stays_finite(feedbackd):
    """A project where one model never loses: no maximum-likelihood estimate exists; the
    answer is still finite, ordered, and the undefeated model is first."""
    feedbackd.cli("projects", "create", "lb-undefeated")
    ingest = feedbackd.cli("keys", "create", "--project", "lb-undefeated", "--scopes", "ingest").stdout.strip()
    read = feedbackd.cli("keys", "create", "--project", "lb-undefeated", "--scopes", "read").stdout.strip()
    msgs = [{"id": f"{m}-{i}", "conversation_id": f"k{i}", "role": "assistant", "content": f"{m} {i}", "model": m}
            for m in ("champ", "mid", "low") for i in range(3)]
    assert feedbackd.post("/v1/messages", key=ingest, json={"messages": msgs}).status_code == 200
    evs = [{"id": f"u{i}", "kind": "comparison", "message_id": f"champ-{i}", "other_message_id": f"mid-{i}"}
           for i in range(3)]
    evs += [{"id": f"v{i}", "kind": "comparison", "message_id": f"mid-{i}", "other_message_id": f"low-{i}"}
            for i in range(3)]
    evs += [{"id": "w0", "kind": "comparison", "message_id": "low-0", "other_message_id": "mid-0", "outcome": "tie"}]
    assert feedbackd.post("/v1/feedback/batch", key=ingest, json={"events": evs}).status_code == 200
    r = feedbackd.get("/v1/leaderboard", key=read)
    assert r.status_code == 200, r.text
    models = r.json()["models"]
    assert [m["model"] for m in models] == ["champ", "mid", "low"]
    for m in models:
        assert math.isfinite(m["rating"]) and all(math.isfinite(x) for x in m["ci95"])
    assert models[0]["rating"] < 3000  # the prior is worth one battle: no runaway rating
