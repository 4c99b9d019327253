-- 0019_retention_walk_probe.sql — retention's walk looks up each conversation of a stretch
-- in retention_kept once, not once per turn (docs/operations.md "Conversations under
-- retention").
--
-- 0017 skipped the conversations noted in retention_kept with a NOT EXISTS per walked turn:
-- 5,000 primary-key probes per stretch of 5,000 turns, which cost more than the judgments
-- 0017 saved. bench/retention/long.sh (200 conversations of 1,000 turns received over 120
-- days, retention_days = 30, 150,000 turns walked in 31 steps, load ~9 on 2 cores; time in
-- fd_retention_messages and fd_retention_conversation, pg_stat_user_functions, without the
-- stats catch-up; two runs): 0016 2.27 / 0.92 s (6,000 judgments), 0017 4.81 / 2.22 s (200
-- judgments), this 1.18 / 0.96 s (200). The stretch's conversations are made distinct first
-- and only those are probed.
--
-- And a conversation's newest turn is read through messages_tree_idx whatever the planner
-- estimates (see fd_retention_conversation).
-- fd_retention_conversation and fd_retention_messages of 0017 with the parts marked "new in
-- 0019"; the rest is unchanged.

CREATE OR REPLACE FUNCTION fd_retention_conversation(p bigint, c text, cutoff timestamptz, budget integer)
RETURNS bigint LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  newest timestamptz;
  fb timestamptz;
  n bigint;
  ms stats_messages[];
BEGIN
  -- new in 0019: through messages_tree_idx. A plain max(received_at) may be planned as a
  -- backward scan of messages_received_idx from the project's newest turn until one of c's
  -- (MIN/MAX optimisation; chosen for conversations with many turns): quick for an active
  -- conversation, a walk over every newer turn of the project for an expired one. The
  -- expression keeps the index from answering max().
  SELECT max(m.received_at + interval '0 s') INTO newest FROM messages m WHERE m.project_id = p AND m.conversation_id = c;
  IF newest >= cutoff THEN
    -- active (new in 0017): kept until its newest turn leaves the window; the walk skips it
    -- until then
    INSERT INTO retention_kept (project_id, conversation_id, active_at, checked_at) VALUES (p, c, newest, now())
    ON CONFLICT (project_id, conversation_id) DO UPDATE
      SET active_at = excluded.active_at, checked_at = excluded.checked_at;
    RETURN 0;
  END IF;
  IF newest IS NOT NULL THEN
    -- the latest receipt of the counting feedback naming one of its turns ('-infinity' for a
    -- counting event without its registry row, which cannot happen: it keeps the conversation
    -- until the next pass)
    SELECT max(coalesce(k.received_at, '-infinity')) INTO fb
    FROM (SELECT e.id FROM messages m JOIN stats_events e ON e.project_id = p AND e.message_id = m.id
          WHERE m.project_id = p AND m.conversation_id = c
          UNION ALL
          SELECT e.id FROM messages m JOIN stats_events e ON e.project_id = p AND e.other_message_id = m.id
          WHERE m.project_id = p AND m.conversation_id = c) x
    LEFT JOIN feedback_ids k ON k.project_id = p AND k.id = x.id;
    IF fb IS NOT NULL THEN
      INSERT INTO retention_kept (project_id, conversation_id, active_at, checked_at) VALUES (p, c, fb, now())
      ON CONFLICT (project_id, conversation_id) DO UPDATE
        SET active_at = excluded.active_at, checked_at = excluded.checked_at;
      RETURN 0;
    END IF;
    WITH d AS (
      DELETE FROM messages m
      WHERE m.project_id = p AND m.id IN (SELECT x.id FROM messages x WHERE x.project_id = p AND x.conversation_id = c
                                          LIMIT budget)
      RETURNING m.id),
    s AS (DELETE FROM stats_messages s USING d WHERE s.project_id = p AND s.id = d.id RETURNING s.*)
    SELECT (SELECT count(*) FROM d), ARRAY(SELECT s::stats_messages FROM s) INTO n, ms;
    IF cardinality(ms) > 0 THEN
      PERFORM fd_stats_uncount_messages(ms);
    END IF;
    IF EXISTS (SELECT FROM messages m WHERE m.project_id = p AND m.conversation_id = c) THEN
      -- the rest in the next step, wherever the cursor is by then
      INSERT INTO retention_kept (project_id, conversation_id, active_at, checked_at)
      VALUES (p, c, '-infinity', '-infinity')
      ON CONFLICT (project_id, conversation_id) DO UPDATE
        SET active_at = excluded.active_at, checked_at = excluded.checked_at;
      RETURN n;
    END IF;
  END IF;
  DELETE FROM conversations v WHERE v.project_id = p AND v.id = c;
  DELETE FROM retention_kept k WHERE k.project_id = p AND k.conversation_id = c;
  RETURN coalesce(n, 0);
END $$;

CREATE OR REPLACE FUNCTION fd_retention_messages(batch integer, pass_start timestamptz) RETURNS bigint LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  r record;
  cur record;
  c text;
  convs text[];
  last_at timestamptz;
  last_seq bigint;
  walked bigint;
  i integer;
  n bigint := 0;
  seen bigint := 0;
BEGIN
  FOR r IN SELECT id, fd_retention_cutoff(settings) AS cutoff FROM projects
           WHERE fd_retention_cutoff(settings) IS NOT NULL ORDER BY id LOOP
    -- takes the project's stats lock; everything stored until now counts
    PERFORM fd_stats_catch_up(r.id);
    FOR c IN SELECT k.conversation_id FROM retention_kept k
             WHERE k.project_id = r.id AND k.active_at < r.cutoff AND k.checked_at < pass_start
             ORDER BY k.active_at LIMIT batch - seen LOOP
      n := n + fd_retention_conversation(r.id, c, r.cutoff, (batch - n)::int);
      seen := seen + 1;
      IF n >= batch THEN
        RETURN greatest(n, seen);
      END IF;
    END LOOP;
    EXIT WHEN seen >= batch;

    SELECT x.received_at, x.seq INTO cur FROM retention_cursors x WHERE x.project_id = r.id;
    WITH w AS (
      SELECT m.conversation_id, m.received_at, m.seq FROM messages m
      WHERE m.project_id = r.id AND m.received_at < r.cutoff
        AND (m.received_at, m.seq) > (coalesce(cur.received_at, '-infinity'), coalesce(cur.seq, 0))
      ORDER BY m.received_at, m.seq LIMIT batch - seen)
    -- not the conversations known to be kept past the cutoff (new in 0019: each distinct
    -- conversation of the stretch looked up once)
    SELECT (SELECT count(*) FROM w),
           (SELECT array_agg(d.c) FROM (SELECT DISTINCT w.conversation_id AS c FROM w) d
            WHERE NOT EXISTS (SELECT FROM retention_kept k WHERE k.project_id = r.id
                              AND k.conversation_id = d.c AND k.active_at >= r.cutoff)),
           (SELECT w.received_at FROM w ORDER BY w.received_at DESC, w.seq DESC LIMIT 1),
           (SELECT w.seq FROM w ORDER BY w.received_at DESC, w.seq DESC LIMIT 1)
    INTO walked, convs, last_at, last_seq;
    seen := seen + walked;
    FOR i IN 1..coalesce(cardinality(convs), 0) LOOP
      n := n + fd_retention_conversation(r.id, convs[i], r.cutoff, (batch - n)::int);
      IF n >= batch AND i < cardinality(convs) THEN
        -- the rest of this stretch in the next step; the cursor stays where it was
        RETURN greatest(n, seen);
      END IF;
    END LOOP;
    IF walked > 0 THEN
      INSERT INTO retention_cursors AS x (project_id, received_at, seq) VALUES (r.id, last_at, last_seq)
      ON CONFLICT (project_id) DO UPDATE SET received_at = excluded.received_at, seq = excluded.seq;
    END IF;
    EXIT WHEN seen >= batch OR n >= batch;
  END LOOP;
  RETURN greatest(n, seen);
END $$;
