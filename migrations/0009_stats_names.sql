-- 0009_stats_names.sql — stats by reaction name, signal name and span label, and the logged
-- assistant messages per hour (docs/api.md "Stats": reactions, signals, spans,
-- assistant_messages, group_by=emoji and span_label).
--
-- The counters of 0002/0003 are kept per (hour or day, kind, model); the new stats need the
-- reaction's name, the signal's name or the span's label of every counting event. They get
-- one more key column, `name` (NULL for the other kinds), in stats_events, stats_hourly and
-- stats_daily: a handful of names per kind, so a few rows more per hour, and the same
-- catch-up (now filling `name`) keeps them. The tag counters stay as they were.
--
-- assistant_messages (logged assistant messages whose created_at is in the window, the
-- denominator of the copy / regenerate rates) counts messages, not feedback: the catch-up
-- also applies the assistant messages new since its watermark to stats_messages (one narrow
-- row per message, for the partial hours at a window's edges, as stats_events is for
-- feedback) and to hourly and daily counters per model. Messages are never updated, and
-- deleted only with their project (whose counters go with it), so these only grow.
--
-- Existing data: stats_events rows of the three kinds get their name below, and the UPDATE
-- trigger of 0003 moves their counters from the NULL name to it; assistant messages that the
-- project's watermark calls done (visible in its snapshot) are counted here, the others are
-- new to the next catch-up as usual. Every project's stats lock is held meanwhile.

SELECT fd_stats_lock(id) FROM projects ORDER BY id;

ALTER TABLE stats_events ADD COLUMN name text;
ALTER TABLE stats_hourly ADD COLUMN name text;
ALTER TABLE stats_daily ADD COLUMN name text;

-- The counters' unique key gains name (the old key's constraint or index name was chosen by
-- PostgreSQL, and stats_daily's was copied by CREATE TABLE ... LIKE: find them).
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT c.conrelid::regclass AS t, c.conname FROM pg_constraint c
           WHERE c.conrelid IN ('stats_hourly'::regclass, 'stats_daily'::regclass) AND c.contype = 'u' LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.t, r.conname);
  END LOOP;
  FOR r IN SELECT i.indexrelid::regclass AS ix FROM pg_index i
           WHERE i.indrelid IN ('stats_hourly'::regclass, 'stats_daily'::regclass) AND i.indisunique AND NOT i.indisprimary LOOP
    EXECUTE format('DROP INDEX %s', r.ix);
  END LOOP;
END $$;
ALTER TABLE stats_hourly ADD CONSTRAINT stats_hourly_key UNIQUE NULLS NOT DISTINCT (project_id, hour, kind, model, name, shard);
ALTER TABLE stats_daily ADD CONSTRAINT stats_daily_key UNIQUE NULLS NOT DISTINCT (project_id, day, kind, model, name, shard);

ALTER TYPE stats_delta ADD ATTRIBUTE name text;

-- The name a counting event is counted under.
CREATE FUNCTION fd_stats_name(kind text, reaction text, signal text, span_label text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE kind WHEN 'reaction' THEN reaction WHEN 'signal' THEN signal WHEN 'span' THEN span_label END
$$;

-- fd_stats_apply_delta of 0003 with name in the key of stats_hourly and stats_daily.
CREATE OR REPLACE FUNCTION fd_stats_apply_delta(ds stats_delta[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  WITH delta AS (SELECT * FROM unnest(ds)),
  hourly AS (
    INSERT INTO stats_hourly AS h (project_id, hour, kind, model, name, shard, events, ratings, up, down, comments)
    SELECT project_id, hour, kind, model, name, (pg_backend_pid() % 4)::smallint, sum(n),
           coalesce(sum(n) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(n) FILTER (WHERE vote > 0), 0),
           coalesce(sum(n) FILTER (WHERE vote < 0), 0), coalesce(sum(n) FILTER (WHERE has_comment), 0)
    FROM delta GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (project_id, hour, kind, model, name, shard) DO UPDATE
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
    INSERT INTO stats_daily AS h (project_id, day, kind, model, name, shard, events, ratings, up, down, comments)
    SELECT project_id, date_trunc('day', hour, 'UTC'), kind, model, name, (pg_backend_pid() % 4)::smallint, sum(n),
           coalesce(sum(n) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(n) FILTER (WHERE vote > 0), 0),
           coalesce(sum(n) FILTER (WHERE vote < 0), 0), coalesce(sum(n) FILTER (WHERE has_comment), 0)
    FROM delta GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (project_id, day, kind, model, name, shard) DO UPDATE
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

-- fd_stats_events_count of 0003 with name among the summed keys.
CREATE OR REPLACE FUNCTION fd_stats_events_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  src text := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT n.*, 1 AS d FROM fd_new n'
    WHEN 'DELETE' THEN 'SELECT o.*, -1 AS d FROM fd_old o'
    ELSE 'SELECT o.*, -1 AS d FROM fd_old o UNION ALL SELECT n.*, 1 FROM fd_new n' END;
BEGIN
  EXECUTE 'SELECT fd_stats_apply_delta(ARRAY(
             SELECT ROW(g.project_id, g.hour, g.kind, g.model, g.vote, g.has_comment, g.tags, g.n, g.name)::stats_delta
             FROM (SELECT x.project_id, date_trunc(''hour'', x.created_at, ''UTC'') AS hour, x.kind, x.model,
                          x.vote, x.has_comment, x.tags, x.name, sum(x.d) AS n
                   FROM (' || src || ') x GROUP BY 1, 2, 3, 4, 5, 6, 7, 8) g))';
  RETURN NULL;
END $$;

-- The logged assistant messages, for assistant_messages.
CREATE TABLE stats_messages (
  project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  id         text NOT NULL,
  created_at timestamptz NOT NULL,
  model      text,
  PRIMARY KEY (project_id, id)
);
CREATE INDEX stats_messages_created_idx ON stats_messages (project_id, created_at);

-- Written by the catch-up only, under its project's lock: no shards needed.
CREATE TABLE stats_messages_hourly (
  project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  hour       timestamptz NOT NULL,
  model      text,
  n          bigint NOT NULL,
  UNIQUE NULLS NOT DISTINCT (project_id, hour, model)
);
CREATE TABLE stats_messages_daily (
  project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  day        timestamptz NOT NULL,
  model      text,
  n          bigint NOT NULL,
  UNIQUE NULLS NOT DISTINCT (project_id, day, model)
);

-- Count the stats_messages rows of `ms` in the hourly and daily message counters.
CREATE FUNCTION fd_stats_count_messages(ms stats_messages[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  WITH m AS (SELECT * FROM unnest(ms)),
  hourly AS (
    INSERT INTO stats_messages_hourly AS h (project_id, hour, model, n)
    SELECT project_id, date_trunc('hour', created_at, 'UTC'), model, count(*) FROM m GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (project_id, hour, model) DO UPDATE SET n = h.n + excluded.n)
  INSERT INTO stats_messages_daily AS h (project_id, day, model, n)
  SELECT project_id, date_trunc('day', created_at, 'UTC'), model, count(*) FROM m GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (project_id, day, model) DO UPDATE SET n = h.n + excluded.n;
END $$;

-- fd_stats_catch_up of 0007 with stats_events.name filled, and the new assistant messages
-- counted (the two marked parts; the rest is unchanged).
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
             f.span_start, f.span_end, f.span_label, f.step_index, f.reaction, f.signal
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
                              tags, name)
    SELECT n.project_id, n.id, n.created_at, n.kind, n.user_ref,
           CASE WHEN n.kind = 'comparison' THEN least(n.message_id, n.other_message_id) ELSE n.message_id END,
           fd_stats_slot_k2(n.kind, n.message_id, n.other_message_id, n.span_start, n.span_end, n.span_label,
                                    n.step_index, n.reaction, n.id),
           n.message_id, m.model, fd_stats_vote(n.kind, n.value, n.scale),
           coalesce(n.comment, '') <> '', n.tags,
           -- new in 0009
           fd_stats_name(n.kind, n.reaction, n.signal, n.span_label)
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

-- Existing data (see the top).
UPDATE stats_events e SET name = fd_stats_name(f.kind, f.reaction, f.signal, f.span_label)
FROM feedback f
WHERE e.kind IN ('reaction', 'signal', 'span') AND f.project_id = e.project_id AND f.id = e.id;

INSERT INTO stats_messages (project_id, id, created_at, model)
SELECT m.project_id, m.id, m.created_at, m.model
FROM messages m JOIN stats_watermarks w ON w.project_id = m.project_id
WHERE m.role = 'assistant' AND pg_visible_in_snapshot(m.txid, w.snap);
SELECT fd_stats_count_messages(ARRAY(SELECT s FROM stats_messages s));

-- The query of GET /v1/stats, 0002's fd_stats_query extended (same sources, same cover of
-- [since, until), see there) with
--   - group_by 'emoji' (counting reactions by name) and 'span_label' (counting spans by label);
--   - "names" in totals, every series bucket and every group (NULL in tag groups, whose
--     counters have no names): {"reaction": {name: n}, "signal": {...}, "span": {...}} of
--     the counting events, names with n = 0 left out;
--   - "assistant_messages" in totals, every bucket and model groups (NULL in other groups),
--     from the message counters (whole hours and days) and stats_messages (the edges); model
--     groups list the models with an assistant message in the window too;
--   - the 7th parameter, the project's reaction set and span labels
--     ({"reactions": [{name, emoji, value}], "span_labels": [{name, value}]}), returned as
--     "reaction_set" and "span_labels": the caller fills in the zeros and the rates
--     (server/api/stats.c), so they count against the settings as they are now.
CREATE FUNCTION fd_stats_query(bigint, timestamptz, timestamptz, text, text, text, jsonb) RETURNS json
LANGUAGE plpgsql STABLE SET jit = off AS $fn$
BEGIN
  RETURN (
  WITH p0 AS (
    SELECT $2::timestamptz AS since, $3::timestamptz AS until, $4::text AS bucket,
           (CASE $4::text WHEN 'hour' THEN interval '1 hour' WHEN 'day' THEN interval '24 hours' ELSE interval '168 hours' END) AS step,
           date_trunc('hour', $2::timestamptz, 'UTC')
             + CASE WHEN date_trunc('hour', $2::timestamptz, 'UTC') < $2::timestamptz THEN interval '1 hour' ELSE interval '0' END AS h0,
           date_trunc('hour', $3::timestamptz, 'UTC') AS h1,
           date_trunc('day', $2::timestamptz, 'UTC')
             + CASE WHEN date_trunc('day', $2::timestamptz, 'UTC') < $2::timestamptz THEN interval '24 hours' ELSE interval '0' END AS d0,
           date_trunc('day', $3::timestamptz, 'UTC') AS d1),
  p AS (
    SELECT p0.*, (p0.bucket <> 'hour' AND p0.d0 < p0.d1) AS daily FROM p0),
  edge AS (
    SELECT e.* FROM p, stats_events e
    WHERE e.project_id = $1::bigint AND e.created_at >= p.since AND e.created_at < least(p.h0, p.until)
      AND ($6::text IS NULL OR e.model = $6::text)
    UNION ALL
    SELECT e.* FROM p, stats_events e
    WHERE e.project_id = $1::bigint AND e.created_at >= greatest(p.h0, p.h1) AND e.created_at < p.until
      AND ($6::text IS NULL OR e.model = $6::text)),
  u AS (
    SELECT h.hour AS t, h.kind, h.model, h.name, h.events, h.ratings, h.up, h.down, h.comments
    FROM p, stats_hourly h
    WHERE h.project_id = $1::bigint AND h.hour >= p.h0 AND h.hour < CASE WHEN p.daily THEN p.d0 ELSE p.h1 END
      AND ($6::text IS NULL OR h.model = $6::text)
    UNION ALL
    SELECT h.hour, h.kind, h.model, h.name, h.events, h.ratings, h.up, h.down, h.comments
    FROM p, stats_hourly h
    WHERE p.daily AND h.project_id = $1::bigint AND h.hour >= p.d1 AND h.hour < p.h1
      AND ($6::text IS NULL OR h.model = $6::text)
    UNION ALL
    SELECT d.day, d.kind, d.model, d.name, d.events, d.ratings, d.up, d.down, d.comments
    FROM p, stats_daily d
    WHERE p.daily AND d.project_id = $1::bigint AND d.day >= p.d0 AND d.day < p.d1
      AND ($6::text IS NULL OR d.model = $6::text)
    UNION ALL
    SELECT e.created_at, e.kind, e.model, e.name, 1, (e.kind = 'rating')::int, (e.vote > 0)::int, (e.vote < 0)::int,
           e.has_comment::int
    FROM edge e),
  ut AS (
    SELECT h.hour AS t, h.tag, h.events, h.ratings, h.up, h.down
    FROM p, stats_hourly_tags h
    WHERE $6::text IS NULL
      AND h.project_id = $1::bigint AND h.hour >= p.h0 AND h.hour < CASE WHEN p.daily THEN p.d0 ELSE p.h1 END
    UNION ALL
    SELECT h.hour, h.tag, h.events, h.ratings, h.up, h.down
    FROM p, stats_hourly_tags h
    WHERE $6::text IS NULL AND p.daily AND h.project_id = $1::bigint AND h.hour >= p.d1 AND h.hour < p.h1
    UNION ALL
    SELECT d.day, d.tag, d.events, d.ratings, d.up, d.down
    FROM p, stats_daily_tags d
    WHERE $6::text IS NULL AND p.daily AND d.project_id = $1::bigint AND d.day >= p.d0 AND d.day < p.d1
    UNION ALL
    SELECT e.created_at, tag, 1, (e.kind = 'rating')::int, (e.vote > 0)::int, (e.vote < 0)::int
    FROM edge e, unnest(e.tags) AS tag
    WHERE $6::text IS NULL
    UNION ALL
    -- the tag counters are not kept per model: a model filter reads the window's counting events
    SELECT e.created_at, tag, 1, (e.kind = 'rating')::int, (e.vote > 0)::int, (e.vote < 0)::int
    FROM p, stats_events e, unnest(e.tags) AS tag
    WHERE $6::text IS NOT NULL AND e.project_id = $1::bigint AND e.model = $6::text
      AND e.created_at >= p.since AND e.created_at < p.until),
  -- assistant messages, from the same kinds of sources as u
  mu AS (
    SELECT h.hour AS t, h.model, h.n
    FROM p, stats_messages_hourly h
    WHERE h.project_id = $1::bigint AND h.hour >= p.h0 AND h.hour < CASE WHEN p.daily THEN p.d0 ELSE p.h1 END
      AND ($6::text IS NULL OR h.model = $6::text)
    UNION ALL
    SELECT h.hour, h.model, h.n
    FROM p, stats_messages_hourly h
    WHERE p.daily AND h.project_id = $1::bigint AND h.hour >= p.d1 AND h.hour < p.h1
      AND ($6::text IS NULL OR h.model = $6::text)
    UNION ALL
    SELECT d.day, d.model, d.n
    FROM p, stats_messages_daily d
    WHERE p.daily AND d.project_id = $1::bigint AND d.day >= p.d0 AND d.day < p.d1
      AND ($6::text IS NULL OR d.model = $6::text)
    UNION ALL
    SELECT m.created_at, m.model, 1
    FROM p, stats_messages m
    WHERE m.project_id = $1::bigint AND m.created_at >= p.since AND m.created_at < least(p.h0, p.until)
      AND ($6::text IS NULL OR m.model = $6::text)
    UNION ALL
    SELECT m.created_at, m.model, 1
    FROM p, stats_messages m
    WHERE m.project_id = $1::bigint AND m.created_at >= greatest(p.h0, p.h1) AND m.created_at < p.until
      AND ($6::text IS NULL OR m.model = $6::text)),
  buckets AS (
    SELECT g.t FROM p, generate_series(date_trunc(p.bucket, p.since, 'UTC'), p.until - interval '1 microsecond', p.step) AS g(t)),
  per AS (
    SELECT date_trunc(p.bucket, u.t, 'UTC') AS t, sum(u.events) AS events, sum(u.up) AS up, sum(u.down) AS down,
           sum(CASE WHEN u.kind = 'edit' THEN u.events ELSE 0 END) AS edits, sum(u.comments) AS comments
    FROM p, u GROUP BY 1),
  per_m AS (
    SELECT date_trunc(p.bucket, mu.t, 'UTC') AS t, sum(mu.n) AS n FROM p, mu GROUP BY 1),
  -- counting events by name, per bucket
  per_n AS (
    SELECT t, json_object_agg(kind, names) AS names
    FROM (SELECT t, kind, json_object_agg(name, n) AS names
          FROM (SELECT date_trunc(p.bucket, u.t, 'UTC') AS t, u.kind, u.name, sum(u.events) AS n
                FROM p, u WHERE u.name IS NOT NULL GROUP BY 1, 2, 3 HAVING sum(u.events) <> 0) x
          GROUP BY 1, 2) y
    GROUP BY 1),
  -- u with the group key (tag groups come from ut)
  uk AS (
    SELECT CASE $5::text WHEN 'model' THEN u.model WHEN 'kind' THEN u.kind ELSE u.name END AS key, u.*
    FROM u
    WHERE $5::text IN ('model', 'kind') OR ($5::text = 'emoji' AND u.kind = 'reaction')
       OR ($5::text = 'span_label' AND u.kind = 'span')),
  grp AS (
    SELECT uk.key, sum(uk.events) AS events, sum(uk.ratings) AS ratings, sum(uk.up) AS up, sum(uk.down) AS down
    FROM uk GROUP BY 1
    UNION ALL
    SELECT ut.tag, sum(ut.events), sum(ut.ratings), sum(ut.up), sum(ut.down)
    FROM ut WHERE $5::text = 'tag' GROUP BY 1),
  grp_m AS (
    SELECT mu.model AS key, sum(mu.n) AS n FROM mu WHERE $5::text = 'model' GROUP BY 1),
  grp_n AS (
    SELECT key, json_object_agg(kind, names) AS names
    FROM (SELECT key, kind, json_object_agg(name, n) AS names
          FROM (SELECT uk.key, uk.kind, uk.name, sum(uk.events) AS n
                FROM uk WHERE uk.name IS NOT NULL GROUP BY 1, 2, 3 HAVING sum(uk.events) <> 0) x
          GROUP BY 1, 2) y
    GROUP BY 1),
  keys AS (
    SELECT key FROM grp WHERE events > 0 UNION SELECT key FROM grp_m WHERE n > 0),
  tags AS (
    SELECT ut.tag, sum(ut.events) AS n FROM ut GROUP BY 1 HAVING sum(ut.events) > 0
    ORDER BY 2 DESC, ut.tag COLLATE "C" LIMIT 10)
  SELECT json_build_object(
    'totals', (SELECT json_build_object(
                 'events', coalesce(sum(events), 0), 'ratings', coalesce(sum(ratings), 0),
                 'up', coalesce(sum(up), 0), 'down', coalesce(sum(down), 0), 'comments', coalesce(sum(comments), 0),
                 'edits', coalesce(sum(events) FILTER (WHERE kind = 'edit'), 0),
                 'comparisons', coalesce(sum(events) FILTER (WHERE kind = 'comparison'), 0),
                 'assistant_messages', (SELECT coalesce(sum(n), 0) FROM mu),
                 'names', coalesce((SELECT json_object_agg(kind, names)
                                    FROM (SELECT kind, json_object_agg(name, n) AS names
                                          FROM (SELECT u2.kind, u2.name, sum(u2.events) AS n FROM u u2
                                                WHERE u2.name IS NOT NULL GROUP BY 1, 2 HAVING sum(u2.events) <> 0) x
                                          GROUP BY 1) y), '{}'::json)) FROM u),
    'series', (SELECT json_agg(json_build_object(
                 't', to_char(b.t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'events', coalesce(per.events, 0), 'up', coalesce(per.up, 0), 'down', coalesce(per.down, 0),
                 'edits', coalesce(per.edits, 0), 'comments', coalesce(per.comments, 0),
                 'assistant_messages', coalesce(per_m.n, 0), 'names', coalesce(per_n.names, '{}'::json)) ORDER BY b.t)
               FROM buckets b LEFT JOIN per ON per.t = b.t LEFT JOIN per_m ON per_m.t = b.t
                              LEFT JOIN per_n ON per_n.t = b.t),
    'groups', coalesce((SELECT json_agg(json_build_object(
                                 'key', k.key, 'events', coalesce(g.events, 0), 'ratings', coalesce(g.ratings, 0),
                                 'up', coalesce(g.up, 0), 'down', coalesce(g.down, 0),
                                 'assistant_messages', CASE WHEN $5::text = 'model' THEN coalesce(gm.n, 0) END,
                                 'names', CASE WHEN $5::text <> 'tag' THEN coalesce(gn.names, '{}'::json) END)
                               ORDER BY k.key COLLATE "C" NULLS LAST)
                        FROM keys k
                        LEFT JOIN grp g ON g.key IS NOT DISTINCT FROM k.key
                        LEFT JOIN grp_m gm ON gm.key IS NOT DISTINCT FROM k.key
                        LEFT JOIN grp_n gn ON gn.key IS NOT DISTINCT FROM k.key), '[]'::json),
    'top_tags', coalesce((SELECT json_agg(json_build_object('tag', tag, 'count', n) ORDER BY n DESC, tag COLLATE "C") FROM tags), '[]'::json),
    'reaction_set', $7::jsonb -> 'reactions',
    'span_labels', $7::jsonb -> 'span_labels')
  );
END $fn$;

DROP FUNCTION fd_stats_query(bigint, timestamptz, timestamptz, text, text, text);
