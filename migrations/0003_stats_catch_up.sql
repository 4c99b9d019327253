-- 0003_stats_catch_up.sql — the stats tables of 0002 are brought up to date after the write,
-- not inside it.
--
-- Why: in 0002 the writer's INSERT ran the stats triggers (slot upsert, stats_events, four
-- counter tables) inside its own statement. That was ~60 % of the statement's time, and the
-- writer's INSERT + COMMIT is the serial step every acknowledged event waits for. Now the
-- INSERT writes feedback and messages only; fd_stats_catch_up(project) applies what was
-- written since it last ran, set-based over everything new at once:
--   - feedbackd runs it for every project in the background (stats_catch_up_ms, default 1 s);
--   - GET /v1/stats runs it for its project first, so a stats read still counts every event
--     acknowledged before it (reads stay exact; they pay for at most one interval of events).
--
-- What is "new": rows whose txid (the inserting transaction, xid8) is visible in the current
-- snapshot but was not visible in the snapshot stored by the previous catch-up. Unlike
-- "seq > last seq" this cannot skip a row whose transaction started early and committed late
-- (its txid was in progress, hence invisible, in the stored snapshot). Both tables have an
-- index on (project_id, txid); only txids >= the stored snapshot's xmin can be new.
--
-- Races, and why none can count an event wrongly: catch-ups of one project are serialised by
-- an advisory transaction lock (fd_stats_lock). Retraction (feedback UPDATE) and erasure /
-- project deletion (feedback DELETE) take the same lock in their triggers before they touch
-- the stats tables. So either the catch-up ran first (it may have counted the row; the
-- trigger then takes it out again), or the retraction/erasure committed first (the catch-up,
-- which reads after taking the lock, sees the row retracted or gone). A message that arrives
-- after its feedback gives that feedback its model in whichever catch-up sees the message,
-- including the one that sees the feedback itself.

CREATE TABLE stats_watermarks (
  project_id   bigint PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
  snap         pg_snapshot NOT NULL,   -- rows with txid visible here are in the stats tables
  caught_up_at timestamptz NOT NULL DEFAULT now()
);

-- One lock per project among advisory locks; the first key names "feedbackd stats" ('fdst'),
-- the two-int form never collides with the single-bigint migration lock.
CREATE FUNCTION fd_stats_lock(p bigint) RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(1717859188, (p % 2147483647)::int)
$$;

-- A row's txid is new to a catch-up: visible in its snapshot, not in the previous one (none:
-- everything visible is new). A plain SQL expression, inlined by the planner; callers keep
-- `txid >= pg_snapshot_xmin(prev)` beside it for the (project_id, txid) index.
CREATE FUNCTION fd_stats_is_new(t xid8, cur pg_snapshot, prev pg_snapshot) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT pg_visible_in_snapshot(t, cur) AND (prev IS NULL OR NOT pg_visible_in_snapshot(t, prev))
$$;

-- Apply the feedback and messages rows new since the project's watermark; true when there
-- were any. The rules of 0002's INSERT trigger, over the new rows instead of one INSERT's
-- transition table (tests/integration/test_stats_catch_up.py checks that both leave the same
-- tables).
CREATE FUNCTION fd_stats_catch_up(p bigint) RETURNS boolean LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  prev pg_snapshot;
  cur pg_snapshot;
  lo xid8;
  nf boolean;
  nm boolean;
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
             f.comment, f.tags, f.created_at, f.seq, f.retracted_at
      FROM feedback f
      WHERE f.project_id = p AND f.txid >= lo AND fd_stats_is_new(f.txid, cur, prev)),
    cand AS (
      -- the new rows' latest event per slot
      SELECT DISTINCT ON (project_id, user_ref, kind, k1, k2) project_id, user_ref, kind, k1, k2, id, created_at, seq
      FROM (SELECT n.project_id, n.user_ref, n.kind, n.id, n.created_at, n.seq,
                   CASE WHEN n.kind = 'comparison' THEN least(n.message_id, n.other_message_id) ELSE n.message_id END AS k1,
                   CASE WHEN n.kind = 'comparison' THEN greatest(n.message_id, n.other_message_id) END AS k2
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
    INSERT INTO stats_events (project_id, id, created_at, kind, user_ref, k1, k2, message_id, model, vote, has_comment, tags)
    SELECT n.project_id, n.id, n.created_at, n.kind, n.user_ref,
           CASE WHEN n.kind = 'comparison' THEN least(n.message_id, n.other_message_id) ELSE n.message_id END,
           CASE WHEN n.kind = 'comparison' THEN greatest(n.message_id, n.other_message_id) END,
           n.message_id, m.model, fd_stats_vote(n.kind, n.value, n.scale),
           coalesce(n.comment, '') <> '', n.tags
    FROM fd_new n
    LEFT JOIN messages m ON m.project_id = n.project_id AND m.id = n.message_id
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
  END IF;
  INSERT INTO stats_watermarks AS w (project_id, snap, caught_up_at) VALUES (p, cur, now())
  ON CONFLICT (project_id) DO UPDATE SET snap = excluded.snap, caught_up_at = excluded.caught_up_at;
  RETURN nf OR nm;
END $$;

-- The counters (stats_hourly, _daily and their _tags) are kept by the statement triggers of
-- stats_events. In 0002 they handed fd_stats_apply every changed row as one array element;
-- a catch-up changes thousands of rows at once, and building and unpacking that array cost
-- more than the counting. Now the triggers hand over the rows already summed per
-- (hour, kind, model, vote, comment, tags) — what the counters are made of.
CREATE TYPE stats_delta AS (
  project_id  bigint,
  hour        timestamptz,   -- UTC hour of created_at (the day follows from it)
  kind        text,
  model       text,
  vote        smallint,
  has_comment boolean,
  tags        text[],
  n           bigint         -- events added (> 0) or taken away (< 0)
);

-- Add the deltas to the hourly and daily counters. Same sharding and key order as 0002's
-- fd_stats_apply (see there).
CREATE FUNCTION fd_stats_apply_delta(ds stats_delta[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  WITH delta AS (SELECT * FROM unnest(ds)),
  hourly AS (
    INSERT INTO stats_hourly AS h (project_id, hour, kind, model, shard, events, ratings, up, down, comments)
    SELECT project_id, hour, kind, model, (pg_backend_pid() % 4)::smallint, sum(n),
           coalesce(sum(n) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(n) FILTER (WHERE vote > 0), 0),
           coalesce(sum(n) FILTER (WHERE vote < 0), 0), coalesce(sum(n) FILTER (WHERE has_comment), 0)
    FROM delta GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (project_id, hour, kind, model, shard) DO UPDATE
      SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
          up = h.up + excluded.up, down = h.down + excluded.down, comments = h.comments + excluded.comments),
  hourly_tags AS (
    INSERT INTO stats_hourly_tags AS h (project_id, hour, tag, shard, events, ratings, up, down)
    SELECT project_id, hour, tag, (pg_backend_pid() % 4)::smallint, sum(n),
           coalesce(sum(n) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(n) FILTER (WHERE vote > 0), 0),
           coalesce(sum(n) FILTER (WHERE vote < 0), 0)
    FROM delta, unnest(delta.tags) AS tag GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (project_id, hour, tag, shard) DO UPDATE
      SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
          up = h.up + excluded.up, down = h.down + excluded.down),
  daily AS (
    INSERT INTO stats_daily AS h (project_id, day, kind, model, shard, events, ratings, up, down, comments)
    SELECT project_id, date_trunc('day', hour, 'UTC'), kind, model, (pg_backend_pid() % 4)::smallint, sum(n),
           coalesce(sum(n) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(n) FILTER (WHERE vote > 0), 0),
           coalesce(sum(n) FILTER (WHERE vote < 0), 0), coalesce(sum(n) FILTER (WHERE has_comment), 0)
    FROM delta GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (project_id, day, kind, model, shard) DO UPDATE
      SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
          up = h.up + excluded.up, down = h.down + excluded.down, comments = h.comments + excluded.comments)
  INSERT INTO stats_daily_tags AS h (project_id, day, tag, shard, events, ratings, up, down)
  SELECT project_id, date_trunc('day', hour, 'UTC'), tag, (pg_backend_pid() % 4)::smallint, sum(n),
         coalesce(sum(n) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(n) FILTER (WHERE vote > 0), 0),
         coalesce(sum(n) FILTER (WHERE vote < 0), 0)
  FROM delta, unnest(delta.tags) AS tag GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (project_id, day, tag, shard) DO UPDATE
    SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
        up = h.up + excluded.up, down = h.down + excluded.down;
END $$;

-- The triggers of stats_events, one function for the three: the transition table(s) summed per
-- counter key, +1 for rows that came, -1 for rows that went (an UPDATE moves an event to its
-- message's model). Transition tables are visible only to the trigger function's own
-- statements, hence the source as SQL text chosen by TG_OP rather than a helper function.
CREATE FUNCTION fd_stats_events_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  src text := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT n.*, 1 AS d FROM fd_new n'
    WHEN 'DELETE' THEN 'SELECT o.*, -1 AS d FROM fd_old o'
    ELSE 'SELECT o.*, -1 AS d FROM fd_old o UNION ALL SELECT n.*, 1 FROM fd_new n' END;
BEGIN
  EXECUTE 'SELECT fd_stats_apply_delta(ARRAY(
             SELECT ROW(g.project_id, g.hour, g.kind, g.model, g.vote, g.has_comment, g.tags, g.n)::stats_delta
             FROM (SELECT x.project_id, date_trunc(''hour'', x.created_at, ''UTC'') AS hour, x.kind, x.model,
                          x.vote, x.has_comment, x.tags, sum(x.d) AS n
                   FROM (' || src || ') x GROUP BY 1, 2, 3, 4, 5, 6, 7) g))';
  RETURN NULL;
END $$;

DROP TRIGGER stats_events_ins ON stats_events;
DROP TRIGGER stats_events_upd ON stats_events;
DROP TRIGGER stats_events_del ON stats_events;
DROP FUNCTION fd_stats_events_ins();
DROP FUNCTION fd_stats_events_upd();
DROP FUNCTION fd_stats_events_del();
CREATE TRIGGER stats_events_ins AFTER INSERT ON stats_events
  REFERENCING NEW TABLE AS fd_new FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_events_count();
CREATE TRIGGER stats_events_upd AFTER UPDATE ON stats_events
  REFERENCING OLD TABLE AS fd_old NEW TABLE AS fd_new FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_events_count();
CREATE TRIGGER stats_events_del AFTER DELETE ON stats_events
  REFERENCING OLD TABLE AS fd_old FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_events_count();

DROP FUNCTION fd_stats_apply(stats_events[], stats_events[]);
-- nothing looks stats_events up by slot any more: the catch-up finds a slot's previous
-- counting event by its id
DROP INDEX stats_events_slot_idx;

-- stats_slots loses its foreign key to projects, as stats_events did in 0002: its per-row
-- check was ~5 % of a catch-up. Deleting a project deletes its feedback, whose DELETE trigger
-- removes the project's slots and counting events all the same.
ALTER TABLE stats_slots DROP CONSTRAINT stats_slots_project_id_fkey;

-- Every project, each in its own transaction (so one project's lock is held only while that
-- project catches up). CALL it outside a transaction block.
CREATE PROCEDURE fd_stats_catch_up_all() LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT id FROM projects ORDER BY id LOOP
    PERFORM fd_stats_catch_up(r.id);
    COMMIT;
  END LOOP;
END $$;

-- Retraction and erasure wait for a running catch-up of their projects (see the top).
CREATE OR REPLACE FUNCTION fd_stats_feedback_upd() RETURNS trigger LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  PERFORM fd_stats_lock(x.project_id) FROM (SELECT DISTINCT project_id FROM fd_new ORDER BY 1) x;
  DELETE FROM stats_events e USING fd_new n
  WHERE n.retracted_at IS NOT NULL AND e.project_id = n.project_id AND e.id = n.id;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fd_stats_feedback_del() RETURNS trigger LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  PERFORM fd_stats_lock(x.project_id) FROM (SELECT DISTINCT project_id FROM fd_old ORDER BY 1) x;
  DELETE FROM stats_events e USING fd_old o WHERE e.project_id = o.project_id AND e.id = o.id;
  DELETE FROM stats_slots s USING (SELECT DISTINCT project_id, user_ref FROM fd_old WHERE user_ref IS NOT NULL) o
  WHERE s.project_id = o.project_id AND s.user_ref = o.user_ref
    AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.project_id = s.project_id AND f.id = s.latest_id);
  RETURN NULL;
END $$;

-- The INSERT triggers go. DROP TRIGGER locks each table against writers, so every transaction
-- that inserted while they existed has ended before the watermarks below are taken: what
-- those triggers counted is exactly what the watermarks call done.
DROP TRIGGER stats_feedback_ins ON feedback;
DROP TRIGGER stats_messages_ins ON messages;
DROP FUNCTION fd_stats_feedback_ins();
DROP FUNCTION fd_stats_messages_ins();
INSERT INTO stats_watermarks (project_id, snap) SELECT id, pg_current_snapshot() FROM projects;
