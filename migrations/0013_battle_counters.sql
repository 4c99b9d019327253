-- 0013_battle_counters.sql — the leaderboard's win matrix from counters kept by the stats
-- catch-up (docs/architecture.md "Leaderboard battle counters").
--
-- Why: GET /v1/leaderboard aggregated every counting comparison of the window, joining each
-- with its feedback row (the outcome) and its two messages (the models) — 1,000,000 battles
-- took ~1.2 s of PostgreSQL CPU, and 4–8 s of wall time on a loaded machine. Now:
--   - stats_events keeps, for a comparison, the other message's id and model and the
--     outcome (NULL for the other kinds), filled by the catch-up like `model` is: at insert
--     from the messages logged by then, and by the catch-up that sees a message logged later;
--   - stats_battles_daily counts the battles of those counting comparisons per project, UTC
--     day and model pair (model_a < model_b in byte order), kept by statement triggers on
--     stats_events — so every path that changes the counting events (catch-up, re-vote,
--     retraction, erasure, a late message, retention) moves the counters with them, as
--     stats_hourly is kept;
--   - the leaderboard sums whole days from the counters and reads stats_events (no join)
--     only for the partial days at the edges of [since, until).
-- Only writers that hold the project's stats lock (fd_stats_lock) change a project's counting
-- events, so the counters need no shards (as stats_messages_hourly in 0009).
--
-- Existing data: the comparisons of stats_events get their columns below; the UPDATE trigger
-- counts them. Every project's stats lock is held meanwhile.

SELECT fd_stats_lock(id) FROM projects ORDER BY id;

ALTER TABLE stats_events ADD COLUMN other_message_id text, ADD COLUMN other_model text, ADD COLUMN outcome text;

CREATE TABLE stats_battles_daily (
  project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  day        timestamptz NOT NULL,
  model_a    text COLLATE "C" NOT NULL,
  model_b    text COLLATE "C" NOT NULL,   -- model_a < model_b
  a_wins     bigint NOT NULL,             -- `preferred` with model_a's answer preferred
  b_wins     bigint NOT NULL,
  ties       bigint NOT NULL,
  both_bad   bigint NOT NULL,
  PRIMARY KEY (project_id, day, model_a, model_b)
);

-- The battle a counting event is (docs/api.md "Model leaderboard"): a comparison whose two
-- messages are logged with different, non-null models; no row otherwise. A set-returning
-- SQL function, so the planner inlines it where it is joined LATERAL (the triggers below and
-- the leaderboard's query read the rule from here).
CREATE FUNCTION fd_stats_battle(kind text, model text, other_model text, outcome text)
RETURNS TABLE (model_a text, model_b text, a_wins int, b_wins int, ties int, both_bad int)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT least(model COLLATE "C", other_model COLLATE "C"), greatest(model COLLATE "C", other_model COLLATE "C"),
         (outcome = 'preferred' AND model COLLATE "C" < other_model COLLATE "C")::int,
         (outcome = 'preferred' AND model COLLATE "C" > other_model COLLATE "C")::int,
         (outcome = 'tie')::int, (outcome = 'both_bad')::int
  WHERE kind = 'comparison' AND model <> other_model
$$;

-- The triggers of stats_events for the battle counters: the transition table(s) summed per
-- (project, day, pair), +1 for rows that came, -1 for rows that went (an UPDATE gives a
-- comparison its other model, which can make it a battle). Same shape as 0003's
-- fd_stats_events_count, beside it.
CREATE FUNCTION fd_stats_battles_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  src text := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT n.*, 1 AS d FROM fd_new n'
    WHEN 'DELETE' THEN 'SELECT o.*, -1 AS d FROM fd_old o'
    ELSE 'SELECT o.*, -1 AS d FROM fd_old o UNION ALL SELECT n.*, 1 FROM fd_new n' END;
BEGIN
  EXECUTE 'INSERT INTO stats_battles_daily AS t (project_id, day, model_a, model_b, a_wins, b_wins, ties, both_bad)
           SELECT x.project_id, date_trunc(''day'', x.created_at, ''UTC''), b.model_a, b.model_b,
                  sum(x.d * b.a_wins), sum(x.d * b.b_wins), sum(x.d * b.ties), sum(x.d * b.both_bad)
           FROM (' || src || ') x, LATERAL fd_stats_battle(x.kind, x.model, x.other_model, x.outcome) b
           GROUP BY 1, 2, 3, 4
           HAVING sum(x.d * b.a_wins) <> 0 OR sum(x.d * b.b_wins) <> 0 OR sum(x.d * b.ties) <> 0
               OR sum(x.d * b.both_bad) <> 0
           ORDER BY 1, 2, 3, 4
           ON CONFLICT (project_id, day, model_a, model_b) DO UPDATE
             SET a_wins = t.a_wins + excluded.a_wins, b_wins = t.b_wins + excluded.b_wins,
                 ties = t.ties + excluded.ties, both_bad = t.both_bad + excluded.both_bad';
  RETURN NULL;
END $$;

CREATE TRIGGER stats_events_battles_ins AFTER INSERT ON stats_events
  REFERENCING NEW TABLE AS fd_new FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_battles_count();
CREATE TRIGGER stats_events_battles_upd AFTER UPDATE ON stats_events
  REFERENCING OLD TABLE AS fd_old NEW TABLE AS fd_new FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_battles_count();
CREATE TRIGGER stats_events_battles_del AFTER DELETE ON stats_events
  REFERENCING OLD TABLE AS fd_old FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_battles_count();

-- fd_stats_catch_up of 0009 with the comparison columns filled (the parts marked "new in
-- 0013"; the rest is unchanged).
CREATE OR REPLACE FUNCTION fd_stats_catch_up(p bigint) RETURNS boolean LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  prev pg_snapshot;
  cur pg_snapshot;
  lo xid8;
  nf boolean;
  nm boolean;
  ms stats_messages[];
BEGIN
  PERFORM fd_stats_lock(p);
  -- after the lock: a catch-up that held it has committed, its watermark is visible
  SELECT w.snap INTO prev FROM stats_watermarks w WHERE w.project_id = p;
  cur := pg_current_snapshot();
  lo := coalesce(pg_snapshot_xmin(prev), '0'::xid8);
  nf := EXISTS (SELECT FROM feedback f
                WHERE f.project_id = p AND f.txid >= lo AND fd_stats_is_new(f.txid, cur, prev));
  nm := EXISTS (SELECT FROM messages m
                WHERE m.project_id = p AND m.txid >= lo AND fd_stats_is_new(m.txid, cur, prev));
  -- Nothing new: keep the old watermark (no write, so no WAL flush at COMMIT). The next
  -- scan starts at the same xmin and reads the same few rows again, which stays bounded.
  IF NOT nf AND NOT nm AND prev IS NOT NULL THEN
    RETURN false;
  END IF;

  IF nf THEN
    WITH fd_new AS MATERIALIZED (
      SELECT f.project_id, f.id, f.kind, f.message_id, f.other_message_id, f.user_ref, f.value, f.scale,
             f.comment, f.tags, f.created_at, f.seq, f.retracted_at,
             f.span_start, f.span_end, f.span_label, f.step_index, f.reaction, f.signal, f.outcome
      FROM feedback f
      WHERE f.project_id = p AND f.txid >= lo AND fd_stats_is_new(f.txid, cur, prev)),
    cand AS (
      -- the new rows' latest event per slot
      SELECT DISTINCT ON (project_id, user_ref, kind, k1, k2) project_id, user_ref, kind, k1, k2, id, created_at, seq
      FROM (SELECT n.project_id, n.user_ref, n.kind, n.id, n.created_at, n.seq,
                   CASE WHEN n.kind = 'comparison' THEN least(n.message_id, n.other_message_id) ELSE n.message_id END AS k1,
                   fd_stats_slot_k2(n.kind, n.message_id, n.other_message_id, n.span_start, n.span_end, n.span_label,
                                    n.step_index, n.reaction, n.id) AS k2
            FROM fd_new n WHERE n.user_ref IS NOT NULL) s
      ORDER BY project_id, user_ref, kind, k1, k2, created_at DESC, seq DESC),
    old AS MATERIALIZED (
      -- each candidate with its slot's latest event so far (none: a new slot)
      SELECT c.*, s.ctid AS slot, s.latest_id AS old_id, s.latest_created_at AS old_created_at, s.latest_seq AS old_seq
      FROM cand c LEFT JOIN stats_slots s ON s.project_id = c.project_id AND s.user_ref = c.user_ref
        AND s.kind = c.kind AND s.k1 = c.k1 AND s.k2 IS NOT DISTINCT FROM c.k2),
    -- A candidate wins a new slot, or an existing one if it is later than the slot's latest.
    -- Plain INSERT and UPDATE by ctid (no ON CONFLICT): nobody else writes this project's
    -- slots while the catch-up holds the project's lock.
    opened AS (
      INSERT INTO stats_slots (project_id, user_ref, kind, k1, k2, latest_id, latest_created_at, latest_seq)
      SELECT project_id, user_ref, kind, k1, k2, id, created_at, seq FROM old WHERE slot IS NULL
      RETURNING project_id, latest_id),
    moved AS (
      UPDATE stats_slots t SET latest_id = o.id, latest_created_at = o.created_at, latest_seq = o.seq
      FROM old o
      WHERE o.slot IS NOT NULL AND t.ctid = o.slot AND (o.created_at, o.seq) > (o.old_created_at, o.old_seq)
      RETURNING o.project_id, o.id AS latest_id, o.old_id),
    gone AS (
      -- the previous latest event of a won slot stops counting (if it still counted)
      DELETE FROM stats_events e USING moved m WHERE e.project_id = m.project_id AND e.id = m.old_id
      RETURNING 1)
    -- no ON CONFLICT: a feedback row is new to exactly one catch-up (a second would be a bug,
    -- and a unique violation says so instead of counting twice)
    INSERT INTO stats_events (project_id, id, created_at, kind, user_ref, k1, k2, message_id, model, vote, has_comment,
                              tags, name, other_message_id, other_model, outcome)
    SELECT n.project_id, n.id, n.created_at, n.kind, n.user_ref,
           CASE WHEN n.kind = 'comparison' THEN least(n.message_id, n.other_message_id) ELSE n.message_id END,
           fd_stats_slot_k2(n.kind, n.message_id, n.other_message_id, n.span_start, n.span_end, n.span_label,
                                    n.step_index, n.reaction, n.id),
           n.message_id, m.model, fd_stats_vote(n.kind, n.value, n.scale),
           coalesce(n.comment, '') <> '', n.tags,
           -- new in 0009
           fd_stats_name(n.kind, n.reaction, n.signal, n.span_label),
           -- new in 0013: a comparison's other message, its model (when logged) and outcome
           CASE WHEN n.kind = 'comparison' THEN n.other_message_id END, mo.model,
           CASE WHEN n.kind = 'comparison' THEN n.outcome END
    FROM fd_new n
    LEFT JOIN messages m ON m.project_id = n.project_id AND m.id = n.message_id
    LEFT JOIN messages mo ON n.kind = 'comparison' AND mo.project_id = n.project_id AND mo.id = n.other_message_id
    WHERE n.retracted_at IS NULL
      AND (n.user_ref IS NULL
           OR (n.project_id, n.id) IN (SELECT w.project_id, w.latest_id FROM opened w
                                      UNION ALL SELECT w.project_id, w.latest_id FROM moved w));
  END IF;

  -- messages new since the watermark: feedback counted earlier without its message's model
  -- gets it now
  IF nm THEN
    UPDATE stats_events e SET model = m.model
    FROM messages m
    WHERE m.project_id = p AND m.txid >= lo AND fd_stats_is_new(m.txid, cur, prev)
      AND m.model IS NOT NULL AND e.project_id = p AND e.message_id = m.id AND e.model IS DISTINCT FROM m.model;
    -- new in 0013: and comparisons counted earlier without their other message's model
    UPDATE stats_events e SET other_model = m.model
    FROM messages m
    WHERE m.project_id = p AND m.txid >= lo AND fd_stats_is_new(m.txid, cur, prev)
      AND m.model IS NOT NULL AND e.project_id = p AND e.other_message_id = m.id
      AND e.other_model IS DISTINCT FROM m.model;
    -- new in 0009: the new assistant messages (each new to exactly one catch-up, so no
    -- ON CONFLICT) and their counters
    WITH added AS (
      INSERT INTO stats_messages (project_id, id, created_at, model)
      SELECT m.project_id, m.id, m.created_at, m.model FROM messages m
      WHERE m.project_id = p AND m.txid >= lo AND fd_stats_is_new(m.txid, cur, prev) AND m.role = 'assistant'
      RETURNING *)
    SELECT array_agg(a::stats_messages) INTO ms FROM added a;
    PERFORM fd_stats_count_messages(ms);
  END IF;
  INSERT INTO stats_watermarks AS w (project_id, snap, caught_up_at) VALUES (p, cur, now())
  ON CONFLICT (project_id) DO UPDATE SET snap = excluded.snap, caught_up_at = excluded.caught_up_at;
  RETURN nf OR nm;
END $$;

-- Existing data (see the top): the messages visible now; one logged later than the project's
-- watermark is new to the next catch-up, which sets the same model again (no change).
UPDATE stats_events e SET other_message_id = f.other_message_id, outcome = f.outcome, other_model = m.model
FROM feedback f
LEFT JOIN messages m ON m.project_id = f.project_id AND m.id = f.other_message_id
WHERE e.kind = 'comparison' AND f.project_id = e.project_id AND f.id = e.id;

-- The catch-up finds the comparisons of a message logged late by their other message too.
-- Made after the UPDATE above, which then needs no index maintenance.
CREATE INDEX stats_events_other_message_idx ON stats_events (project_id, other_message_id)
  WHERE other_message_id IS NOT NULL;
