-- 0016_retention_messages.sql — retention also deletes the text of expired conversations
-- (docs/operations.md "Retention and partitions", docs/architecture.md "Partitions and
-- retention").
--
-- The rule: a project's conversation (its `messages` rows, its `conversations` row and the
-- stats rows of its assistant messages) is deleted when
--   1. every turn of it was received (received_at, the server's clock, as for feedback)
--      before the project's cutoff, and
--   2. no counting feedback names one of its turns (message_id or other_message_id of a
--      stats_events row: after retention's feedback steps, only feedback inside the window
--      is left to count).
-- Whole conversations, never single turns: an export reads a conversation as a tree (the
-- prompt of an answer is its chain of ancestors; siblings are paired; docs/export.md), so a
-- conversation that yields records from feedback inside the window keeps all of its turns
-- and its records stay exactly what they were. A conversation that no counting feedback names
-- yields no record and no `skipped` count, so deleting it changes no export; stats read
-- stats_events (not messages) except `assistant_messages`, whose counters lose the deleted
-- assistant messages as the feedback counters lose expired events.
--
-- Why counting feedback (stats_events) and not every stored feedback row: stats_events has
-- indexes by message (stats_events_message_idx, stats_events_other_message_idx) kept by the
-- catch-up, while feedback has none (0001: every index on feedback is paid by each ingested
-- event, and its message ids are random, so such an index would not stay in memory). A
-- retracted or superseded event counts nowhere in exports or stats; only GET /v1/feedback
-- still lists it, without `model` and `original_content` once its conversation is gone.
--
-- Cost at scale: each turn is looked at about once. A per-project cursor walks the turns in
-- order of receipt (new index messages_received_idx; received_at only grows, so its inserts
-- go to the right edge of the index) up to the cutoff, and each conversation met there is
-- judged with its own turns (messages_tree_idx) and their counting feedback (the two
-- stats_events indexes). A conversation with a turn inside the window is left: the cursor
-- meets that turn later. A conversation kept only for its feedback is remembered in
-- retention_kept with the latest receipt of that feedback, and judged again once that time
-- leaves the window. Each step deletes at most `batch` turns and walks at most `batch`
-- turns, in a transaction of its own holding the project's stats lock (the catch-up is run
-- first, so feedback stored up to then is counted; feedback naming a turn of a conversation
-- being deleted at that very moment is stored and finds its message unknown, like feedback
-- arriving after the conversation expired).
--
-- CREATE INDEX on messages blocks writes to messages while it is built (the migration runs
-- in one transaction): on a large database, plan it like 0011.

CREATE INDEX messages_received_idx ON messages (project_id, received_at, seq);

-- How far each project's cursor has walked its turns, in (received_at, seq) order.
CREATE TABLE retention_cursors (
  project_id   bigint PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
  received_at  timestamptz NOT NULL,
  seq          bigint NOT NULL
);

-- Conversations whose turns are all outside the window but that counting feedback kept,
-- with that feedback's latest receipt (active_at); judged again when active_at is before the
-- cutoff and not yet in this maintenance pass (checked_at).
CREATE TABLE retention_kept (
  project_id       bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  conversation_id  text NOT NULL,
  active_at        timestamptz NOT NULL,
  checked_at       timestamptz NOT NULL,
  PRIMARY KEY (project_id, conversation_id)
);
CREATE INDEX retention_kept_due_idx ON retention_kept (project_id, active_at);

-- Take the stats_messages rows `ms` off the hourly and daily message counters (the reverse
-- of 0009's fd_stats_count_messages); counters that reach 0 go.
CREATE FUNCTION fd_stats_uncount_messages(ms stats_messages[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  WITH m AS (SELECT * FROM unnest(ms)),
  hourly AS (
    INSERT INTO stats_messages_hourly AS h (project_id, hour, model, n)
    SELECT project_id, date_trunc('hour', created_at, 'UTC'), model, -count(*) FROM m GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (project_id, hour, model) DO UPDATE SET n = h.n + excluded.n)
  INSERT INTO stats_messages_daily AS h (project_id, day, model, n)
  SELECT project_id, date_trunc('day', created_at, 'UTC'), model, -count(*) FROM m GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (project_id, day, model) DO UPDATE SET n = h.n + excluded.n;
  DELETE FROM stats_messages_hourly h
  USING (SELECT DISTINCT project_id, date_trunc('hour', created_at, 'UTC') AS hour, model FROM unnest(ms)) k
  WHERE h.project_id = k.project_id AND h.hour = k.hour AND h.model IS NOT DISTINCT FROM k.model AND h.n = 0;
  DELETE FROM stats_messages_daily h
  USING (SELECT DISTINCT project_id, date_trunc('day', created_at, 'UTC') AS day, model FROM unnest(ms)) k
  WHERE h.project_id = k.project_id AND h.day = k.day AND h.model IS NOT DISTINCT FROM k.model AND h.n = 0;
END $$;

-- Judge conversation c of project p against `cutoff` and delete up to `budget` of its turns
-- if it goes (the rule at the top). Returns the turns deleted. The caller holds p's stats
-- lock. A conversation with more turns than `budget` is deleted over several steps: the
-- rest is put in retention_kept as due at once.
CREATE FUNCTION fd_retention_conversation(p bigint, c text, cutoff timestamptz, budget integer)
RETURNS bigint LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  newest timestamptz;
  fb timestamptz;
  n bigint;
  ms stats_messages[];
BEGIN
  SELECT max(m.received_at) INTO newest FROM messages m WHERE m.project_id = p AND m.conversation_id = c;
  IF newest >= cutoff THEN
    -- active: the cursor meets its newest turn when that leaves the window
    DELETE FROM retention_kept k WHERE k.project_id = p AND k.conversation_id = c;
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

-- One bounded step: for each project with a window, the conversations kept for feedback
-- that has left the window since, then the turns past the project's cursor up to its cutoff.
-- At most `batch` turns deleted and `batch` turns or kept conversations looked at; returns
-- the larger of the two (less than `batch`: nothing left to do in this pass). `pass_start`:
-- a conversation kept again in this pass is not judged again before the next one.
CREATE FUNCTION fd_retention_messages(batch integer, pass_start timestamptz) RETURNS bigint LANGUAGE plpgsql
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
    SELECT (SELECT count(*) FROM w), (SELECT array_agg(DISTINCT w.conversation_id) FROM w),
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

-- fd_maintenance of 0012 with the conversation step last: it runs once the expired
-- feedback is gone (the steps before it finished within the pass's budget), so that feedback
-- no longer keeps conversations.
CREATE OR REPLACE PROCEDURE fd_maintenance(batch integer, ahead integer, steps integer) LANGUAGE plpgsql AS $$
DECLARE
  i integer;
  done bigint;
  detached text;
  pass_start timestamptz := clock_timestamp();
BEGIN
  FOR i IN 0..ahead LOOP
    BEGIN
      PERFORM set_config('lock_timeout', '1s', true);
      PERFORM fd_feedback_partition_ensure(now() + make_interval(months => i));
    EXCEPTION WHEN lock_not_available THEN
      RAISE WARNING 'feedbackd maintenance: partition of % months ahead not created (lock timeout)', i;
    END;
    COMMIT;
  END LOOP;
  LOOP
    detached := NULL;
    BEGIN
      PERFORM set_config('lock_timeout', '1s', true);
      detached := fd_retention_detach();
    EXCEPTION WHEN lock_not_available THEN
      RAISE WARNING 'feedbackd maintenance: detaching an expired partition timed out';
    END;
    COMMIT;
    steps := steps - 1;
    EXIT WHEN detached IS NULL OR steps <= 0;
  END LOOP;
  LOOP
    EXIT WHEN steps <= 0;
    done := fd_retention_purge(batch);
    COMMIT;
    steps := steps - 1;
    EXIT WHEN done = 0;
  END LOOP;
  LOOP
    EXIT WHEN steps <= 0;
    done := fd_retention_delete(batch);
    COMMIT;
    steps := steps - 1;
    EXIT WHEN done < batch;
  END LOOP;
  LOOP
    EXIT WHEN steps <= 0;
    done := fd_retention_outbox(batch);
    COMMIT;
    steps := steps - 1;
    EXIT WHEN done < batch;
  END LOOP;
  LOOP
    EXIT WHEN steps <= 0;
    done := fd_retention_messages(batch, pass_start);
    COMMIT;
    steps := steps - 1;
    EXIT WHEN done < batch;
  END LOOP;
END $$;
