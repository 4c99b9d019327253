"""The leaderboard's battle counters (migrations/0013_battle_counters.sql) against a
recomputation from the raw feedback and messages rows.

A seeded workload writes comparisons (re-votes of the same pair in either order, votes
without a user, ties and both_bad, pairs of one model, messages without a model or never
logged, messages logged after their votes), ratings beside them, retractions and erasures,
with catch-ups at random points. The test then works out the counting comparisons itself, in
Python (the latest vote per rater and unordered pair by (created_at, seq), none if that one
is retracted; every unretracted vote without a user), and checks

- stats_battles_daily (per UTC day and model pair) equals the battles of those votes;
- GET /v1/leaderboard?bootstrap=0 over random windows (partial days, whole days, open ends)
  gives every model's battles/wins/losses/ties/both_bad and the total of the recomputation;
- a database at the previous migration with the same data counts the same after 0013.
"""

import datetime
import os
import random

import pytest

from helpers import REPO
from stats_steps import erase, insert_feedback, insert_messages, q, retract, run_steps

DAY0 = datetime.datetime(2026, 11, 20, tzinfo=datetime.timezone.utc)
MODELS = ["A", "B", "C", "b", None]  # "B" < "C" < "b" in byte order, not in most locales


def at(seconds):
    return (DAY0 + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def workload(seed):
    """Deterministic SQL steps on project 1, each with a coin flip: catch up after it."""
    rnd = random.Random(seed)
    fid = 0
    logged = set()
    steps = []
    for _ in range(80):
        r = rnd.random()
        if r < 0.6:
            rows = []
            for _ in range(rnd.randint(1, 40)):
                fid += 1
                user = None if rnd.random() < 0.1 else "u%d" % rnd.randint(1, 10)
                # some exactly at midnight UTC: the edge between a day's counters and the events
                sec = rnd.randrange(5) * 86400 if rnd.random() < 0.05 else rnd.randint(0, 5 * 86400 - 1)
                ca = "timestamptz '%s'" % at(sec)
                mid = "m%d" % rnd.randint(1, 14)
                if rnd.random() < 0.15:
                    rows.append(f"(1,'f{fid}','rating',{q(mid)},{q(user)},1,2,NULL,NULL,{ca},'\\x00')")
                    continue
                other = "m%d" % rnd.randint(1, 14) if rnd.random() < 0.95 else "never-logged"
                if other == mid:
                    other = "m15"
                outcome = rnd.choice(["preferred"] * 4 + ["tie", "both_bad"])
                rows.append(f"(1,'f{fid}','comparison',{q(mid)},{q(user)},NULL,NULL,{q(other)},{q(outcome)},{ca},"
                            "'\\x00')")
            sql = insert_feedback("message_id, user_ref, value, scale, other_message_id, outcome, created_at,"
                                  " content_sha256", rows)
        elif r < 0.78:
            fresh = [m for m in range(1, 16) if m not in logged]
            if not fresh:
                continue
            pick = rnd.sample(fresh, min(len(fresh), rnd.randint(1, 3)))
            logged.update(pick)
            sql = insert_messages([f"(1,'m{m}','c','assistant','x',{q(rnd.choice(MODELS))},'\\x00',now())"
                                   for m in pick])
        elif r < 0.95 and fid:
            sql = retract(["f%d" % rnd.randint(1, fid) for _ in range(4)])
        else:
            sql = erase("u%d" % rnd.randint(1, 10))
        steps.append((sql, rnd.random() < 0.4))
    return steps


def battles(pg, db):
    """[(created_at, model_a, model_b, outcome index 0..3)] of the counting comparisons, from
    the raw rows: 0 = model_a preferred, 1 = model_b preferred, 2 = tie, 3 = both_bad."""
    rows = pg.sql("SELECT id, kind, user_ref, message_id, other_message_id, outcome, created_at, seq,"
                  " retracted_at IS NOT NULL FROM feedback WHERE project_id = 1", dbname=db)
    model = dict(pg.sql("SELECT id, model FROM messages WHERE project_id = 1", dbname=db))
    latest, counting = {}, []
    for row in rows:
        _, kind, user, mid, other, _, created, seq, _ = row
        if kind != "comparison":
            continue
        if user is None:
            counting.append(row)
            continue
        slot = (user, min(mid, other), max(mid, other))
        if slot not in latest or (created, seq) > (latest[slot][6], latest[slot][7]):
            latest[slot] = row
    counting += latest.values()
    out = []
    for _, _, _, mid, other, outcome, created, _, retracted in counting:
        ma, mb = model.get(mid), model.get(other)
        if retracted or ma is None or mb is None or ma == mb:
            continue
        lo, hi = sorted([ma, mb], key=str.encode)
        k = {"tie": 2, "both_bad": 3}.get(outcome, 0 if ma == lo else 1)
        out.append((created, lo, hi, k))
    return out


def daily(bs):
    cells = {}
    for created, lo, hi, k in bs:
        day = created.astimezone(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        cells.setdefault((day, lo, hi), [0, 0, 0, 0])[k] += 1
    return sorted((d, lo, hi, *c) for (d, lo, hi), c in cells.items())


def counters(pg, db):
    return pg.sql("SELECT day, model_a, model_b, a_wins, b_wins, ties, both_bad FROM stats_battles_daily"
                  " WHERE a_wins <> 0 OR b_wins <> 0 OR ties <> 0 OR both_bad <> 0"
                  " ORDER BY day, model_a COLLATE \"C\", model_b COLLATE \"C\"", dbname=db)


def per_model(bs, since=None, until=None):
    total, rows = 0, {}
    for created, lo, hi, k in bs:
        if (since and created < since) or (until and created >= until):
            continue
        total += 1
        for m, win, loss in ((lo, 0, 1), (hi, 1, 0)):
            r = rows.setdefault(m, {"battles": 0, "wins": 0, "losses": 0, "ties": 0, "both_bad": 0})
            r["battles"] += 1
            r["wins"] += k == win
            r["losses"] += k == loss
            r["ties"] += k == 2
            r["both_bad"] += k == 3
    return total, rows


def db_of(fd):
    return fd.database_url.split("dbname=")[1].split()[0]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_counters_and_leaderboard_equal_a_recomputation(pg, feedbackd_factory, seed):
    fd = feedbackd_factory(args=("--stats-catch-up-ms", "0"))
    db = db_of(fd)
    assert pg.sql("SELECT id FROM projects", dbname=db) == [(1,)]
    assert run_steps(pg, db, workload(seed)) > 5
    pg.sql("SELECT fd_stats_catch_up(1)", dbname=db)

    bs = battles(pg, db)
    assert len(bs) > 100 and {k for *_, k in bs} == {0, 1, 2, 3}
    assert len({(lo, hi) for _, lo, hi, _ in bs}) >= 3
    want = daily(bs)
    assert len({d for d, *_ in want}) == 5
    assert counters(pg, db) == want

    rnd = random.Random(seed)
    windows = [(None, None), (at(86400), None), (None, at(3 * 86400)), (at(86400), at(3 * 86400)),
               (at(3600), at(7200))]
    windows += [tuple(sorted(rnd.sample(range(0, 5 * 86400), 2))) for _ in range(6)]
    windows += [(rnd.randrange(0, 5 * 86400), None), (None, rnd.randrange(0, 5 * 86400))]
    windows += [tuple(h * 43200 for h in sorted(rnd.sample(range(0, 11), 2))) for _ in range(4)]  # midnights, noons
    for since, until in windows:
        since = at(since) if isinstance(since, int) else since
        until = at(until) if isinstance(until, int) else until
        params = {"bootstrap": 0, **({"since": since} if since else {}), **({"until": until} if until else {})}
        r = fd.get("/v1/leaderboard", key="read", params=params)
        assert r.status_code == 200, r.text
        got = r.json()
        bound = lambda s: s and datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
        total, rows = per_model(bs, bound(since), bound(until))
        assert got["battles"] == total, (since, until)
        assert {m["model"]: {k: m[k] for k in ("battles", "wins", "losses", "ties", "both_bad")}
                for m in got["models"]} == rows, (since, until)


def test_migration_0013_counts_existing_data(pg):
    """A database at the migration before 0013 with comparisons, caught up (and some rows
    written after the last catch-up): after 0013 (the SQL file as is) and one catch-up, the
    counters hold every battle once."""
    db = pg.create_database("battles_0013")
    files = sorted(f for f in os.listdir(os.path.join(REPO, "migrations")) if f.endswith(".sql"))
    mine = "0013_battle_counters.sql"

    def apply(name):
        with open(os.path.join(REPO, "migrations", name)) as f:
            pg.sql(f.read(), dbname=db)

    for name in files[:files.index(mine)]:
        apply(name)
    pg.sql("INSERT INTO projects (slug, name) VALUES ('p', 'p')", dbname=db)
    steps = workload(21)
    run_steps(pg, db, steps[:-10])
    pg.sql("SELECT fd_stats_catch_up(1)", dbname=db)
    run_steps(pg, db, [(sql, False) for sql, _ in steps[-10:]])
    apply(mine)
    pg.sql("SELECT fd_stats_catch_up(1)", dbname=db)
    want = daily(battles(pg, db))
    assert len(want) > 20
    assert counters(pg, db) == want
