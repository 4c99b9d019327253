"""The SQL steps of the seeded stats workloads (test_stats_catch_up, test_battle_counters):
the writes of the writer, of retraction and of erasure as plain statements on project 1, and
the runner that applies a list of (sql, catch_up) steps, calling fd_stats_catch_up(1) after
each step whose coin flip said so."""


def q(s):
    """A SQL literal: NULL for None, else the quoted string."""
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def insert_feedback(columns, rows):
    """INSERT of `rows` (each a parenthesised tuple) into feedback(project_id, id, kind,
    <columns>); an id used twice is left out, as the writer does."""
    return (f"INSERT INTO feedback (project_id, id, kind, {columns}) VALUES " + ",".join(rows)
            + " ON CONFLICT DO NOTHING")


def insert_messages(rows, on_conflict=False):
    """INSERT of message `rows` (project_id, id, conversation_id, role, content, model,
    content_sha256, created_at)."""
    return ("INSERT INTO messages (project_id, id, conversation_id, role, content, model, content_sha256,"
            " created_at) VALUES " + ",".join(rows) + (" ON CONFLICT DO NOTHING" if on_conflict else ""))


def retract(ids):
    """A retraction of the events `ids` (those not retracted yet), as DELETE /v1/feedback/{id}."""
    return ("UPDATE feedback SET retracted_at = now(), retracted_txid = pg_current_xact_id()"
            f" WHERE project_id = 1 AND id IN ({','.join(q(i) for i in ids)}) AND retracted_at IS NULL")


def erase(user):
    """An erasure of every event of `user`, as DELETE /v1/users/{user}."""
    return f"DELETE FROM feedback WHERE project_id = 1 AND user_ref = {q(user)}"


def run_steps(pg, db, steps, final=False):
    """Apply steps on one connection to db, catching up where a step says so (and once more
    at the end with final); returns the number of catch-ups after a step."""
    conn = pg.connect(db)
    caught_up = 0
    with conn.cursor() as cur:
        for sql, catch_up in steps:
            cur.execute(sql)
            if catch_up:
                cur.execute("SELECT fd_stats_catch_up(1)")
                caught_up += 1
        if final:
            cur.execute("SELECT fd_stats_catch_up(1)")
    conn.close()
    return caught_up
