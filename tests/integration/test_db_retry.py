"""The transaction runner (server/db/txn.h) against real lock conflicts: a request whose
statement PostgreSQL aborts to break a deadlock (SQLSTATE 40P01) is run again and succeeds,
instead of answering 503/500 (docs/architecture.md "Error handling")."""

from concurrent.futures import ThreadPoolExecutor

from helpers import wait_until
from ingest_helpers import new_id, project_id, rating


def waiting_on_lock(db_sql, needle):
    """Backends (other than ours) whose current statement contains needle and waits for a lock."""
    return db_sql("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                  " AND datname = current_database() AND wait_event_type = 'Lock' AND position(%s in query) > 0",
                  (needle,))[0][0]


def test_user_erasure_that_deadlocks_is_retried(feedbackd, pg, module_db, db_sql):
    fd = feedbackd
    user, conv = new_id("u"), new_id("c")
    events = [rating(user=user) for _ in range(2)]
    for ev in events:
        assert fd.post("/v1/feedback", key="ingest", json=ev).status_code == 201
    pid = project_id(db_sql, "test")
    db_sql("INSERT INTO conversations (project_id, id, user_ref) VALUES (%s, %s, %s)", (pid, conv, user))

    # The erasure deletes the user's feedback rows, then clears user_ref on their conversations.
    # The blocker holds the conversation row, lets the erasure lock the feedback rows and wait
    # for it, then asks for one of those feedback rows: a cycle. Its deadlock_timeout is long,
    # so the erasure's backend (the default 1 s, and waiting first) is the one that finds the
    # cycle and aborts its own statement.
    blocker = pg.connect(module_db)
    blocker.autocommit = False
    try:
        cur = blocker.cursor()
        cur.execute("SET deadlock_timeout = '60s'")
        cur.execute("UPDATE conversations SET user_ref = user_ref WHERE project_id = %s AND id = %s", (pid, conv))
        with ThreadPoolExecutor(1) as pool:
            erased = pool.submit(fd.delete, f"/v1/users/{user}", key="admin")
            wait_until(lambda: waiting_on_lock(db_sql, "DELETE FROM feedback WHERE project_id") == 1, 15,
                       what="the erasure waiting for the conversation row")
            # returns once PostgreSQL broke the deadlock by aborting the erasure's first attempt
            cur.execute("SELECT id FROM feedback WHERE project_id = %s AND id = %s FOR UPDATE", (pid, events[0]["id"]))
            assert cur.fetchall() == [(events[0]["id"],)]
            blocker.commit()  # the retried erasure, waiting for the row this held, goes on
            r = erased.result(timeout=30)
    finally:
        blocker.close()
    assert r.status_code == 200, r.text
    assert r.json() == {"user": user, "feedback_deleted": 2}
    assert db_sql("SELECT count(*) FROM feedback WHERE project_id = %s AND user_ref = %s", (pid, user)) == [(0,)]
    assert db_sql("SELECT user_ref FROM conversations WHERE project_id = %s AND id = %s", (pid, conv)) == [(None,)]
    log = fd.log(100000)
    assert "sqlstate=40P01" in log and "transaction conflicted, retrying" in log, log[-3000:]
