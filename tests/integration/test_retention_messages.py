"""Retention deletes the text of expired conversations (migrations/0016_retention_messages.sql,
docs/operations.md "Retention and partitions").

The rule: a conversation (its messages, its conversations row, the stats rows of its assistant
messages) goes when every turn of it was received before the project's cutoff and no counting
feedback names one of its turns. Expectations are computed here from the layout, never read
back from the server.
"""

import datetime as dt

import export_data as D
from helpers import wait_until

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)


def iso(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def db_of(fd):
    return fd.database_url.split("dbname=")[1].split()[0]


class World:
    """Conversations of two projects, turns and feedback received at chosen ages (days)."""

    def __init__(self, fd, pg, db, now):
        self.fd, self.pg, self.db, self.now = fd, pg, db, now
        self.turns = {}  # (slug, conversation) -> [(message id, role, age in days)]
        self.feedback = []  # (slug, id, message id, other id, age, retracted)

    def conversation(self, slug, key, conv, ages, answers=2):
        """A user turn and `answers` answers per age in `ages` (a chain: each user turn
        follows the previous answer), each turn created and received `age` days ago."""
        msgs, parent = [], None
        for k, age in enumerate(ages):
            u = f"{conv}-u{k}"
            msgs.append({"id": u, "conversation_id": conv, "parent_id": parent, "role": "user",
                         "content": f"question {k} of {conv}", "created_at": iso(self.now - age * DAY)})
            self.turns.setdefault((slug, conv), []).append((u, "user", age))
            for j in range(answers):
                a = f"{conv}-a{k}{j}"
                msgs.append({"id": a, "conversation_id": conv, "parent_id": u, "role": "assistant",
                             "content": f"answer {j} to {k} of {conv}", "model": f"m{j}",
                             "created_at": iso(self.now - age * DAY)})
                self.turns[(slug, conv)].append((a, "assistant", age))
            parent = f"{conv}-a{k}0"
        r = self.fd.post("/v1/messages", key=key, json={"messages": msgs})
        assert r.status_code == 200, r.text
        for mid, _, age in self.turns[(slug, conv)]:
            self.pg.sql("UPDATE messages SET received_at = %s WHERE id = %s", (self.now - age * DAY, mid),
                        dbname=self.db)

    def rate(self, slug, key, eid, mid, value, age, user="r1", retract=False):
        r = self.fd.post("/v1/feedback", key=key, json={"id": eid, "kind": "rating", "message_id": mid,
                                                        "user": user, "value": value,
                                                        "created_at": iso(self.now - age * DAY)})
        assert r.status_code == 201, r.text
        if retract:
            assert self.fd.delete(f"/v1/feedback/{eid}", key=key).status_code == 200
        self.received(eid, age)
        self.feedback.append((slug, eid, mid, None, age, retract))

    def compare(self, slug, key, eid, a, b, age):
        r = self.fd.post("/v1/feedback", key=key, json={"id": eid, "kind": "comparison", "message_id": a,
                                                        "other_message_id": b, "outcome": "preferred",
                                                        "user": "r1", "created_at": iso(self.now - age * DAY)})
        assert r.status_code == 201, r.text
        self.received(eid, age)
        self.feedback.append((slug, eid, a, b, age, False))

    def received(self, eid, age):
        t = self.now - age * DAY
        self.pg.sql("SELECT fd_feedback_partition_ensure(%s)", (t,), dbname=self.db)
        self.pg.sql("UPDATE feedback SET received_at = %s WHERE id = %s", (t, eid), dbname=self.db)
        self.pg.sql("UPDATE feedback_ids SET received_at = %s WHERE id = %s", (t, eid), dbname=self.db)

    def expected_left(self, slug, days):
        """The conversations of `slug` that a window of `days` keeps, by the rule."""
        kept = set()
        by_message = {mid: c for (s, c), ts in self.turns.items() if s == slug for mid, _, _ in ts}
        for (s, conv), ts in self.turns.items():
            if s == slug and min(age for _, _, age in ts) < days:
                kept.add(conv)
        for s, _, mid, other, age, retracted in self.feedback:
            if s == slug and age < days and not retracted:
                kept.update(by_message[m] for m in (mid, other) if m in by_message)
        return kept

    def expected_notes(self, slug, days):
        """retention_kept after a window of `days`: each kept conversation that has a turn
        before the window (the walk met it) with the time it is kept at least until — its
        newest turn's receipt when that is inside the window, else the latest receipt of the
        counting feedback naming it."""
        by_message = {mid: c for (s, c), ts in self.turns.items() if s == slug for mid, _, _ in ts}
        notes = {}
        for conv in self.expected_left(slug, days):
            if max(age for _, _, age in self.turns[(slug, conv)]) < days:
                continue
            newest = min(age for _, _, age in self.turns[(slug, conv)])
            if newest < days:
                notes[conv] = self.now - newest * DAY
            else:
                notes[conv] = self.now - min(age for s, _, mid, other, age, retracted in self.feedback
                                             if s == slug and not retracted
                                             and conv in (by_message.get(mid), by_message.get(other))) * DAY
        return notes


def notes_of(pg, db):
    return dict(pg.sql("SELECT k.conversation_id, k.active_at FROM retention_kept k JOIN projects p "
                       "ON p.id = k.project_id WHERE p.slug = 'test'", dbname=db))


def messages_of(pg, db):
    return sorted(pg.sql("SELECT p.slug, m.conversation_id, m.id, m.content FROM messages m "
                         "JOIN projects p ON p.id = m.project_id", dbname=db))


def conversations_of(pg, db):
    return sorted(pg.sql("SELECT p.slug, c.id FROM conversations c JOIN projects p ON p.id = c.project_id",
                         dbname=db))


def stats(fd, q):
    r = fd.get(q, key="read")
    assert r.status_code == 200, r.text
    return r.json()


def test_expired_conversations_go_in_bounded_steps_and_the_window_keeps_its_text(pg, feedbackd_factory):
    fd = feedbackd_factory(args=("--maintenance-interval-ms", "0", "--stats-catch-up-ms", "100"))
    db = db_of(fd)
    now = dt.datetime.now(UTC)
    fd.cli("projects", "create", "other")
    other_key = fd.create_key("ingest", project="other")
    w = World(fd, pg, db, now)
    for slug, key in (("test", fd.keys["ingest"]), ("other", other_key)):
        # all turns old, its feedback old too: goes (with 5 turns the step bound shows)
        w.conversation(slug, key, "old-rated", [60])
        w.rate(slug, key, f"{slug}-e1", "old-rated-a00", 1, 60)
        # all turns old, no feedback: goes
        w.conversation(slug, key, "old-silent", [70, 65], answers=1)
        # all turns old, rated 5 days ago: stays (its records are in the window's exports)
        w.conversation(slug, key, "old-ref", [50])
        w.rate(slug, key, f"{slug}-e2", "old-ref-a00", 1, 5)
        w.rate(slug, key, f"{slug}-e3", "old-ref-a01", -1, 5)
        # all turns old, named only as the other message of a comparison 3 days ago: stays
        w.conversation(slug, key, "old-other", [45], answers=1)
        w.compare(slug, key, f"{slug}-e4", "old-ref-a00", "old-other-a00", 3)
        # old turns and one 2 days ago: the conversation is active, stays whole
        w.conversation(slug, key, "active", [80, 40, 2])
        w.rate(slug, key, f"{slug}-e5", "active-a20", 1, 2)
        # all turns old, rated inside the window but retracted: counts nowhere, goes
        w.conversation(slug, key, "old-retracted", [55], answers=1)
        w.rate(slug, key, f"{slug}-e6", "old-retracted-a00", 1, 4, retract=True)
        # recent
        w.conversation(slug, key, "recent", [0])
        w.rate(slug, key, f"{slug}-e7", "recent-a00", 1, 0)
        w.rate(slug, key, f"{slug}-e8", "recent-a01", -1, 0, user="r2")

    window_since = iso(now - 29 * DAY)
    until = iso(now + DAY)
    window_q = f"/v1/stats?since={window_since}&until={until}&bucket=day"
    all_q = f"/v1/stats?since=2000-01-01T00:00:00Z&until={until}&bucket=week&group_by=model"
    stats_window = stats(fd, window_q)
    stats_window_model = stats(fd, window_q + "&group_by=model")
    stats_all = stats(fd, all_q)
    _, _, export_window = D.export(fd, since=window_since)
    _, _, export_window_kto = D.export(fd, since=window_since, format="kto")
    before = messages_of(pg, db)
    before_conversations = conversations_of(pg, db)
    assert len(export_window) > 0

    assert fd.patch("/v1/project", key="admin", json={"retention_days": 30}).status_code == 200
    # the expired feedback first (as a maintenance pass orders it)
    pg.sql("SELECT fd_retention_delete(1000)", dbname=db)
    # then the conversations, in steps of at most 2 turns deleted and 2 looked at
    counts = []
    for _ in range(100):
        n_before = len(messages_of(pg, db))
        (done,) = pg.sql("SELECT fd_retention_messages(2, clock_timestamp())", dbname=db)[0]
        counts.append(n_before - len(messages_of(pg, db)))
        assert done <= 2
        if done < 2:
            break
    else:
        raise AssertionError("retention of messages did not finish in 100 steps")
    assert max(counts) == 2 and all(0 <= c <= 2 for c in counts), counts

    kept = w.expected_left("test", 30)
    assert kept == {"old-ref", "old-other", "active", "recent"}
    want = sorted(m for m in before if m[0] == "other" or m[1] in kept)
    gone = [m for m in before if m not in want]
    assert sum(counts) == len(gone) == 3 + 4 + 2  # old-rated, old-silent, old-retracted
    assert messages_of(pg, db) == want, "expired text gone; the window's and the other project's stay"
    assert conversations_of(pg, db) == sorted(c for c in before_conversations if c[0] == "other" or c[1] in kept)
    # the other project (no window) untouched, row for row
    assert [m for m in messages_of(pg, db) if m[0] == "other"] == [m for m in before if m[0] == "other"]

    # stats and exports of the window unchanged
    assert stats(fd, window_q) == stats_window
    assert stats(fd, window_q + "&group_by=model") == stats_window_model
    _, _, export_after = D.export(fd, since=window_since)
    assert D.multiset(export_after) == D.multiset(export_window)
    _, _, export_after_kto = D.export(fd, since=window_since, format="kto")
    assert D.multiset(export_after_kto) == D.multiset(export_window_kto)
    _, _, everything = D.export(fd)
    assert D.multiset(everything) == D.multiset(export_window)
    # over all time, assistant_messages lost exactly the deleted answers
    deleted_answers = sum(1 for s, c, mid, _ in gone
                          for t, role, _ in w.turns[(s, c)] if t == mid and role == "assistant")
    assert deleted_answers == 2 + 2 + 1
    after_all = stats(fd, all_q)
    assert after_all["totals"]["assistant_messages"] == stats_all["totals"]["assistant_messages"] - deleted_answers
    assert pg.sql("SELECT count(*) FROM stats_messages s JOIN projects p ON p.id = s.project_id "
                  "WHERE p.slug = 'test'", dbname=db)[0][0] == sum(
        1 for (s, c), ts in w.turns.items() if s == "test" and c in kept for _, role, _ in ts if role == "assistant")
    assert pg.sql("SELECT count(*) FROM stats_messages_hourly WHERE n <= 0", dbname=db) == [(0,)]
    assert pg.sql("SELECT sum(n) FROM stats_messages_daily", dbname=db) == pg.sql(
        "SELECT count(*) FROM stats_messages", dbname=db)

    # what keeps the others, noted for the next judgement (an active conversation is judged
    # again only when its newest turn leaves the window, not at each of its older turns)
    assert notes_of(pg, db) == w.expected_notes("test", 30)
    assert pg.sql("SELECT count(*) FROM retention_kept k JOIN projects p ON p.id = k.project_id "
                  "WHERE p.slug = 'other'", dbname=db) == [(0,)]

    # nothing more to do: another step deletes nothing
    n = len(messages_of(pg, db))
    pg.sql("SELECT fd_retention_messages(2, clock_timestamp())", dbname=db)
    assert len(messages_of(pg, db)) == n

    # a shorter window: the feedback that kept old-ref and old-other leaves it, and so do they
    # (judged again from retention_kept, not from the cursor, which has passed their turns);
    # the active conversation's turn of 2 days ago keeps it whole. The background pass does it.
    assert fd.patch("/v1/project", key="admin", json={"retention_days": 3}).status_code == 200
    kept3 = w.expected_left("test", 3)
    assert kept3 == {"active", "recent"}
    want3 = sorted(m for m in before if m[0] == "other" or m[1] in kept3)
    fd.stop()
    fd.start(args=["--maintenance-interval-ms", "200", "--retention-batch", "3"])
    wait_until(lambda: messages_of(pg, db) == want3, timeout=30, what="old-ref and old-other deleted")
    assert conversations_of(pg, db) == sorted(c for c in before_conversations if c[0] == "other" or c[1] in kept3)
    assert notes_of(pg, db) == w.expected_notes("test", 3) == {"active": now - 2 * DAY}
