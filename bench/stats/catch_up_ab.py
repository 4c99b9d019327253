"""The rounds of catch_up_ab.sh: per round and database, N new feedback rows (post.lua's mix;
the same rows for every database), then SELECT fd_stats_catch_up(1), timed by the backend's
CPU (/proc/<pid>/stat) and WAL bytes. Databases alternate their order every round."""
import os
import random
import sys

import psycopg2

N = int(os.environ.get("N", "10000"))
ROUNDS = int(os.environ.get("ROUNDS", "8"))
EXPLAIN = os.environ.get("EXPLAIN")
TAGS = ["inaccurate", "helpful", "too_long", "off_topic", "unsafe", "formatting", "outdated", "great"]
TICK = os.sysconf("SC_CLK_TCK")
INSERT = ("INSERT INTO feedback (project_id, id, kind, message_id, user_ref, value, scale, tags, comment,"
          " edited_content, other_message_id, outcome, created_at, content_sha256)"
          " SELECT 1, id, kind, mid, u, v, sc, tg::text[], cm, ec, om, oc, now(), '\\x00'::bytea FROM unnest("
          "%s::text[], %s::text[], %s::text[], %s::text[], %s::int[], %s::int[], %s::text[], %s::text[],"
          " %s::text[], %s::text[], %s::text[]) AS u(id, kind, mid, u, v, sc, tg, cm, ec, om, oc)")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def events(rnd, run):
    """N events as post.lua makes them: 20,000 raters, 5,000 conversations of 4 (+4 compared)
    messages, 45 % thumbs, 15 % 1-5, 20 % comments, 10 % edits, 10 % comparisons, 0-2 tags."""
    out = []
    for i in range(N):
        conv = rnd.randint(1, 5000)
        mid, user = f"m-{conv}-{rnd.randint(1, 4)}", f"u{rnd.randint(1, 20000)}"
        r = rnd.randint(1, 100)
        tags = "{" + ",".join(rnd.sample(TAGS, rnd.randint(0, 2))) + "}"
        kind, val, sc, cm, ec, om, oc = "rating", None, None, None, None, None, None
        if r <= 45:
            val, sc = rnd.choice([1, -1]), 2
        elif r <= 60:
            val, sc = rnd.randint(1, 5), 5
        elif r <= 80:
            kind, cm = "comment", "Great answer, exactly what I needed!"
        elif r <= 90:
            kind, ec = "edit", "Paris is the capital of France."
        else:
            kind, om, oc = "comparison", f"m-{conv}-{rnd.randint(5, 8)}", "preferred"
        out.append((f"b{run}-{i}", kind, mid, user, val, sc, tags, cm, ec, om, oc))
    return out


def main():
    conns = {}
    for d in sys.argv[1:]:
        c = psycopg2.connect(host=os.environ["PGHOST"], port=os.environ["PGPORT"], dbname=d, user="postgres")
        c.autocommit = True
        cur = c.cursor()
        cur.execute("SELECT pg_backend_pid()")
        conns[d] = (c, cur, cur.fetchone()[0])
    res = {d: [] for d in conns}
    for rnd_i in range(ROUNDS):
        rows = events(random.Random(rnd_i), rnd_i)
        order = list(conns) if rnd_i % 2 == 0 else list(reversed(conns))
        for d in order:
            c, cur, pid = conns[d]
            for k in range(0, N, 27):
                cur.execute(INSERT, [list(col) for col in zip(*rows[k:k + 27])])
            last = EXPLAIN and rnd_i == ROUNDS - 1
            if last:
                cur.execute("LOAD 'auto_explain'")
                for k, v in [("log_min_duration", "0"), ("log_analyze", "on"), ("log_buffers", "on"),
                             ("log_wal", "on"), ("log_nested_statements", "on"), ("log_level", "notice")]:
                    cur.execute(f"SET auto_explain.{k} = '{v}'")
            cur.execute("SELECT pg_current_wal_lsn()")
            w0 = cur.fetchone()[0]
            t0 = cpu_seconds(pid)
            cur.execute("SELECT fd_stats_catch_up(1)")
            t1 = cpu_seconds(pid)
            cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (w0,))
            wal = float(cur.fetchone()[0])
            if last:
                for n in c.notices:
                    print(n)
                cur.execute("LOAD 'auto_explain'")
                cur.execute("SET auto_explain.log_min_duration = -1")
            res[d].append(((t1 - t0) * 1e6 / N, wal / N))
            print(f"round {rnd_i} {d}: {(t1 - t0) * 1e6 / N:6.1f} us/event {wal / N:6.0f} WAL bytes/event", flush=True)
    for d, xs in res.items():
        us, wal = sorted(x[0] for x in xs), sorted(x[1] for x in xs)
        print(f"MEDIAN {d}: {us[len(us) // 2]:.1f} us/event, {wal[len(wal) // 2]:.0f} WAL bytes/event"
              f" ({len(us)} rounds of {N}; spread {us[0]:.1f}-{us[-1]:.1f} us)")


main()
