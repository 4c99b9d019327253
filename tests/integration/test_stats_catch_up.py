"""Stats maintenance after the write (migrations/0003_stats_catch_up.sql).

The writer only INSERTs; fd_stats_catch_up() brings the stats tables up to date later (in the
background, and before every GET /v1/stats). These tests check that

- the catch-up leaves exactly the state that 0002's per-statement triggers left, for the same
  writes (a reference database with only 0001 + 0002 applied runs the same workload: inserts,
  re-votes, late messages, retractions, erasures, with catch-ups at random points);
- the background thread catches up without any stats read, and not at all when switched off
  (then a stats read still counts everything);
- a retraction or an erasure that runs while a catch-up holds the project's lock cannot leave
  the retracted or erased event counted.
"""

import os
import random
import threading
import time

import pytest

from helpers import REPO, Feedbackd, apply_migrations, metric_value, wait_until
from stats_steps import erase, insert_feedback, insert_messages, q, retract, run_steps

# Every vote slot and its latest event, in either schema: until migration 0020 stats_slots held
# every slot; since, a slot whose latest event counts is that event's row in stats_events and
# stats_slots keeps only the slots whose latest was retracted. (Before 0020 every counting
# event with a rater is named by its slot, so the second part adds nothing there.)
SLOTS = ("SELECT 's', user_ref, kind, k1, k2, latest_id FROM stats_slots"
         " UNION ALL SELECT 's', user_ref, kind, k1, k2, id FROM stats_events e WHERE user_ref IS NOT NULL"
         " AND NOT EXISTS (SELECT FROM stats_slots s WHERE s.project_id = e.project_id AND s.latest_id = e.id)"
         " ORDER BY 2, 3, 4, 5")

# Everything the stats tables hold, with counters summed over their shards (a shard alone
# means nothing) and zero sums left out.
DUMP = [
    "SELECT 'h', hour::text, kind, model, sum(events), sum(ratings), sum(up), sum(down), sum(comments) FROM stats_hourly"
    " GROUP BY 2, 3, 4 HAVING sum(events) <> 0 OR sum(ratings) <> 0 OR sum(up) <> 0 OR sum(down) <> 0"
    " OR sum(comments) <> 0 ORDER BY 2, 3, 4",
    "SELECT 'd', day::text, kind, model, sum(events), sum(ratings), sum(up), sum(down), sum(comments) FROM stats_daily"
    " GROUP BY 2, 3, 4 HAVING sum(events) <> 0 OR sum(ratings) <> 0 OR sum(up) <> 0 OR sum(down) <> 0"
    " OR sum(comments) <> 0 ORDER BY 2, 3, 4",
    "SELECT 'ht', hour::text, tag, sum(events), sum(ratings), sum(up), sum(down) FROM stats_hourly_tags"
    " GROUP BY 2, 3 HAVING sum(events) <> 0 OR sum(ratings) <> 0 OR sum(up) <> 0 OR sum(down) <> 0 ORDER BY 2, 3",
    "SELECT 'dt', day::text, tag, sum(events), sum(ratings), sum(up), sum(down) FROM stats_daily_tags"
    " GROUP BY 2, 3 HAVING sum(events) <> 0 OR sum(ratings) <> 0 OR sum(up) <> 0 OR sum(down) <> 0 ORDER BY 2, 3",
    "SELECT 'e', id, created_at::text, kind, user_ref, k1, k2, message_id, model, vote, has_comment, tags"
    " FROM stats_events ORDER BY id",
    SLOTS,
]


def workload(seed):
    """Deterministic SQL steps on project 1: feedback batches (every kind, re-votes of the
    same slots, events without user, scale and thumbs ratings, tags, comments), message
    batches (some after their feedback, with models), retractions and erasures. Each step
    is followed by a coin flip: True means "catch up here" (ignored by the reference)."""
    rnd = random.Random(seed)
    fid = 0
    steps = []
    for _ in range(60):
        r = rnd.random()
        if r < 0.7:
            rows = []
            for _ in range(rnd.randint(1, 40)):
                fid += 1
                kind = rnd.choice(["rating"] * 4 + ["comment", "edit", "comparison"])
                mid = "m%d" % rnd.randint(1, 60)
                user = "NULL" if rnd.random() < 0.1 else q("u%d" % rnd.randint(1, 15))
                val, sc = "NULL", "NULL"
                if kind == "rating":
                    if rnd.random() < 0.7:
                        val, sc = str(rnd.choice([-1, 1])), "2"
                    else:
                        val, sc = str(rnd.randint(1, 5)), "5"
                tags = "'{%s}'" % ",".join(rnd.sample(["a", "b", "c", "d"], rnd.randint(0, 2)))
                cm = q("c") if rnd.random() < 0.3 else "NULL"
                ec = q("e") if kind == "edit" else "NULL"
                om = q("m%d" % rnd.randint(1, 60)) if kind == "comparison" else "NULL"
                oc = q("preferred") if kind == "comparison" else "NULL"
                ca = "timestamptz '2026-11-20 00:00Z' + interval '%d seconds'" % rnd.randint(0, 5 * 86400)
                rows.append(f"(1,'f{fid}','{kind}',{q(mid)},{user},{val},{sc},{tags},{cm},{ec},{om},{oc},{ca},'\\x00')")
            sql = insert_feedback("message_id, user_ref, value, scale, tags, comment, edited_content,"
                                  " other_message_id, outcome, created_at, content_sha256", rows)
        elif r < 0.82:
            sql = insert_messages([f"(1,'m{m}','c{m}','assistant','x',{q(rnd.choice(['A', 'B', 'C']))},'\\x00',now())"
                                   for m in rnd.sample(range(1, 61), 3)], on_conflict=True)
        elif r < 0.92 and fid:
            sql = retract(["f%d" % rnd.randint(1, fid) for _ in range(3)])
        else:
            sql = erase("u%d" % rnd.randint(1, 15))
        steps.append((sql, rnd.random() < 0.4))
    return steps


def dump(pg, db):
    out = []
    for query in DUMP:
        out.extend(pg.sql(query, dbname=db))
    return out


def with_reference(pg, feedbackd_factory):
    """A database migrated to the latest schema and a reference one with only 0001 + 0002
    applied (the per-statement triggers), each with project 1."""
    fd = feedbackd_factory(project=None, start=False)  # migrated to the latest schema
    db = db_of(fd)
    ref = pg.create_database("stats_ref")
    for name in ("0001_initial.sql", "0002_stats.sql"):
        with open(os.path.join(REPO, "migrations", name)) as f:
            pg.sql(f.read(), dbname=ref)
    for d in (db, ref):
        pg.sql("INSERT INTO projects (slug, name) VALUES ('p', 'p')", dbname=d)
        assert pg.sql("SELECT id FROM projects", dbname=d) == [(1,)]
    return db, ref


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_catch_up_equals_the_0002_triggers(pg, feedbackd_factory, seed):
    db, ref = with_reference(pg, feedbackd_factory)

    caught_up = 0
    conn, conn_ref = pg.connect(db), pg.connect(ref)
    with conn.cursor() as cur, conn_ref.cursor() as cur_ref:
        for sql, catch_up in workload(seed):
            cur.execute(sql)
            cur_ref.execute(sql)
            if catch_up:
                cur.execute("SELECT fd_stats_catch_up(1)")
                caught_up += 1
        cur.execute("SELECT fd_stats_catch_up(1)")
    conn.close()
    conn_ref.close()

    got, want = dump(pg, db), dump(pg, ref)
    assert caught_up > 5
    assert sum(1 for r in want if r[0] == "e") > 100, "the workload should leave many counting events"
    assert got == want


def rating(fid, user, created, value=1, message="mA"):
    """One thumbs rating row of feedback on project 1, created `created` seconds after a fixed
    instant."""
    return (f"(1,'{fid}','rating',{q(message)},{q(user)},{value},2,'{{}}',NULL,NULL,NULL,NULL,"
            f"timestamptz '2026-11-20 00:00Z' + interval '{created} seconds','\\x00')")


def ratings(*rows):
    return insert_feedback("message_id, user_ref, value, scale, tags, comment, edited_content,"
                           " other_message_id, outcome, created_at, content_sha256", list(rows))


# Vote slots at their edges, each scenario on its own rater (one slot: message mA, thumbs):
# what counts at the end is worked out by hand from the rules (docs/api.md "Vote semantics"):
# the latest event by (created_at, seq) holds the slot; a retracted latest empties it and
# nothing older comes back; an erasure removes the rater's slots.
SLOT_STEPS = [
    # a: a counting event beaten by a later one, then a late older one that never counts
    (ratings(rating("a1", "ua", 100)), True),
    (ratings(rating("a2", "ua", 200)), True),
    (ratings(rating("a3", "ua", 150)), True),
    # b: the counting latest retracted (the slot keeps it); an older event arrives: nothing
    # counts; a newer one: it counts
    (ratings(rating("b1", "ub", 100)), True),
    (retract(["b1"]), True),
    (ratings(rating("b2", "ub", 50)), True),
    (ratings(rating("b3", "ub", 300)), True),
    # c: a newer event that is already retracted when the catch-up first sees it takes the
    # slot from the counting one; an event between them never counts
    (ratings(rating("c1", "uc", 100)), True),
    (ratings(rating("c2", "uc", 300)), False),
    (retract(["c2"]), True),
    (ratings(rating("c3", "uc", 200)), True),
    # d: a retracted latest replaced by a newer retracted one, then one between the two:
    # nothing counts; then a newer one counts
    (ratings(rating("d1", "ud", 100)), True),
    (retract(["d1"]), True),
    (ratings(rating("d2", "ud", 300)), False),
    (retract(["d2"]), True),
    (ratings(rating("d3", "ud", 200)), True),
    (ratings(rating("d4", "ud", 400, value=-1)), True),
    # e: same created_at: the later arrival (higher seq) wins, against a counting event and
    # within one catch-up
    (ratings(rating("e1", "ue", 100)), True),
    (ratings(rating("e2", "ue", 100, value=-1)), True),
    (ratings(rating("e3", "ue", 500)), False),
    (ratings(rating("e4", "ue", 500, value=-1)), True),
    # f: a retracted latest, then the rater erased: the slot is gone, an older event counts
    (ratings(rating("f1", "uf", 300)), True),
    (retract(["f1"]), True),
    (erase("uf"), True),
    (ratings(rating("f2", "uf", 100)), True),
    # g: several events of one slot in one catch-up, the latest retracted: none counts
    (ratings(rating("g1", "ug", 100)), False),
    (ratings(rating("g2", "ug", 300)), False),
    (ratings(rating("g3", "ug", 200)), False),
    (retract(["g2"]), True),
    (ratings(rating("g4", "ug", 250)), True),
]
SLOT_COUNTING = {"a2", "b3", "d4", "e4", "f2"}


def test_vote_slot_edges_equal_the_rules_and_the_0002_triggers(pg, feedbackd_factory):
    db, ref = with_reference(pg, feedbackd_factory)
    run_steps(pg, db, SLOT_STEPS, final=True)
    run_steps(pg, ref, [(sql, False) for sql, _ in SLOT_STEPS])
    counting = {r[0] for r in pg.sql("SELECT id FROM stats_events", dbname=db)}
    assert counting == SLOT_COUNTING
    assert pg.sql("SELECT sum(events), sum(up), sum(down) FROM stats_hourly", dbname=db) == \
        [(len(SLOT_COUNTING), 3, 2)]  # a2 b3 f2 up, d4 e4 down
    assert dump(pg, db) == dump(pg, ref)


def test_a_late_commit_with_the_same_created_at_loses_to_a_higher_seq(pg, feedbackd_factory):
    """Two events of one slot with the same created_at, the one with the lower seq committed
    after the other was counted: the counting one (higher seq) stays; the catch-up reads its
    seq from feedback for that tie."""
    fd = feedbackd_factory(project=None, start=False)
    db = db_of(fd)
    pg.sql("INSERT INTO projects (slug, name) VALUES ('p', 'p')", dbname=db)
    early = pg.connect(db)
    early.autocommit = False
    with early.cursor() as cur:
        cur.execute(ratings(rating("h1", "uh", 100)))  # lower seq, not committed yet
    run_steps(pg, db, [(ratings(rating("h2", "uh", 100, value=-1)), True)])
    assert pg.sql("SELECT id FROM stats_events", dbname=db) == [("h2",)]
    early.commit()
    early.close()
    run_steps(pg, db, [], final=True)
    seqs = dict(pg.sql("SELECT id, seq FROM feedback", dbname=db))
    assert seqs["h1"] < seqs["h2"]
    assert pg.sql("SELECT id FROM stats_events", dbname=db) == [("h2",)]
    assert pg.sql("SELECT sum(events), sum(up), sum(down) FROM stats_hourly", dbname=db) == [(1, 0, 1)]


def counted(pg, db):
    """Counting events in stats_events and events summed in the hourly counters."""
    events = pg.sql("SELECT count(*) FROM stats_events", dbname=db)[0][0]
    hourly = pg.sql("SELECT coalesce(sum(events), 0) FROM stats_hourly", dbname=db)[0][0]
    return events, hourly


def post_ratings(fd, n, prefix):
    for i in range(n):
        r = fd.post("/v1/feedback", key=fd.keys["ingest"],
                    json={"id": f"{prefix}{i}", "kind": "rating", "message_id": f"{prefix}m{i}",
                          "user": f"{prefix}u{i}", "value": 1})
        assert r.status_code == 201, r.text


def db_of(fd):
    return fd.database_url.split("dbname=")[1].split()[0]


def test_background_catch_up_without_reads(pg, feedbackd_factory):
    fd = feedbackd_factory(args=("--stats-catch-up-ms", "100"))
    post_ratings(fd, 7, "bg")
    # no stats read: the background thread alone brings the tables up to date
    wait_until(lambda: counted(pg, db_of(fd)) == (7, 7), timeout=10, what="background catch-up of 7 events")
    # and /metrics shows the runs (every 100 ms), none failed
    wait_until(lambda: metric_value(fd.metrics(), "feedbackd_stats_catch_up_duration_seconds_count") >= 2,
               timeout=10, what="catch-up runs in /metrics")
    assert metric_value(fd.metrics(), "feedbackd_stats_catch_up_failures_total") == 0


def test_background_catch_up_survives_a_database_outage(pg_factory):
    own = pg_factory()
    db = own.create_database("cu_outage")
    fd = Feedbackd(own.conninfo(db), name="cu_outage", args=("--stats-catch-up-ms", "100"))
    try:
        fd.setup()
        fd.start()
        post_ratings(fd, 3, "before")
        wait_until(lambda: counted(own, db) == (3, 3), timeout=10, what="catch-up before the outage")
        own.stop(mode="fast")
        wait_until(lambda: metric_value(fd.metrics(), "feedbackd_stats_catch_up_failures_total") >= 1,
                   timeout=10, what="a failed catch-up while PostgreSQL is down")
        own.start()
        # the writers reconnect by themselves (ingest answers 503 meanwhile), and so does the
        # catch-up thread: events written after the outage reach the stats without a read
        wait_until(lambda: fd.post("/v1/feedback", key="ingest", json={
            "id": "after0", "kind": "rating", "message_id": "afterm0", "user": "afteru0", "value": -1}
        ).status_code in (200, 201), timeout=30, interval=0.2, what="ingest after the outage")
        wait_until(lambda: counted(own, db) == (4, 4), timeout=15, what="catch-up after the outage")
        assert fd.running()
    finally:
        fd.destroy()


def test_no_background_catch_up_when_off_but_reads_are_exact(pg, feedbackd_factory):
    fd = feedbackd_factory(args=("--stats-catch-up-ms", "0"))
    post_ratings(fd, 5, "off")
    time.sleep(1.5)
    assert counted(pg, db_of(fd)) == (0, 0), "with stats_catch_up_ms = 0 nothing runs in the background"
    r = fd.get("/v1/stats?since=2000-01-01T00:00:00Z", key=fd.keys["read"])
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["events"] == 5
    assert r.json()["totals"]["up"] == 5
    assert counted(pg, db_of(fd)) == (5, 5)


def hold_catch_up(pg, db):
    """A connection inside a catch-up transaction of project 1: it holds the project's lock
    until the caller commits."""
    conn = pg.connect(db)
    conn.autocommit = False
    cur = conn.cursor()
    cur.execute("SELECT fd_stats_catch_up(1)")
    return conn


@pytest.mark.parametrize("action", ["retract", "erase"])
def test_retraction_and_erasure_wait_for_a_running_catch_up(pg, feedbackd_factory, action):
    fd = feedbackd_factory(args=("--stats-catch-up-ms", "0"))
    db = db_of(fd)
    assert pg.sql("SELECT id FROM projects", dbname=db) == [(1,)]
    post_ratings(fd, 3, "race")
    # this catch-up counts the three events but has not committed when the retraction or
    # erasure of race0 arrives: the latter must wait and then take race0 out again
    conn = hold_catch_up(pg, db)
    result = {}

    def act():
        if action == "retract":
            result["r"] = fd.delete("/v1/feedback/race0", key=fd.keys["ingest"], timeout=30)
        else:
            result["r"] = fd.delete("/v1/users/raceu0", key=fd.keys["admin"], timeout=30)

    t = threading.Thread(target=act)
    t.start()
    time.sleep(0.5)
    assert "r" not in result, f"{action} should wait for the catch-up's lock"
    conn.commit()
    conn.close()
    t.join(30)
    assert result["r"].status_code in (200, 204), result["r"].text
    r = fd.get("/v1/stats?since=2000-01-01T00:00:00Z", key=fd.keys["read"])
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["events"] == 2
    assert counted(pg, db) == (2, 2)
    assert pg.sql("SELECT id FROM stats_events ORDER BY id", dbname=db) == [("race1",), ("race2",)]


def named_workload(seed):
    """Like workload(), with reactions (re-reacted names), signals (each its own), spans
    (re-labelled passages), assistant and user messages over five days, retractions and
    erasures."""
    rnd = random.Random(seed)
    fid, mid = 0, 0
    steps = []
    day0 = "timestamptz '2026-11-20 00:00Z' + interval '%d seconds'"
    for _ in range(70):
        r = rnd.random()
        if r < 0.6:
            rows = []
            for _ in range(rnd.randint(1, 40)):
                fid += 1
                kind = rnd.choice(["rating", "reaction", "reaction", "signal", "signal", "span"])
                user = "NULL" if rnd.random() < 0.1 else q("u%d" % rnd.randint(1, 8))
                val = sc = reaction = signal = sval = s0 = s1 = label = "NULL"
                if kind == "rating":
                    val, sc = str(rnd.choice([-1, 1])), "2"
                elif kind == "reaction":
                    reaction = q(rnd.choice(["love", "like", "sad", "angry", "custom"]))
                elif kind == "signal":
                    signal = q(rnd.choice(["copy", "regenerate", "dwell", "detected_complaint"]))
                    sval = "1500" if signal == "'dwell'" else "NULL"
                else:
                    s0 = str(rnd.randrange(3))
                    s1 = str(int(s0) + rnd.randint(1, 2))
                    label = q(rnd.choice(["incorrect", "unsafe", "well_said"]))
                    val = "1" if label == "'well_said'" else "-1"
                tags = "'{%s}'" % ",".join(rnd.sample(["a", "b"], rnd.randint(0, 1)))
                cm = q("c") if rnd.random() < 0.2 else "NULL"
                ca = day0 % rnd.randint(0, 5 * 86400)
                rows.append(f"(1,'f{fid}','{kind}',{q('m%d' % rnd.randint(1, 40))},{user},{val},{sc},{tags},{cm},"
                            f"{reaction},{signal},{sval},{s0},{s1},{label},{ca},'\\x00')")
            sql = insert_feedback("message_id, user_ref, value, scale, tags, comment, reaction, signal, signal_value,"
                                  " span_start, span_end, span_label, created_at, content_sha256", rows)
        elif r < 0.8:
            rows = []
            for _ in range(rnd.randint(1, 6)):
                mid += 1
                role = rnd.choice(["assistant", "assistant", "user"])
                model = q(rnd.choice(["A", "B"])) if rnd.random() < 0.8 else "NULL"
                rows.append(f"(1,'m{mid}','c','{role}','x',{model},'\\x00',{day0 % rnd.randint(0, 5 * 86400)})")
            sql = insert_messages(rows)
        elif r < 0.92 and fid:
            sql = retract(["f%d" % rnd.randint(1, fid) for _ in range(3)])
        else:
            sql = erase("u%d" % rnd.randint(1, 8))
        steps.append((sql, rnd.random() < 0.4))
    return steps


# The counting events recomputed from scratch (docs/api.md "Vote semantics"), with the name
# each counts under: the latest event of each (user, kind, message, slot key) by (created_at,
# seq) unless retracted; signals and events without user each on their own.
COUNTING = """
  SELECT id, kind, coalesce(reaction, signal, span_label) AS name, created_at, message_id FROM (
    SELECT DISTINCT ON (user_ref, kind, message_id, coalesce(reaction, span_start || ':' || span_end || ':' || span_label))
           id, kind, reaction, signal, span_label, created_at, message_id, retracted_at
    FROM feedback WHERE user_ref IS NOT NULL AND kind <> 'signal'
    ORDER BY user_ref, kind, message_id, coalesce(reaction, span_start || ':' || span_end || ':' || span_label),
             created_at DESC, seq DESC) latest
  WHERE retracted_at IS NULL
  UNION ALL
  SELECT id, kind, coalesce(reaction, signal, span_label), created_at, message_id FROM feedback
  WHERE (user_ref IS NULL OR kind = 'signal') AND retracted_at IS NULL"""


def name_counters(pg, db, unit="hour"):
    """(the hourly or daily counters by kind, model and name, the same recomputed from COUNTING)."""
    table = "stats_hourly" if unit == "hour" else "stats_daily"
    got = pg.sql(f"SELECT {unit}, kind, model, name, sum(events) FROM {table}"
                 " GROUP BY 1, 2, 3, 4 HAVING sum(events) <> 0 ORDER BY 1, 2, 3 NULLS FIRST, 4 NULLS FIRST", dbname=db)
    want = pg.sql(f"SELECT date_trunc('{unit}', c.created_at, 'UTC'), c.kind, m.model, c.name, count(*)"
                  f" FROM ({COUNTING}) c LEFT JOIN messages m ON m.project_id = 1 AND m.id = c.message_id"
                  " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3 NULLS FIRST, 4 NULLS FIRST", dbname=db)
    return got, want


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_catch_up_counts_names_and_assistant_messages(pg, feedbackd_factory, seed):
    """The name and message counters of 0009 after catch-ups at random points equal what the
    rules give recomputed from the feedback and messages tables."""
    fd = feedbackd_factory(project=None, start=False)
    db = db_of(fd)
    pg.sql("INSERT INTO projects (slug, name) VALUES ('p', 'p')", dbname=db)
    assert run_steps(pg, db, named_workload(seed), final=True) > 5

    want_events = pg.sql(f"SELECT id, name FROM ({COUNTING}) c ORDER BY id", dbname=db)
    assert len(want_events) > 200 and {k for (k,) in pg.sql(f"SELECT DISTINCT kind FROM ({COUNTING}) c", dbname=db)} \
        == {"rating", "reaction", "signal", "span"}
    assert pg.sql("SELECT id, name FROM stats_events ORDER BY id", dbname=db) == want_events
    # per hour and day, kind, model (of the message, when logged) and name
    for unit in ("hour", "day"):
        got, want = name_counters(pg, db, unit)
        assert got == want, unit
        got = pg.sql(f"SELECT {unit}, model, n FROM stats_messages_{'hourly' if unit == 'hour' else 'daily'}"
                     " WHERE n <> 0 ORDER BY 1, 2 NULLS FIRST", dbname=db)
        want = pg.sql(f"SELECT date_trunc('{unit}', created_at, 'UTC'), model, count(*) FROM messages"
                      " WHERE role = 'assistant' GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST", dbname=db)
        assert got == want and len(want) > (10 if unit == "hour" else 5), unit


def test_migration_0009_counts_existing_data(pg):
    """A database at 0008 with feedback and messages, caught up (and some rows written after
    the last catch-up): after 0009 (the SQL file applied as is) and one catch-up, the name
    and message counters hold everything, each once."""
    db = pg.create_database("stats_0009")
    apply_migrations(pg, db, upto="0009_stats_names.sql")
    pg.sql("INSERT INTO projects (slug, name) VALUES ('p', 'p')", dbname=db)
    steps = named_workload(21)
    run_steps(pg, db, [(sql, catch_up or i == len(steps) // 2) for i, (sql, catch_up) in enumerate(steps)])
    assert pg.sql("SELECT count(*) FROM stats_events", dbname=db)[0][0] > 50
    apply_migrations(pg, db, only="0009_stats_names.sql")
    pg.sql("SELECT fd_stats_catch_up(1)", dbname=db)
    assert pg.sql("SELECT id, name FROM stats_events ORDER BY id", dbname=db) == \
        pg.sql(f"SELECT id, name FROM ({COUNTING}) c ORDER BY id", dbname=db)
    got, want = name_counters(pg, db)
    assert got == want
    assert pg.sql("SELECT day, model, n FROM stats_messages_daily WHERE n <> 0 ORDER BY 1, 2 NULLS FIRST", dbname=db) \
        == pg.sql("SELECT date_trunc('day', created_at, 'UTC'), model, count(*) FROM messages WHERE role = 'assistant'"
                  " GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST", dbname=db)


def test_migration_0014_merges_the_shards(pg):
    """Counters spread over shards (as 0002-0013 wrote them from several connections) are
    merged into shard 0 by 0014 with every sum unchanged, and later catch-ups write shard 0."""
    db = pg.create_database("stats_0014")
    apply_migrations(pg, db, upto="0014_stats_one_shard.sql")
    pg.sql("INSERT INTO projects (slug, name) VALUES ('p', 'p')", dbname=db)
    steps = named_workload(31)
    conn = pg.connect(db)
    with conn.cursor() as cur:
        for sql, catch_up in steps[:50]:
            cur.execute(sql)
            if catch_up:
                cur.execute("SELECT fd_stats_catch_up(1)")
        cur.execute("SELECT fd_stats_catch_up(1)")
        # what other connections' shards hold: +n in one, -n in another, sums unchanged
        for t, k in (("stats_hourly", "hour, kind, model, name"), ("stats_daily", "day, kind, model, name"),
                     ("stats_hourly_tags", "hour, tag"), ("stats_daily_tags", "day, tag")):
            cols = "events, ratings, up, down" + (", comments" if "tags" not in t else "")
            for shard, sign in ((5, 1), (6, -1)):
                cur.execute(f"INSERT INTO {t} (project_id, {k}, shard, {cols})"
                            f" SELECT project_id, {k}, {shard}, {', '.join(f'{sign} * 3' for _ in cols.split(','))}"
                            f" FROM {t} WHERE shard = (SELECT min(shard) FROM {t})")
    conn.close()
    before = dump(pg, db)
    assert pg.sql("SELECT count(DISTINCT shard) FROM stats_hourly", dbname=db)[0][0] >= 3
    apply_migrations(pg, db, only="0014_stats_one_shard.sql")
    assert dump(pg, db) == before
    # a later catch-up, from another connection, writes shard 0 too
    run_steps(pg, db, [(sql, False) for sql, _ in steps[50:]], final=True)
    for t in ("stats_hourly", "stats_daily", "stats_hourly_tags", "stats_daily_tags"):
        assert pg.sql(f"SELECT DISTINCT shard FROM {t}", dbname=db) == [(0,)], t
    got, want = name_counters(pg, db)
    assert got == want and len(want) > 20


def test_migration_0015_slot_key_same_and_inlined(pg):
    """0015 restates fd_stats_slot_k2 so that the planner inlines it: the same key for every
    kind (NULLs included) as 0014's definition, and no function call left in a plan."""
    db = pg.create_database("stats_0015")
    apply_migrations(pg, db, upto="0015_stats_slot_key_inline.sql")
    rows = [(k, m, o, s, e, lab, st, rx, i)
            for k in ("rating", "comment", "edit", "comparison", "span", "step", "reaction", "signal", None)
            for m, o in (("m-1", "m-2"), ("m-9", "m-1"), (None, "m-1"))
            for s, e, lab in ((0, 12, "wrong"), (3, None, "x"), (None, None, None), (7, 70, None))
            for st, rx, i in ((0, "thumbs", "ev-1"), (None, None, "ev-2"), (12, "😀", None))]
    args = "%s::text, %s::text, %s::text, %s::int, %s::int, %s::text, %s::int, %s::text, %s::text"
    call = f"SELECT fd_stats_slot_k2({args})"

    def keys():
        return [pg.sql(call, r, dbname=db)[0][0] for r in rows]

    before = keys()
    # what 0007 computes, written out independently: the slot's second key per kind
    for r, got in zip(rows, before):
        k, m, o, s, e, lab, st, rx, i = r
        want = {"comparison": max((x for x in (m, o) if x is not None), default=None),  # greatest() skips NULLs
                "span": None if s is None or e is None or lab is None else f"{s}:{e}:{lab}",
                "step": None if st is None else str(st), "reaction": rx, "signal": i}.get(k)
        assert got == want, r
    plan = "EXPLAIN VERBOSE SELECT fd_stats_slot_k2(kind, message_id, other_message_id, span_start, span_end," \
           " span_label, step_index, reaction, id) FROM feedback"
    assert "fd_stats_slot_k2(" in "\n".join(x[0] for x in pg.sql(plan, dbname=db))
    apply_migrations(pg, db, only="0015_stats_slot_key_inline.sql")
    assert keys() == before
    assert "fd_stats_slot_k2(" not in "\n".join(x[0] for x in pg.sql(plan, dbname=db))


def test_deleting_a_project_deletes_its_feedback(pg, feedbackd_factory):
    """feedback has no foreign key to projects since 0018 (a per-row check on every ingested
    row); deleting a project in SQL still deletes its events, their ids and their stats, and
    leaves other projects' rows alone."""
    fd = feedbackd_factory(args=("--stats-catch-up-ms", "100"))
    db = db_of(fd)
    post_ratings(fd, 5, "gone")
    wait_until(lambda: counted(pg, db) == (5, 5), timeout=10, what="catch-up of 5 events")
    pg.sql("INSERT INTO projects (slug, name) VALUES ('kept', 'kept')", dbname=db)
    kept = pg.sql("SELECT id FROM projects WHERE slug = 'kept'", dbname=db)[0][0]
    pg.sql("INSERT INTO feedback_ids (project_id, id, received_at) VALUES (%s, 'k1', now());"
           " INSERT INTO feedback (project_id, id, kind, message_id, value, scale, content_sha256, created_at)"
           " VALUES (%s, 'k1', 'rating', 'm', 1, 2, '\\x00', now())", (kept, kept), dbname=db)
    gone = pg.sql("SELECT id FROM projects WHERE slug = 'test'", dbname=db)[0][0]
    fd.stop()
    assert pg.sql("SELECT count(*) FROM feedback WHERE project_id = %s", (gone,), dbname=db)[0][0] == 5
    pg.sql("DELETE FROM projects WHERE id = %s", (gone,), dbname=db)
    for t in ("feedback", "feedback_ids", "stats_events", "stats_slots", "stats_hourly"):
        assert pg.sql(f"SELECT count(*) FROM {t} WHERE project_id = %s", (gone,), dbname=db)[0][0] == 0, t
    assert pg.sql("SELECT count(*) FROM feedback WHERE project_id = %s", (kept,), dbname=db) == [(1,)]
    assert pg.sql("SELECT count(*) FROM feedback_ids WHERE project_id = %s", (kept,), dbname=db) == [(1,)]
