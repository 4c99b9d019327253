"""Partitioned feedback and per-project retention (migrations/0011_partitions_retention.sql,
docs/operations.md "Retention", docs/architecture.md "Partitions and retention").

- feedback is partitioned by UTC month of received_at; idempotency by (project_id, id) holds
  across partitions (feedback_ids);
- maintenance creates this month's and the next two months' partitions and moves rows out of
  the default partition;
- retention_days (PATCH /v1/project, `feedbackd projects`) drops whole partitions outside
  every window and deletes the other old rows in bounded batches; stats and exports of the
  window are unchanged;
- an existing database filled by the previous schema's server upgrades with every row, the
  stats and the exports unchanged.
"""

import concurrent.futures
import datetime as dt
import json
import time

import pytest

import export_data as D
from helpers import Feedbackd, wait_until
from ingest_helpers import expect_error
from old_binary import old_binary
from test_foundation_migrations import migration_versions

UTC = dt.timezone.utc
FAST = ("--maintenance-interval-ms", "200", "--stats-catch-up-ms", "100")
PARTITIONS = 11  # the version of migrations/0011_partitions_retention.sql; the one before is 10


def db_of(fd):
    return fd.database_url.split("dbname=")[1].split()[0]


def month_name(t):
    return f"feedback_p{t.year:04d}{t.month:02d}"


def add_months(t, k):
    y, m = divmod(t.month - 1 + k, 12)
    return t.replace(year=t.year + y, month=m + 1, day=1)


def iso(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def partitions(pg, db):
    rows = pg.sql("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                  "WHERE i.inhparent = 'feedback'::regclass ORDER BY 1", dbname=db)
    return [r[0] for r in rows]


def feedback_rows(pg, db, where="true"):
    """Every column of every feedback row, as JSON text, keyed by (project_id, id)."""
    rows = pg.sql(f"SELECT project_id, id, row_to_json(f)::text FROM feedback f WHERE {where}", dbname=db)
    return {(p, i): json.loads(j) for p, i, j in rows}


def rate(fd, key, eid, mid, user, value, created):
    r = fd.post("/v1/feedback", key=key, json={"id": eid, "kind": "rating", "message_id": mid, "user": user,
                                               "value": value, "created_at": iso(created)})
    assert r.status_code == 201, r.text
    return r


# ---- project setting ------------------------------------------------------------------------

def test_retention_days_is_an_admin_setting_validated(feedbackd_factory):
    fd = feedbackd_factory()
    r = fd.get("/v1/project", key="admin")
    assert r.status_code == 200 and r.json()["retention_days"] is None, r.text  # default: keep
    for bad in (0, -1, 36501, 1.5, "30", True, [30], {"days": 30}):
        expect_error(fd.patch("/v1/project", key="admin", json={"retention_days": bad}), 400, "invalid_field",
                     "retention_days")
    assert fd.get("/v1/project", key="admin").json()["retention_days"] is None  # nothing changed
    for good in (1, 30, 36500):
        r = fd.patch("/v1/project", key="admin", json={"retention_days": good})
        assert r.status_code == 200 and r.json()["retention_days"] == good, r.text
    r = fd.patch("/v1/project", key="admin", json={"name": "Renamed"})
    assert r.json()["retention_days"] == 36500, "a PATCH without it keeps it"
    r = fd.patch("/v1/project", key="admin", json={"retention_days": None})
    assert r.status_code == 200 and r.json()["retention_days"] is None, r.text
    assert fd.get("/v1/project", key="admin").json()["retention_days"] is None
    for scope in ("ingest", "read", "export"):
        assert fd.patch("/v1/project", key=scope, json={"retention_days": 5}).status_code == 403


def test_cli_sets_and_lists_retention(feedbackd_factory):
    fd = feedbackd_factory(start=False)
    r = fd.cli("projects", "create", "short", "--retention-days", "7")
    assert r.stdout.strip() == "short"

    def listed(slug):
        lines = fd.cli("projects", "list").stdout.splitlines()
        assert "RETENTION" in lines[0]
        col = lines[0].index("RETENTION")
        (line,) = [x for x in lines[1:] if x.split()[0] == slug]
        return line[col:].split()[0]

    assert listed("short") == "7d" and listed("test") == "keep"
    fd.cli("projects", "set", "short", "--retention-days", "90")
    assert listed("short") == "90d"
    fd.cli("projects", "set", "short", "--retention-days", "keep")
    assert listed("short") == "keep"
    for bad in ("0", "-3", "abc", "1.5", "36501", ""):
        r = fd.cli("projects", "set", "short", "--retention-days", bad, check=False)
        assert r.returncode == 2 and "retention_days" in r.stderr, (bad, r.stderr)
        r = fd.cli("projects", "create", f"x{abs(hash(bad)) % 1000}", "--retention-days", bad, check=False)
        assert r.returncode == 2, (bad, r.stderr)
    assert listed("short") == "keep"
    r = fd.cli("projects", "set", "nosuch", "--retention-days", "5", check=False)
    assert r.returncode == 1 and "no project" in r.stderr
    r = fd.cli("projects", "set", "short", check=False)
    assert r.returncode == 2


# ---- partitions -----------------------------------------------------------------------------

def test_partitions_ahead_and_rows_moved_out_of_the_default(pg, feedbackd_factory):
    fd = feedbackd_factory(args=FAST)
    db = db_of(fd)
    now = dt.datetime.now(UTC)
    want = [month_name(add_months(now, k)) for k in range(3)]
    wait_until(lambda: set(want) <= set(partitions(pg, db)), timeout=10, what="this and the next two months")
    assert "feedback_default" in partitions(pg, db)

    # a month whose partition is missing: its rows land in the default partition, and
    # maintenance moves them into the month's new partition with every column as it was
    later = add_months(now, 2)
    pg.sql(f"DROP TABLE {month_name(later)}", dbname=db)
    rate(fd, "ingest", "now-1", "m1", "u1", 1, now)
    pg.sql("UPDATE feedback SET received_at = %s WHERE id = 'now-1'", (later + dt.timedelta(days=3),), dbname=db)
    before = feedback_rows(pg, db)
    wait_until(lambda: month_name(later) in partitions(pg, db), timeout=10, what="the dropped month again")
    assert pg.sql("SELECT count(*) FROM feedback_default", dbname=db) == [(0,)]
    assert pg.sql("SELECT tableoid::regclass::text FROM feedback WHERE id = 'now-1'", dbname=db) == \
        [(month_name(later),)]
    assert feedback_rows(pg, db) == before


def test_idempotency_across_partitions(pg, feedbackd_factory):
    fd = feedbackd_factory(args=FAST)
    db = db_of(fd)
    now = dt.datetime.now(UTC)
    body = {"id": "e-old", "kind": "rating", "message_id": "m1", "user": "u1", "value": 1}
    assert fd.post("/v1/feedback", key="ingest", json=body).status_code == 201
    # the first post now lies in last month's partition (as if received then)
    last_month = add_months(now, -1) + dt.timedelta(days=2)
    pg.sql("SELECT fd_feedback_partition_ensure(%s)", (last_month,), dbname=db)
    pg.sql("UPDATE feedback SET received_at = %s WHERE id = 'e-old'", (last_month,), dbname=db)
    assert pg.sql("SELECT tableoid::regclass::text FROM feedback WHERE id = 'e-old'", dbname=db) == \
        [(month_name(last_month),)]
    r = fd.post("/v1/feedback", key="ingest", json=body)
    assert r.status_code == 200 and r.json()["status"] == "duplicate", r.text
    expect_error(fd.post("/v1/feedback", key="ingest", json={**body, "value": -1}), 409, "conflict", "id")
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": [body, {**body, "id": "e-new"}]})
    assert [x["status"] for x in r.json()["results"]] == ["duplicate", "stored"], r.text
    assert pg.sql("SELECT count(*) FROM feedback WHERE id = 'e-old'", dbname=db) == [(1,)]

    # the same new id from many connections at once: one row, one stored
    same = {"id": "e-race", "kind": "rating", "message_id": "m2", "user": "u2", "value": -1}
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda _: fd.post("/v1/feedback", key="ingest", json=same).status_code, range(32)))
    assert sorted(codes) == [200] * 31 + [201], codes
    assert pg.sql("SELECT count(*) FROM feedback WHERE id = 'e-race'", dbname=db) == [(1,)]
    assert pg.sql("SELECT count(*) FROM feedback_ids", dbname=db) == pg.sql("SELECT count(*) FROM feedback",
                                                                            dbname=db)


# ---- retention ------------------------------------------------------------------------------

def conversation(fd, key, conv, created):
    """A user turn and two answers, rated up and down by one rater at `created`."""
    msgs = [{"id": f"{conv}-u", "conversation_id": conv, "parent_id": None, "role": "user", "content": f"Q {conv}"},
            {"id": f"{conv}-a", "conversation_id": conv, "parent_id": f"{conv}-u", "role": "assistant",
             "content": f"good {conv}", "model": "m"},
            {"id": f"{conv}-b", "conversation_id": conv, "parent_id": f"{conv}-u", "role": "assistant",
             "content": f"bad {conv}", "model": "m"}]
    r = fd.post("/v1/messages", key=key, json={"messages": msgs})
    assert r.status_code == 200, r.text
    rate(fd, key, f"{conv}-up", f"{conv}-a", f"r-{conv}", 1, created)
    rate(fd, key, f"{conv}-down", f"{conv}-b", f"r-{conv}", -1, created)


def test_retention_drops_partitions_and_deletes_old_rows_in_batches(pg, feedbackd_factory):
    # maintenance off while the data is laid out; batches of 2 rows once it runs
    fd = feedbackd_factory(args=("--maintenance-interval-ms", "0", "--stats-catch-up-ms", "100",
                                 "--retention-batch", "2"))
    db = db_of(fd)
    fd.cli("projects", "create", "keep")
    keep_key = fd.create_key("ingest", project="keep")
    now = dt.datetime.now(UTC)
    ages = {"c130": 130, "c100": 100, "c60": 60, "c45": 45, "c40": 40, "c10": 10, "c0": 0}
    for conv, age in ages.items():
        conversation(fd, fd.keys["ingest"], conv, now - dt.timedelta(days=age))
    for conv in ("k60", "k0"):
        conversation(fd, keep_key, conv, now - dt.timedelta(days=60 if conv == "k60" else 0))
    # received as long ago as they were created
    for conv, age in list(ages.items()) + [("k60", 60)]:
        t = now - dt.timedelta(days=age)
        pg.sql("SELECT fd_feedback_partition_ensure(%s)", (t,), dbname=db)
        pg.sql("UPDATE feedback SET received_at = %s WHERE id LIKE %s",
               (t, f"{conv}-%"), dbname=db)
    test_id = pg.sql("SELECT id FROM projects WHERE slug = 'test'", dbname=db)[0][0]
    old_month = month_name(now - dt.timedelta(days=130))
    shared_month = month_name(now - dt.timedelta(days=60))
    assert old_month in partitions(pg, db) and shared_month in partitions(pg, db)

    window = iso(now - dt.timedelta(days=29))
    stats_q = f"/v1/stats?since={window}&until={iso(now + dt.timedelta(days=1))}&bucket=day"
    stats_window = fd.get(stats_q, key="read").json()
    _, _, export_window = D.export(fd, since=window)
    kept_rows = feedback_rows(pg, db, f"project_id <> {test_id} OR received_at >= now() - interval '30 days'")
    assert len(kept_rows) == 2 * 2 + 2 * 2  # c10, c0; k60, k0

    r = fd.patch("/v1/project", key="admin", json={"retention_days": 30})
    assert r.status_code == 200, r.text
    # one pass with a budget of 2 steps: bounded work (at most 2 rows per step)
    total = pg.sql("SELECT count(*) FROM feedback", dbname=db)[0][0]
    assert pg.sql("SELECT fd_retention_delete(2)", dbname=db) == [(2,)]
    assert pg.sql("SELECT count(*) FROM feedback", dbname=db)[0][0] == total - 2
    fd.stop()
    fd.start(args=["--maintenance-interval-ms", "200"])
    wait_until(lambda: feedback_rows(pg, db) == kept_rows, timeout=30, what="retention done")
    wait_until(lambda: not pg.sql("SELECT relname FROM pg_class WHERE relname LIKE 'feedback_expired_%%'",
                                  dbname=db), timeout=30, what="expired partitions purged and dropped")
    parts = partitions(pg, db)
    assert old_month not in parts, "a month with only this project's old rows is dropped whole"
    assert shared_month in parts, "a month shared with a project that keeps its rows stays"
    assert pg.sql("SELECT count(*) FROM pg_class WHERE relname = %s", (old_month,), dbname=db) == [(0,)]
    # the ids, stats events and vote slots of every removed row are gone too
    assert pg.sql("SELECT count(*) FROM feedback_ids", dbname=db) == [(len(kept_rows),)]
    assert pg.sql("SELECT count(*) FROM stats_events e WHERE NOT EXISTS (SELECT FROM feedback f "
                  "WHERE f.project_id = e.project_id AND f.id = e.id)", dbname=db) == [(0,)]
    assert pg.sql("SELECT count(*) FROM stats_slots s WHERE NOT EXISTS (SELECT FROM feedback f "
                  "WHERE f.project_id = s.project_id AND f.id = s.latest_id)", dbname=db) == [(0,)]

    # inside the window: stats and export unchanged; over all time, only what is kept counts
    assert fd.get(stats_q, key="read").json() == stats_window
    _, _, after = D.export(fd, since=window)
    assert D.multiset(after) == D.multiset(export_window) and len(after) == 2  # c10, c0
    _, _, everything = D.export(fd)
    assert D.multiset(everything) == D.multiset(export_window)
    totals = fd.get("/v1/stats?since=2000-01-01T00:00:00Z", key="read").json()["totals"]
    assert (totals["events"], totals["up"], totals["down"]) == (4, 2, 2)

    # an expired id is free again: a re-post is stored as new
    r = rate(fd, "ingest", "c130-up", "c130-a", "r-c130", 1, now)
    assert r.json()["status"] == "stored"


def test_a_month_is_not_detached_under_a_writer_still_inserting_into_it(pg, feedbackd_factory):
    """A writer whose transaction began before the month ended inserts into that month's
    partition after it ended: retention must see that row (of a project that keeps
    everything) before it detaches the month, or the acknowledged row would go with it."""
    fd = feedbackd_factory(args=("--maintenance-interval-ms", "0"))
    db = db_of(fd)
    fd.cli("projects", "create", "keep")
    ids = dict(pg.sql("SELECT slug, id FROM projects", dbname=db))
    pg.sql("UPDATE projects SET settings = settings || '{\"retention_days\": 1}' WHERE slug = 'test'", dbname=db)
    old = add_months(dt.datetime.now(UTC), -3) + dt.timedelta(days=1)
    pg.sql("SELECT fd_feedback_partition_ensure(%s)", (old,), dbname=db)
    insert = ("INSERT INTO feedback (project_id, id, kind, message_id, created_at, content_sha256, received_at, value,"
              " scale) VALUES (%s, %s, 'rating', 'm', %s, '\\x00', %s, 1, 2)")
    pg.sql(insert, (ids["test"], "old-test", old, old), dbname=db)

    writer = pg.connect(db)
    writer.autocommit = False
    writer.cursor().execute(insert, (ids["keep"], "late-keep", old, old))  # not committed yet
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        detach = pool.submit(pg.sql, "SELECT fd_retention_detach()", None, db)
        time.sleep(1.0)
        assert not detach.done(), "the detach waits for the writer of that month"
        writer.commit()
        writer.close()
        assert detach.result(timeout=30) == [(None,)]
    assert month_name(old) in partitions(pg, db)
    assert sorted(r[0] for r in pg.sql("SELECT id FROM feedback", dbname=db)) == ["late-keep", "old-test"]
    # once the keeping project's row is gone, the month goes as a whole
    pg.sql("DELETE FROM feedback WHERE id = 'late-keep'", dbname=db)
    assert pg.sql("SELECT fd_retention_detach()", dbname=db) == [(month_name(old),)]
    assert month_name(old) not in partitions(pg, db)


def test_retention_empties_the_webhook_outbox_of_finished_old_deliveries(pg, feedbackd_factory):
    fd = feedbackd_factory(args=("--maintenance-interval-ms", "200", "--webhook-workers", "0"))
    db = db_of(fd)
    fd.cli("projects", "create", "other")
    projects = dict(pg.sql("SELECT slug, id FROM projects", dbname=db))
    rows = []  # (project slug, age in days, status)
    for slug in ("test", "other"):
        (endpoint,) = pg.sql("INSERT INTO webhook_endpoints (project_id, url, events, secret) VALUES "
                             "(%s, 'https://hooks.example.com/x', ARRAY['feedback.stored'], 'whsec_dGVzdA==') "
                             "RETURNING id", (projects[slug],), dbname=db)[0]
        for age in (40, 35, 5):
            for status in ("delivered", "failed", "pending"):
                pg.sql("INSERT INTO webhook_deliveries (endpoint_id, project_id, event, payload, status, created_at,"
                       " next_attempt_at) VALUES (%s, %s, 'feedback.stored', '{}', %s, now() - make_interval(days => %s),"
                       " CASE WHEN %s = 'pending' THEN now() + interval '1 day' END)",
                       (endpoint, projects[slug], status, age, status), dbname=db)
                rows.append((slug, age, status))

    def left():
        got = pg.sql("SELECT p.slug, round(extract(epoch FROM now() - d.created_at) / 86400)::int, d.status "
                     "FROM webhook_deliveries d JOIN projects p ON p.id = d.project_id", dbname=db)
        return sorted(got)

    assert left() == sorted(rows)
    time.sleep(0.5)
    assert left() == sorted(rows), "no retention window: nothing goes"
    assert fd.patch("/v1/project", key="admin", json={"retention_days": 30}).status_code == 200
    # finished deliveries older than the window go; pending ones, recent ones and the other
    # project's stay
    want = sorted(r for r in rows if not (r[0] == "test" and r[1] > 30 and r[2] != "pending"))
    wait_until(lambda: left() == want, timeout=15, what="old finished deliveries deleted")
    assert len(want) == len(rows) - 4


# ---- upgrade of a database filled by the previous schema -----------------------------------

def snapshot(pg, fd, db):
    q = "/v1/stats?since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z&bucket=week"
    stats = {g: fd.get(f"{q}{'&group_by=' + g if g else ''}",
                       key="read").json() for g in ("", "model", "kind", "tag")}
    exports = {}
    for fmt in ("trl", "kto", "sft"):
        r, _, recs = D.export(fd, format=fmt)
        assert r.status_code == 200, r.text
        exports[fmt] = D.multiset(recs)
    # vote slots counted in either schema (migration 0020 keeps the slot of a counting event in
    # its stats_events row, stats_slots only the slots whose latest was retracted)
    counters = pg.sql("SELECT (SELECT count(*) FROM stats_events), (SELECT count(*) FROM stats_slots)"
                      " + (SELECT count(*) FROM stats_events e WHERE e.user_ref IS NOT NULL AND NOT EXISTS"
                      " (SELECT FROM stats_slots s WHERE s.project_id = e.project_id AND s.latest_id = e.id)),"
                      " (SELECT sum(events) FROM stats_hourly), (SELECT sum(events) FROM stats_daily_tags)", dbname=db)
    messages = pg.sql("SELECT project_id, id, row_to_json(m)::text FROM messages m ORDER BY 1, 2", dbname=db)
    return {"feedback": feedback_rows(pg, db), "messages": messages, "stats": stats, "exports": exports,
            "counters": counters}


def test_upgrade_from_the_previous_schema_keeps_every_row_stats_and_exports(pg):
    binary, why = old_binary()
    if not binary:
        pytest.skip(why)
    db = pg.create_database("upgrade")
    old = Feedbackd(pg.conninfo(db), bin=binary, args=("--stats-catch-up-ms", "100"), name="old")
    new = Feedbackd(pg.conninfo(db), args=FAST, name="new")
    try:
        old.setup()
        old.start()
        assert pg.sql("SELECT max(version) FROM schema_migrations", dbname=db) == [(PARTITIONS - 1,)]
        D.load(old)  # messages, ratings, comparisons, edits, a retraction and an erasure
        # spread over months of receipt, as a database in use for a year would be
        pg.sql("UPDATE feedback SET received_at = received_at - make_interval(days => (40 * (seq % 10))::int)",
               dbname=db)
        months = pg.sql("SELECT count(DISTINCT date_trunc('month', received_at AT TIME ZONE 'UTC')) FROM feedback",
                        dbname=db)[0][0]
        assert months >= 8
        r, _, _ = D.export(old)
        watermark = r.headers["X-Export-Watermark"]
        before = snapshot(pg, old, db)
        erased = {e["id"] for e in D.EVENTS if e.get("user") in D.ERASE}
        assert erased and len(before["feedback"]) == len(D.EVENTS) - len(erased)  # the erased rater's are gone
        old.stop()

        new.keys = dict(old.keys)
        new.start()  # applies 0011 and those after it
        assert pg.sql("SELECT max(version) FROM schema_migrations", dbname=db) == [(max(migration_versions()),)]
        assert pg.sql("SELECT relkind FROM pg_class WHERE relname = 'feedback'", dbname=db) == [("p",)]
        parts = [p for p in partitions(pg, db) if p != "feedback_default"]
        assert len(parts) >= months
        assert pg.sql("SELECT count(*) FROM feedback_default", dbname=db) == [(0,)]
        after = snapshot(pg, new, db)
        for part in ("feedback", "messages", "stats", "exports", "counters"):
            assert after[part] == before[part], part
        assert pg.sql("SELECT count(*) FROM feedback_ids", dbname=db) == [(len(before["feedback"]),)]
        # nothing looks new to an incremental export or to the stats catch-up
        _, _, since_old = D.export(new, after=watermark)
        assert since_old == []
        # every event posted again, into this month's partition: each a duplicate
        for ev in D.EVENTS:
            r = new.post("/v1/feedback", key="ingest", json=ev)
            assert r.status_code == (201 if ev["id"] in erased else 200), (ev, r.text)
        assert len(feedback_rows(pg, db)) == len(before["feedback"]) + len(erased)
    finally:
        old.destroy()
        new.destroy()
