-- 0011_partitions_retention.sql — feedback partitioned by month of receipt, the id registry
-- that keeps ingestion idempotent across partitions, partition maintenance and per-project
-- retention (docs/architecture.md "Partitions and retention", docs/operations.md "Retention and partitions").
--
-- Why received_at: it is the server's clock, so a row's partition is known when it is
-- written, no client can write into a month that is about to be dropped, and the months fill
-- in order. A unique index of a partitioned table must contain the partition key, so the
-- table's own key is (project_id, id, received_at); the idempotency key (project_id, id)
-- lives in feedback_ids, one narrow unpartitioned row per event, which the writer's INSERT
-- fills first: ON CONFLICT there is what makes a re-post of an id a duplicate whatever month
-- it arrives in (a later month is another partition, where the feedback key alone would not
-- see the first row). Every unique key and every join keeps project_id, the distribution
-- column of a sharded PostgreSQL (Citus): feedback and feedback_ids are co-located by it.
--
-- This migration converts an existing feedback table: its rows are copied into the monthly
-- partitions with every column kept — seq, txid and retracted_txid too, so the stats
-- catch-up and incremental exports see nothing new — and the old table goes.

-- the idempotency registry: which (project, id) exist, and in which month's partition
CREATE TABLE feedback_ids (
  project_id   bigint NOT NULL,
  id           text NOT NULL,
  received_at  timestamptz NOT NULL,
  -- no foreign key (its per-row check would cost every ingested row): feedback's DELETE
  -- trigger and the retention purge remove the rows that go with the feedback
  PRIMARY KEY (project_id, id)
);

ALTER TABLE feedback RENAME TO feedback_unpartitioned;
ALTER INDEX feedback_pkey RENAME TO feedback_unpartitioned_pkey;
ALTER INDEX feedback_received_idx RENAME TO feedback_unpartitioned_received_idx;
ALTER INDEX feedback_created_idx RENAME TO feedback_unpartitioned_created_idx;
ALTER INDEX feedback_user_idx RENAME TO feedback_unpartitioned_user_idx;
ALTER INDEX feedback_txid_idx RENAME TO feedback_unpartitioned_txid_idx;
ALTER INDEX feedback_retracted_txid_idx RENAME TO feedback_unpartitioned_retracted_txid_idx;

-- same columns in the same order, defaults (seq's sequence, txid, received_at) and checks
CREATE TABLE feedback (LIKE feedback_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY RANGE (received_at);
ALTER TABLE feedback ADD PRIMARY KEY (project_id, id, received_at);
ALTER TABLE feedback ADD FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE;
ALTER SEQUENCE feedback_seq_seq OWNED BY feedback.seq;
CREATE INDEX feedback_received_idx ON feedback (project_id, received_at DESC, seq DESC);
CREATE INDEX feedback_created_idx ON feedback (project_id, created_at);
CREATE INDEX feedback_user_idx ON feedback (project_id, user_ref) WHERE user_ref IS NOT NULL;
CREATE INDEX feedback_txid_idx ON feedback (project_id, txid);
CREATE INDEX feedback_retracted_txid_idx ON feedback (project_id, retracted_txid) WHERE retracted_txid IS NOT NULL;

-- Rows of a month without a partition (maintenance stopped for months, a clock far off) land
-- here instead of failing the writer's INSERT; fd_feedback_partition_ensure moves them out.
CREATE TABLE feedback_default PARTITION OF feedback DEFAULT;

-- The UTC month [lo, hi) of t, and the name of its partition.
CREATE FUNCTION fd_feedback_month(t timestamptz, OUT lo timestamptz, OUT hi timestamptz, OUT name text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT date_trunc('month', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
         (date_trunc('month', t AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC',
         'feedback_p' || to_char(t AT TIME ZONE 'UTC', 'YYYYMM')
$$;

-- Create the partition of t's month unless it exists; true when created. The table is made
-- on its own and then ATTACHed, which takes only SHARE UPDATE EXCLUSIVE on feedback: writers
-- and readers go on meanwhile. Rows of that month in the default partition (only after
-- maintenance stopped for months) are moved into it first, with their columns as they are,
-- txid included; direct DML on a partition does not fire feedback's statement triggers, so
-- nothing counts them as deleted or new. That rare move locks feedback (ACCESS EXCLUSIVE)
-- for its duration: a concurrent reader planned before the ATTACH but reading after the
-- commit would otherwise miss the moved rows in both places.
CREATE FUNCTION fd_feedback_partition_ensure(t timestamptz) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  m record;
BEGIN
  SELECT * INTO m FROM fd_feedback_month(t);
  IF to_regclass(m.name) IS NOT NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE feedback INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', m.name);
  IF EXISTS (SELECT FROM feedback_default WHERE received_at >= m.lo AND received_at < m.hi) THEN
    LOCK TABLE feedback IN ACCESS EXCLUSIVE MODE;
  END IF;
  EXECUTE format('WITH d AS (DELETE FROM feedback_default WHERE received_at >= $1 AND received_at < $2 RETURNING *) '
                 'INSERT INTO %I SELECT * FROM d', m.name) USING m.lo, m.hi;
  EXECUTE format('ALTER TABLE feedback ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', m.name, m.lo, m.hi);
  RETURN true;
END $$;

-- The partitions of the existing rows' months, then the rows, then the registry.
SELECT fd_feedback_partition_ensure(g)
FROM generate_series((SELECT date_trunc('month', min(received_at) AT TIME ZONE 'UTC') FROM feedback_unpartitioned),
                     (SELECT max(received_at) AT TIME ZONE 'UTC' FROM feedback_unpartitioned),
                     interval '1 month') AS g0(m0), LATERAL (SELECT m0 AT TIME ZONE 'UTC' AS g) g1;
SELECT fd_feedback_partition_ensure(now() + make_interval(months => i)) FROM generate_series(0, 2) AS i;
INSERT INTO feedback SELECT * FROM feedback_unpartitioned;
INSERT INTO feedback_ids (project_id, id, received_at) SELECT project_id, id, received_at FROM feedback_unpartitioned;

-- The triggers of 0003 on the new table (on a partitioned table they fire for statements on
-- feedback itself, with the rows of every partition in their transition tables).
DROP TABLE feedback_unpartitioned;
CREATE TRIGGER stats_feedback_upd AFTER UPDATE ON feedback
  REFERENCING NEW TABLE AS fd_new FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_feedback_upd();
CREATE TRIGGER stats_feedback_del AFTER DELETE ON feedback
  REFERENCING OLD TABLE AS fd_old FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_feedback_del();

-- Deleted feedback (erasure, retention's row deletes, project deletion) frees its ids, as the
-- row's key did before: a later post of the id is stored again.
CREATE FUNCTION fd_feedback_ids_del() RETURNS trigger LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  DELETE FROM feedback_ids k USING fd_old o WHERE k.project_id = o.project_id AND k.id = o.id;
  RETURN NULL;
END $$;
CREATE TRIGGER feedback_ids_del AFTER DELETE ON feedback
  REFERENCING OLD TABLE AS fd_old FOR EACH STATEMENT EXECUTE FUNCTION fd_feedback_ids_del();

-- Retention (projects.settings->'retention_days', a positive integer; absent or null: keep).
-- A project's cutoff: feedback received before it is outside the project's window.
CREATE FUNCTION fd_retention_cutoff(settings jsonb) RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN jsonb_typeof(settings->'retention_days') = 'number'
              THEN now() - make_interval(days => (settings->>'retention_days')::int) END
$$;

-- Detach one monthly partition that lies entirely outside the window of every project with
-- rows in it (a project that keeps everything keeps its months; while no project has a
-- window, nothing is detached, not even empty months); it is renamed feedback_expired_YYYYMM for
-- fd_retention_purge. Returns its name, NULL when none.
-- The month is locked (SHARE) before its rows are looked at: a writer whose transaction
-- began before midnight of the month's end may still be inserting into it, and must either
-- have committed (then its row is seen) or wait until the month is gone (then it lands in
-- the default partition). DETACH takes ACCESS EXCLUSIVE on feedback for a moment: the caller
-- sets lock_timeout, so behind a long reader it gives up and tries again next time instead of
-- making writers queue.
CREATE FUNCTION fd_retention_detach() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  part record;
  busy boolean;
  attempt integer;
BEGIN
  FOR part IN
    SELECT c.relname::text AS name,
           ((to_date(substr(c.relname, 11), 'YYYYMM') + interval '1 month') AT TIME ZONE 'UTC') AS hi
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'feedback'::regclass AND c.relname ~ '^feedback_p[0-9]{6}$'
    ORDER BY c.relname
  LOOP
    CONTINUE WHEN part.hi > now();
    -- any project that keeps this month (no window, or a cutoff before the month's end), or
    -- no project with a window at all; asked once unlocked (most months stay, and are not
    -- locked), then again under the lock
    FOR attempt IN 1..2 LOOP
      IF attempt = 2 THEN
        EXECUTE format('LOCK TABLE %I IN SHARE MODE', part.name);
      END IF;
      EXECUTE format('SELECT EXISTS (SELECT FROM projects p WHERE (fd_retention_cutoff(p.settings) IS NULL'
                     ' OR fd_retention_cutoff(p.settings) < $1) AND EXISTS (SELECT FROM %I f WHERE f.project_id = p.id))'
                     ' OR NOT EXISTS (SELECT FROM projects p WHERE fd_retention_cutoff(p.settings) IS NOT NULL)',
                     part.name) INTO busy USING part.hi;
      EXIT WHEN busy;
    END LOOP;
    IF NOT busy THEN
      EXECUTE format('ALTER TABLE feedback DETACH PARTITION %I', part.name);
      EXECUTE format('ALTER TABLE %I RENAME TO %I', part.name, 'feedback_expired_' || substr(part.name, 11));
      RETURN part.name;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

-- One bounded step of emptying a detached partition: up to `batch` rows of one project go,
-- with their ids (feedback_ids) and their stats (stats_events, whose triggers take them off
-- the counters, and the vote slots they were the latest of — as an erasure does); an empty
-- one is dropped. Returns the rows handled (1 for a drop), 0 when there is nothing to do.
CREATE FUNCTION fd_retention_purge(batch integer) RETURNS bigint LANGUAGE plpgsql
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
    '           RETURNING x.id, x.user_ref),'
    ' ids AS (DELETE FROM feedback_ids k USING d WHERE k.project_id = $1 AND k.id = d.id RETURNING 1),'
    ' ev AS (DELETE FROM stats_events e USING d WHERE e.project_id = $1 AND e.id = d.id RETURNING 1),'
    ' sl AS (DELETE FROM stats_slots s USING d WHERE s.project_id = $1 AND s.user_ref = d.user_ref'
    '        AND s.latest_id = d.id RETURNING 1)'
    ' SELECT count(*) FROM d', t, t) INTO n USING p, batch;
  RETURN n;
END $$;

-- One bounded step of row deletes: up to `batch` feedback rows received before their
-- project's cutoff, in partitions still shared with rows inside some window. A DELETE on
-- feedback, so its triggers remove the stats and ids as for an erasure.
CREATE FUNCTION fd_retention_delete(batch integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  r record;
  n bigint := 0;
  k bigint;
BEGIN
  FOR r IN SELECT id, fd_retention_cutoff(settings) AS cutoff FROM projects
           WHERE fd_retention_cutoff(settings) IS NOT NULL ORDER BY id LOOP
    DELETE FROM feedback f
    WHERE f.project_id = r.id AND f.received_at < r.cutoff
      AND (f.id, f.received_at) IN (SELECT g.id, g.received_at FROM feedback g
                                    WHERE g.project_id = r.id AND g.received_at < r.cutoff
                                    ORDER BY g.received_at LIMIT batch - n);
    GET DIAGNOSTICS k = ROW_COUNT;
    n := n + k;
    EXIT WHEN n >= batch;
  END LOOP;
  RETURN n;
END $$;

-- One maintenance pass (feedbackd runs it in the background every maintenance_interval_ms):
-- the partitions of this month and the `ahead` next ones, then retention — detach what
-- lies wholly outside every window, empty the detached tables, delete the remaining old rows
-- — each step in a transaction of its own and bounded by `batch` rows, at most `steps` steps
-- of retention per pass so a large backlog is worked off over several passes. A step that
-- cannot get its lock within lock_timeout (1 s) is left for the next pass. CALL it outside
-- a transaction block.
CREATE PROCEDURE fd_maintenance(batch integer, ahead integer, steps integer) LANGUAGE plpgsql AS $$
DECLARE
  i integer;
  done bigint;
  detached text;
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
END $$;
