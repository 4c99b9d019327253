-- 0007_reactions_signals.sql — kinds "reaction" and "signal" (docs/api.md "Reactions",
-- "Implicit signals").
--
-- feedback gains the reaction's name (as resolved in the project's set), the signal's name
-- and a dwell signal's value (milliseconds, fractional allowed, so not the integer `value`).
-- 0006 already lists every kind in feedback_kind_check (rating, comment, edit, comparison,
-- reaction, signal, span, step); it is rebuilt here all the same, so the list is stated
-- where the kinds come in.

ALTER TABLE feedback
  ADD COLUMN reaction text,
  ADD COLUMN signal text,
  ADD COLUMN signal_value double precision;

ALTER TABLE feedback DROP CONSTRAINT IF EXISTS feedback_kind_check;
ALTER TABLE feedback ADD CONSTRAINT feedback_kind_check
  CHECK (kind IN ('rating', 'comment', 'edit', 'comparison', 'span', 'step', 'reaction', 'signal'));
ALTER TABLE feedback ADD CONSTRAINT feedback_reaction_check CHECK (kind <> 'reaction' OR reaction IS NOT NULL);
ALTER TABLE feedback ADD CONSTRAINT feedback_signal_check CHECK (kind <> 'signal' OR signal IS NOT NULL);

-- The vote slot key of 0006 (fd_stats_slot_k2) extended: a reaction's k2 is its name, so a
-- rater holds one counting reaction per (message, name) and several different reactions on
-- one message; a signal's k2 is the event's own id, so every signal is a slot of its own:
-- signals are not votes and all count. The function gains two arguments, so it is a new
-- overload; the 7-argument one is dropped once fd_stats_catch_up no longer calls it.
CREATE FUNCTION fd_stats_slot_k2(kind text, message_id text, other_message_id text, span_start integer,
                                 span_end integer, span_label text, step_index integer, reaction text,
                                 id text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE kind WHEN 'comparison' THEN greatest(message_id, other_message_id)
                   WHEN 'span' THEN span_start || ':' || span_end || ':' || span_label
                   WHEN 'step' THEN step_index::text
                   WHEN 'reaction' THEN reaction
                   WHEN 'signal' THEN id END
$$;

-- fd_stats_catch_up of 0006 with the slot key above (only the two fd_stats_slot_k2 calls and
-- feedback.reaction, which they read, changed).
CREATE OR REPLACE FUNCTION fd_stats_catch_up(p bigint) RETURNS boolean LANGUAGE plpgsql
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
             f.comment, f.tags, f.created_at, f.seq, f.retracted_at,
             f.span_start, f.span_end, f.span_label, f.step_index, f.reaction
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
    INSERT INTO stats_events (project_id, id, created_at, kind, user_ref, k1, k2, message_id, model, vote, has_comment, tags)
    SELECT n.project_id, n.id, n.created_at, n.kind, n.user_ref,
           CASE WHEN n.kind = 'comparison' THEN least(n.message_id, n.other_message_id) ELSE n.message_id END,
           fd_stats_slot_k2(n.kind, n.message_id, n.other_message_id, n.span_start, n.span_end, n.span_label,
                                    n.step_index, n.reaction, n.id),
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

DROP FUNCTION fd_stats_slot_k2(text, text, text, integer, integer, text, integer);
