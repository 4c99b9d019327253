-- 0020_stats_slots_in_events.sql — a counting event is its own vote slot: one row per event
-- in the stats catch-up instead of two.
--
-- Until now every counting event of a rater was written twice by the catch-up: its row in
-- stats_events and its slot in stats_slots (key user_ref, kind, k1, k2 and the slot's latest
-- id, created_at, seq). But the latest event of a slot either counts — then stats_events
-- already holds it with the same key (user_ref, k1, k2 are written there since 0002) — or it
-- was retracted. So:
--   - stats_events gets a unique index on the slot key (rows with a rater): the slot of a
--     counting event is found there;
--   - stats_slots keeps only the slots whose latest event was retracted (a tombstone: the
--     slot is empty, and only a later event may count in it again);
--   - a slot has at most one of the two: the counting event, or the tombstone.
-- Per stored event the catch-up now writes one heap row less (bench/README.md "stats
-- catch-up: one row per event"). The rules do not change: a later event (created_at, then
-- seq) of a slot replaces the counting one; an older one never counts; retracting the
-- latest empties the slot; erasure and retention delete an event's row (its slot with it)
-- and the rater's tombstones whose event is gone (fd_stats_feedback_del of 0003 and
-- fd_retention_purge of 0011 need no change).
--
-- Existing data: the slots whose latest event counts are dropped from stats_slots (their
-- counting event holds them). The unique index states the invariant a slot never had two
-- counting events; every project's stats lock is held meanwhile.

SELECT fd_stats_lock(id) FROM projects ORDER BY id;

DELETE FROM stats_slots s USING stats_events e WHERE e.project_id = s.project_id AND e.id = s.latest_id;
CREATE UNIQUE INDEX stats_events_slot_key ON stats_events (project_id, user_ref, kind, k1, k2) NULLS NOT DISTINCT
  WHERE user_ref IS NOT NULL;

-- fd_stats_catch_up of 0013 with the slot looked up in stats_events, then in stats_slots
-- (the marked parts; the messages part is unchanged).
CREATE OR REPLACE FUNCTION fd_stats_catch_up(p bigint) RETURNS boolean LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  prev pg_snapshot;
  cur pg_snapshot;
  lo xid8;
  nf boolean;
  nm boolean;
  ms stats_messages[];
  tombs boolean;
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
    -- new in 0020: tombstones are rare; without any, their probe per candidate is skipped
    tombs := EXISTS (SELECT FROM stats_slots t WHERE t.project_id = p);
    WITH fd_new AS MATERIALIZED (
      SELECT f.project_id, f.id, f.kind, f.message_id, f.other_message_id, f.user_ref, f.value, f.scale,
             f.comment, f.tags, f.created_at, f.seq, f.retracted_at,
             f.span_start, f.span_end, f.span_label, f.step_index, f.reaction, f.signal, f.outcome
      FROM feedback f
      WHERE f.project_id = p AND f.txid >= lo AND fd_stats_is_new(f.txid, cur, prev)),
    cand AS (
      -- the new rows' latest event per slot
      SELECT DISTINCT ON (project_id, user_ref, kind, k1, k2)
             project_id, user_ref, kind, k1, k2, id, created_at, seq, retracted
      FROM (SELECT n.project_id, n.user_ref, n.kind, n.id, n.created_at, n.seq, n.retracted_at IS NOT NULL AS retracted,
                   CASE WHEN n.kind = 'comparison' THEN least(n.message_id, n.other_message_id) ELSE n.message_id END AS k1,
                   fd_stats_slot_k2(n.kind, n.message_id, n.other_message_id, n.span_start, n.span_end, n.span_label,
                                    n.step_index, n.reaction, n.id) AS k2
            FROM fd_new n WHERE n.user_ref IS NOT NULL) s
      ORDER BY project_id, user_ref, kind, k1, k2, created_at DESC, seq DESC),
    -- new in 0020: the slot's latest event so far is its counting event (e) or its tombstone
    -- (t), or the slot is new. A counting event's seq is read from feedback only when its
    -- created_at ties with the candidate's (CASE runs the subquery for that row only).
    old AS (
      SELECT c.*, e.ctid AS ev, t.ctid AS tomb,
             coalesce(e.created_at, t.latest_created_at) AS old_created_at,
             coalesce(t.latest_seq,
                      CASE WHEN e.created_at = c.created_at THEN
                        (SELECT f.seq FROM feedback f WHERE f.project_id = e.project_id AND f.id = e.id) END) AS old_seq
      FROM cand c
      LEFT JOIN stats_events e ON e.user_ref IS NOT NULL AND e.project_id = c.project_id AND e.user_ref = c.user_ref
        AND e.kind = c.kind AND e.k1 = c.k1 AND e.k2 IS NOT DISTINCT FROM c.k2
      LEFT JOIN stats_slots t ON tombs AND t.project_id = c.project_id AND t.user_ref = c.user_ref
        AND t.kind = c.kind AND t.k1 = c.k1 AND t.k2 IS NOT DISTINCT FROM c.k2),
    won AS MATERIALIZED (
      SELECT * FROM old o
      WHERE o.old_created_at IS NULL OR (o.created_at, o.seq) > (o.old_created_at, o.old_seq)),
    -- Under the project's lock nobody else writes its stats_events or stats_slots: rows are
    -- changed by ctid. The beaten counting event stops counting (its row goes), ...
    gone AS (
      DELETE FROM stats_events e USING won w WHERE w.ev IS NOT NULL AND e.ctid = w.ev
      RETURNING 1),
    -- ... a tombstone goes when a counting event takes the slot, or moves to a winner that is
    -- itself retracted; a retracted winner of a slot without tombstone leaves one (the few
    -- winners concerned are picked once from won).
    wt AS MATERIALIZED (SELECT * FROM won w WHERE w.tomb IS NOT NULL OR w.retracted),
    untomb AS (
      DELETE FROM stats_slots t USING wt w WHERE w.tomb IS NOT NULL AND NOT w.retracted AND t.ctid = w.tomb
      RETURNING 1),
    retomb AS (
      UPDATE stats_slots t SET latest_id = w.id, latest_created_at = w.created_at, latest_seq = w.seq
      FROM wt w WHERE w.tomb IS NOT NULL AND w.retracted AND t.ctid = w.tomb
      RETURNING 1),
    tomb AS (
      INSERT INTO stats_slots (project_id, user_ref, kind, k1, k2, latest_id, latest_created_at, latest_seq)
      SELECT project_id, user_ref, kind, k1, k2, id, created_at, seq FROM wt WHERE tomb IS NULL AND retracted
      ORDER BY project_id, user_ref, kind, k1, k2
      RETURNING 1)
    -- no ON CONFLICT: a feedback row is new to exactly one catch-up (a second would be a bug,
    -- and a unique violation says so instead of counting twice). The scalar subquery on gone
    -- is evaluated once, before the first row is inserted, so the beaten events have left the
    -- slot key's unique index before their successors enter it.
    INSERT INTO stats_events (project_id, id, created_at, kind, user_ref, k1, k2, message_id, model, vote, has_comment,
                              tags, name, other_message_id, other_model, outcome)
    SELECT n.project_id, n.id, n.created_at, n.kind, n.user_ref,
           CASE WHEN n.kind = 'comparison' THEN least(n.message_id, n.other_message_id) ELSE n.message_id END,
           fd_stats_slot_k2(n.kind, n.message_id, n.other_message_id, n.span_start, n.span_end, n.span_label,
                            n.step_index, n.reaction, n.id),
           n.message_id, m.model, fd_stats_vote(n.kind, n.value, n.scale),
           coalesce(n.comment, '') <> '', n.tags,
           fd_stats_name(n.kind, n.reaction, n.signal, n.span_label),
           CASE WHEN n.kind = 'comparison' THEN n.other_message_id END, mo.model,
           CASE WHEN n.kind = 'comparison' THEN n.outcome END
    FROM fd_new n
    LEFT JOIN messages m ON m.project_id = n.project_id AND m.id = n.message_id
    LEFT JOIN messages mo ON n.kind = 'comparison' AND mo.project_id = n.project_id AND mo.id = n.other_message_id
    WHERE n.retracted_at IS NULL AND (SELECT count(*) FROM gone) >= 0
      AND (n.user_ref IS NULL OR (n.project_id, n.id) IN (SELECT w.project_id, w.id FROM won w));
  END IF;

  -- messages new since the watermark: feedback counted earlier without its message's model
  -- gets it now
  IF nm THEN
    UPDATE stats_events e SET model = m.model
    FROM messages m
    WHERE m.project_id = p AND m.txid >= lo AND fd_stats_is_new(m.txid, cur, prev)
      AND m.model IS NOT NULL AND e.project_id = p AND e.message_id = m.id AND e.model IS DISTINCT FROM m.model;
    -- and comparisons counted earlier without their other message's model
    UPDATE stats_events e SET other_model = m.model
    FROM messages m
    WHERE m.project_id = p AND m.txid >= lo AND fd_stats_is_new(m.txid, cur, prev)
      AND m.model IS NOT NULL AND e.project_id = p AND e.other_message_id = m.id
      AND e.other_model IS DISTINCT FROM m.model;
    -- the new assistant messages (each new to exactly one catch-up, so no ON CONFLICT) and
    -- their counters
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

-- Retraction (fd_stats_feedback_upd of 0003): a retracted event stops counting, as before;
-- new in 0020: if it counted, it was its slot's latest, so the slot keeps it as a tombstone
-- (nothing older may come back). An event that did not count is not in stats_events: it was
-- not the latest of its slot, or is already retracted, or is not caught up yet (then the
-- catch-up sees it retracted).
CREATE OR REPLACE FUNCTION fd_stats_feedback_upd() RETURNS trigger LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  PERFORM fd_stats_lock(x.project_id) FROM (SELECT DISTINCT project_id FROM fd_new ORDER BY 1) x;
  WITH gone AS (
    DELETE FROM stats_events e USING fd_new n
    WHERE n.retracted_at IS NOT NULL AND e.project_id = n.project_id AND e.id = n.id
    RETURNING e.project_id, e.user_ref, e.kind, e.k1, e.k2, e.id, n.created_at, n.seq)
  INSERT INTO stats_slots (project_id, user_ref, kind, k1, k2, latest_id, latest_created_at, latest_seq)
  SELECT project_id, user_ref, kind, k1, k2, id, created_at, seq FROM gone WHERE user_ref IS NOT NULL
  ORDER BY project_id, user_ref, kind, k1, k2;
  RETURN NULL;
END $$;
