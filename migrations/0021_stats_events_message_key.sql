-- 0021_stats_events_message_key.sql — stats_events keyed by (project, message, id): one index
-- instead of two.
--
-- stats_events had a primary key (project_id, id) and an index (project_id, message_id). Every
-- lookup by id also knows the event's message: retraction and erasure have the feedback row,
-- retention's purge the deleted row, the agreement query its feedback rows; the catch-up
-- changes a counting event by ctid. So one unique index (project_id, message_id, id) serves
-- both: by message (a late message's model, retention) and by event. An id still has one row
-- at most: a feedback id has exactly one message, so two rows with one id would have the same
-- key. Each counting event enters one index fewer (bench/README.md "stats catch-up").

SELECT fd_stats_lock(id) FROM projects ORDER BY id;

CREATE UNIQUE INDEX stats_events_message_key ON stats_events (project_id, message_id, id);
ALTER TABLE stats_events DROP CONSTRAINT stats_events_pkey;
DROP INDEX stats_events_message_idx;

-- fd_stats_feedback_upd of 0020, the event found by its message and id
CREATE OR REPLACE FUNCTION fd_stats_feedback_upd() RETURNS trigger LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  PERFORM fd_stats_lock(x.project_id) FROM (SELECT DISTINCT project_id FROM fd_new ORDER BY 1) x;
  WITH gone AS (
    DELETE FROM stats_events e USING fd_new n
    WHERE n.retracted_at IS NOT NULL AND e.project_id = n.project_id AND e.message_id = n.message_id AND e.id = n.id
    RETURNING e.project_id, e.user_ref, e.kind, e.k1, e.k2, e.id, n.created_at, n.seq)
  INSERT INTO stats_slots (project_id, user_ref, kind, k1, k2, latest_id, latest_created_at, latest_seq)
  SELECT project_id, user_ref, kind, k1, k2, id, created_at, seq FROM gone WHERE user_ref IS NOT NULL
  ORDER BY project_id, user_ref, kind, k1, k2;
  RETURN NULL;
END $$;

-- fd_stats_feedback_del of 0003, the events found by their message and id
CREATE OR REPLACE FUNCTION fd_stats_feedback_del() RETURNS trigger LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  PERFORM fd_stats_lock(x.project_id) FROM (SELECT DISTINCT project_id FROM fd_old ORDER BY 1) x;
  DELETE FROM stats_events e USING fd_old o
  WHERE e.project_id = o.project_id AND e.message_id = o.message_id AND e.id = o.id;
  DELETE FROM stats_slots s USING (SELECT DISTINCT project_id, user_ref FROM fd_old WHERE user_ref IS NOT NULL) o
  WHERE s.project_id = o.project_id AND s.user_ref = o.user_ref
    AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.project_id = s.project_id AND f.id = s.latest_id);
  RETURN NULL;
END $$;

-- fd_retention_purge of 0011, the stats events found by their message and id
CREATE OR REPLACE FUNCTION fd_retention_purge(batch integer) RETURNS bigint LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  t text;
  p bigint;
  n bigint;
BEGIN
  SELECT c.relname INTO t FROM pg_class c
  WHERE c.relname ~ '^feedback_expired_[0-9]{6}$' AND c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
  ORDER BY 1 LIMIT 1;
  IF t IS NULL THEN
    RETURN 0;
  END IF;
  EXECUTE format('SELECT project_id FROM %I LIMIT 1', t) INTO p;
  IF p IS NULL THEN
    EXECUTE format('DROP TABLE %I', t);
    RETURN 1;
  END IF;
  PERFORM fd_stats_lock(p);  -- as retraction and erasure: never beside a catch-up of p
  EXECUTE format(
    'WITH d AS (DELETE FROM %I x WHERE x.ctid = ANY (ARRAY(SELECT y.ctid FROM %I y WHERE y.project_id = $1 LIMIT $2))'
    '           RETURNING x.id, x.user_ref, x.message_id),'
    ' ids AS (DELETE FROM feedback_ids k USING d WHERE k.project_id = $1 AND k.id = d.id RETURNING 1),'
    ' ev AS (DELETE FROM stats_events e USING d WHERE e.project_id = $1 AND e.message_id = d.message_id'
    '        AND e.id = d.id RETURNING 1),'
    ' sl AS (DELETE FROM stats_slots s USING d WHERE s.project_id = $1 AND s.user_ref = d.user_ref'
    '        AND s.latest_id = d.id RETURNING 1)'
    ' SELECT count(*) FROM d', t, t) INTO n USING p, batch;
  RETURN n;
END $$;
