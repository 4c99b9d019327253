-- 0002_stats.sql — what GET /v1/stats reads, kept current by triggers so that a stats query
-- never has to work out the latest-vote rule over the whole history.
--
-- Why maintained state and not a query-time computation: "the latest event of a (user,
-- message, kind) slot counts" needs, for every event in the window, a look at every later
-- event of its slot — 1,000,000 events cost ~1 s even with a perfect index. Here the
-- writer's own INSERT keeps three small structures current, set-based per statement:
--
--   stats_slots   one row per vote slot of a rater (user, kind, message / unordered pair):
--                 the slot's latest event by (created_at, seq), retracted or not. Its row lock
--                 serialises concurrent writers of the same slot (no advisory locks, nothing in
--                 the shared lock table however large a batch is).
--   stats_events  the counting events only (latest of their slot and not retracted; every
--                 event without a user that is not retracted), narrow, with the model of the
--                 judged message once that message is known.
--   stats_hourly, stats_hourly_tags
--                 counters per UTC hour (and kind + model, or tag) over stats_events. A query
--                 sums whole hours from these and reads stats_events only for the partial hours
--                 at the edges of [since, until).
--
-- Rules (docs/api.md "Vote semantics" and "Stats"): a later event (created_at, then seq) of a slot
-- replaces the counting one; an event that arrives late but is older than the slot's latest
-- never counts; retracting the latest empties the slot (earlier events do not come back);
-- erasure deletes a rater's events and their slots (feedback DELETE trigger). A message
-- that arrives after its feedback moves that feedback's counters to its model.

CREATE TABLE stats_slots (
  project_id        bigint NOT NULL,
  user_ref          text NOT NULL,
  kind              text NOT NULL,
  k1                text NOT NULL,      -- message_id, or for comparisons the smaller id of the pair
  k2                text,               -- for comparisons the larger id of the pair, else NULL
  latest_id         text NOT NULL,
  latest_created_at timestamptz NOT NULL,
  latest_seq        bigint NOT NULL,
  FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
  UNIQUE NULLS NOT DISTINCT (project_id, user_ref, kind, k1, k2)
);

CREATE TABLE stats_events (
  project_id  bigint NOT NULL,
  id          text NOT NULL,
  created_at  timestamptz NOT NULL,
  kind        text NOT NULL,
  user_ref    text,
  k1          text NOT NULL,
  k2          text,
  message_id  text NOT NULL,
  model       text,
  vote        smallint NOT NULL,  -- +1 up, -1 down, 0 neither (not a rating, or the midpoint)
  has_comment boolean NOT NULL,
  tags        text[] NOT NULL,
  -- no foreign key to feedback: its per-row check would lock every feedback row it points
  -- to (and cost more than the rest of the trigger); the feedback DELETE trigger cleans up
  PRIMARY KEY (project_id, id)
);
CREATE INDEX stats_events_created_idx ON stats_events (project_id, created_at);
CREATE INDEX stats_events_message_idx ON stats_events (project_id, message_id);
CREATE INDEX stats_events_slot_idx ON stats_events (project_id, user_ref, kind, k1, k2) WHERE user_ref IS NOT NULL;

CREATE TABLE stats_hourly (
  project_id bigint NOT NULL,
  hour       timestamptz NOT NULL,
  kind       text NOT NULL,
  model      text,
  events     bigint NOT NULL,
  ratings    bigint NOT NULL,
  up         bigint NOT NULL,
  down       bigint NOT NULL,
  comments   bigint NOT NULL,
  shard      smallint NOT NULL DEFAULT 0,
  FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
  UNIQUE NULLS NOT DISTINCT (project_id, hour, kind, model, shard)
);

CREATE TABLE stats_hourly_tags (
  project_id bigint NOT NULL,
  hour       timestamptz NOT NULL,
  tag        text NOT NULL,
  events     bigint NOT NULL,
  ratings    bigint NOT NULL,
  up         bigint NOT NULL,
  down       bigint NOT NULL,
  shard      smallint NOT NULL DEFAULT 0,
  FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
  PRIMARY KEY (project_id, hour, tag, shard)
);

-- The same counters per UTC day, so a 30-day daily series reads ~30 rows per key, not ~720.
CREATE TABLE stats_daily (LIKE stats_hourly INCLUDING ALL);
ALTER TABLE stats_daily RENAME COLUMN hour TO day;
ALTER TABLE stats_daily ADD FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE;
CREATE TABLE stats_daily_tags (LIKE stats_hourly_tags INCLUDING ALL);
ALTER TABLE stats_daily_tags RENAME COLUMN hour TO day;
ALTER TABLE stats_daily_tags ADD FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE;

-- +1 / -1 / 0 for a rating: thumbs (scale 2) by sign, scale ratings against the midpoint
-- (scale+1)/2, compared doubled to stay in integers.
CREATE FUNCTION fd_stats_vote(kind text, value integer, scale integer) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (CASE WHEN kind <> 'rating' OR value IS NULL OR scale IS NULL THEN 0
               WHEN scale = 2 THEN sign(value)
               WHEN value * 2 > scale + 1 THEN 1
               WHEN value * 2 < scale + 1 THEN -1
               ELSE 0 END)::smallint
$$;

-- feedback INSERT: the slots the new rows win, and stats_events, in one statement.
-- The trigger functions below run with enable_seqscan/hashjoin/mergejoin off. Their
-- statements join a transition table of one batch (~1..1000 rows) with large tables, and
-- plpgsql keeps each plan for the life of the connection: a plan made while a table was
-- small (a hash join over a sequential scan of stats_events or messages) would stay and cost
-- more with every row the table gains. Nested loops over the indexes cost the same at any size.
CREATE FUNCTION fd_stats_feedback_ins() RETURNS trigger LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  WITH cand AS (
    -- the batch's own latest event per slot
    SELECT DISTINCT ON (project_id, user_ref, kind, k1, k2) project_id, user_ref, kind, k1, k2, id, created_at, seq
    FROM (SELECT n.project_id, n.user_ref, n.kind, n.id, n.created_at, n.seq,
                 CASE WHEN n.kind = 'comparison' THEN least(n.message_id, n.other_message_id) ELSE n.message_id END AS k1,
                 CASE WHEN n.kind = 'comparison' THEN greatest(n.message_id, n.other_message_id) END AS k2
          FROM fd_new n WHERE n.user_ref IS NOT NULL) s
    ORDER BY project_id, user_ref, kind, k1, k2, created_at DESC, seq DESC),
  won AS (
    -- ... which wins the slot only if it is later than the slot's latest. ON CONFLICT DO
    -- UPDATE locks the slot row even when its WHERE is false, so concurrent writers of one
    -- slot take turns; rows go in key order so two batches never wait on each other in a
    -- circle.
    INSERT INTO stats_slots AS t (project_id, user_ref, kind, k1, k2, latest_id, latest_created_at, latest_seq)
    SELECT project_id, user_ref, kind, k1, k2, id, created_at, seq FROM cand
    ORDER BY project_id, user_ref, kind, k1, k2
    ON CONFLICT (project_id, user_ref, kind, k1, k2) DO UPDATE
      SET latest_id = excluded.latest_id, latest_created_at = excluded.latest_created_at, latest_seq = excluded.latest_seq
      WHERE (excluded.latest_created_at, excluded.latest_seq) > (t.latest_created_at, t.latest_seq)
    RETURNING t.project_id, t.user_ref, t.kind, t.k1, t.k2, t.latest_id),
  gone AS (
    -- the previous counting event of a won slot stops counting
    DELETE FROM stats_events e USING won w
    WHERE e.project_id = w.project_id AND e.user_ref = w.user_ref AND e.kind = w.kind AND e.k1 = w.k1
      AND e.k2 IS NOT DISTINCT FROM w.k2 AND e.id <> w.latest_id
    RETURNING 1)
  INSERT INTO stats_events (project_id, id, created_at, kind, user_ref, k1, k2, message_id, model, vote, has_comment, tags)
  SELECT n.project_id, n.id, n.created_at, n.kind, n.user_ref,
         CASE WHEN n.kind = 'comparison' THEN least(n.message_id, n.other_message_id) ELSE n.message_id END,
         CASE WHEN n.kind = 'comparison' THEN greatest(n.message_id, n.other_message_id) END,
         n.message_id, m.model, fd_stats_vote(n.kind, n.value, n.scale),
         coalesce(n.comment, '') <> '', n.tags
  FROM fd_new n
  LEFT JOIN messages m ON m.project_id = n.project_id AND m.id = n.message_id
  WHERE n.retracted_at IS NULL
    -- an uncorrelated IN is a hashed subplan (one pass over won); the correlated EXISTS it
    -- replaces rescanned won for every row of the batch
    AND (n.user_ref IS NULL OR (n.project_id, n.id) IN (SELECT w.project_id, w.latest_id FROM won w))
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

-- feedback UPDATE: a retracted event stops counting. Only the event itself can leave
-- stats_events: if it was its slot's latest, the slot stays pointed at it, so nothing older
-- comes back; if it was not, it was not counting anyway.
CREATE FUNCTION fd_stats_feedback_upd() RETURNS trigger LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  DELETE FROM stats_events e USING fd_new n
  WHERE n.retracted_at IS NOT NULL AND e.project_id = n.project_id AND e.id = n.id;
  RETURN NULL;
END $$;

-- feedback DELETE (erasure, project deletion): the events stop counting and the rater's
-- slots go.
CREATE FUNCTION fd_stats_feedback_del() RETURNS trigger LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  DELETE FROM stats_events e USING fd_old o WHERE e.project_id = o.project_id AND e.id = o.id;
  DELETE FROM stats_slots s USING (SELECT DISTINCT project_id, user_ref FROM fd_old WHERE user_ref IS NOT NULL) o
  WHERE s.project_id = o.project_id AND s.user_ref = o.user_ref
    AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.project_id = s.project_id AND f.id = s.latest_id);
  RETURN NULL;
END $$;

-- messages INSERT: feedback that arrived before its message gets the message's model.
CREATE FUNCTION fd_stats_messages_ins() RETURNS trigger LANGUAGE plpgsql
  SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
  UPDATE stats_events e SET model = n.model
  FROM fd_new n
  WHERE n.model IS NOT NULL AND e.project_id = n.project_id AND e.message_id = n.id
    AND e.model IS DISTINCT FROM n.model;
  RETURN NULL;
END $$;

-- Add rows of stats_events (sign +1) or take them away (-1) from the hourly and daily
-- counters. Each backend writes its own shard (pid % 4) of a counter: the rows of the
-- current hour and day are touched by every batch and stay locked until COMMIT, so without
-- shards concurrent writers would queue behind each other's commit. Readers sum the shards
-- (and a shard may go below zero when another backend's events are taken away: only sums
-- mean anything). Rows are upserted in key order so that two transactions never lock counters
-- in opposite orders.
CREATE FUNCTION fd_stats_apply(olds stats_events[], news stats_events[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- One statement for the four counter tables: the delta is unnested once and one executor
  -- start serves all four upserts (four statements cost four plans' start-up per batch).
  WITH delta AS (
    SELECT o.project_id, o.created_at, o.kind, o.model, o.vote, o.has_comment, o.tags, -1 AS d FROM unnest(olds) o
    UNION ALL
    SELECT n.project_id, n.created_at, n.kind, n.model, n.vote, n.has_comment, n.tags, 1 FROM unnest(news) n),
  hourly AS (
    INSERT INTO stats_hourly AS h (project_id, hour, kind, model, shard, events, ratings, up, down, comments)
    SELECT project_id, date_trunc('hour', created_at, 'UTC'), kind, model, (pg_backend_pid() % 4)::smallint, sum(d),
           coalesce(sum(d) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(d) FILTER (WHERE vote > 0), 0),
           coalesce(sum(d) FILTER (WHERE vote < 0), 0), coalesce(sum(d) FILTER (WHERE has_comment), 0)
    FROM delta GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (project_id, hour, kind, model, shard) DO UPDATE
      SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
          up = h.up + excluded.up, down = h.down + excluded.down, comments = h.comments + excluded.comments),
  hourly_tags AS (
    INSERT INTO stats_hourly_tags AS h (project_id, hour, tag, shard, events, ratings, up, down)
    SELECT project_id, date_trunc('hour', created_at, 'UTC'), tag, (pg_backend_pid() % 4)::smallint, sum(d),
           coalesce(sum(d) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(d) FILTER (WHERE vote > 0), 0),
           coalesce(sum(d) FILTER (WHERE vote < 0), 0)
    FROM delta, unnest(delta.tags) AS tag GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (project_id, hour, tag, shard) DO UPDATE
      SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
          up = h.up + excluded.up, down = h.down + excluded.down),
  daily AS (
    INSERT INTO stats_daily AS h (project_id, day, kind, model, shard, events, ratings, up, down, comments)
    SELECT project_id, date_trunc('day', created_at, 'UTC'), kind, model, (pg_backend_pid() % 4)::smallint, sum(d),
           coalesce(sum(d) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(d) FILTER (WHERE vote > 0), 0),
           coalesce(sum(d) FILTER (WHERE vote < 0), 0), coalesce(sum(d) FILTER (WHERE has_comment), 0)
    FROM delta GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (project_id, day, kind, model, shard) DO UPDATE
      SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
          up = h.up + excluded.up, down = h.down + excluded.down, comments = h.comments + excluded.comments)
  INSERT INTO stats_daily_tags AS h (project_id, day, tag, shard, events, ratings, up, down)
  SELECT project_id, date_trunc('day', created_at, 'UTC'), tag, (pg_backend_pid() % 4)::smallint, sum(d),
         coalesce(sum(d) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(d) FILTER (WHERE vote > 0), 0),
         coalesce(sum(d) FILTER (WHERE vote < 0), 0)
  FROM delta, unnest(delta.tags) AS tag GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (project_id, day, tag, shard) DO UPDATE
    SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
        up = h.up + excluded.up, down = h.down + excluded.down;
END $$;

CREATE FUNCTION fd_stats_events_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM fd_stats_apply(NULL, (SELECT array_agg(n::stats_events) FROM fd_new n));
  RETURN NULL;
END $$;
CREATE FUNCTION fd_stats_events_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM fd_stats_apply((SELECT array_agg(o::stats_events) FROM fd_old o), (SELECT array_agg(n::stats_events) FROM fd_new n));
  RETURN NULL;
END $$;
CREATE FUNCTION fd_stats_events_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM fd_stats_apply((SELECT array_agg(o::stats_events) FROM fd_old o), NULL);
  RETURN NULL;
END $$;

CREATE TRIGGER stats_feedback_ins AFTER INSERT ON feedback
  REFERENCING NEW TABLE AS fd_new FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_feedback_ins();
CREATE TRIGGER stats_feedback_upd AFTER UPDATE ON feedback
  REFERENCING NEW TABLE AS fd_new FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_feedback_upd();
CREATE TRIGGER stats_feedback_del AFTER DELETE ON feedback
  REFERENCING OLD TABLE AS fd_old FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_feedback_del();
CREATE TRIGGER stats_messages_ins AFTER INSERT ON messages
  REFERENCING NEW TABLE AS fd_new FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_messages_ins();
CREATE TRIGGER stats_events_ins AFTER INSERT ON stats_events
  REFERENCING NEW TABLE AS fd_new FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_events_ins();
CREATE TRIGGER stats_events_upd AFTER UPDATE ON stats_events
  REFERENCING OLD TABLE AS fd_old NEW TABLE AS fd_new FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_events_upd();
CREATE TRIGGER stats_events_del AFTER DELETE ON stats_events
  REFERENCING OLD TABLE AS fd_old FOR EACH STATEMENT EXECUTE FUNCTION fd_stats_events_del();

-- The query of GET /v1/stats (caller: server/db/stats_db.c). A function rather than a
-- statement in C for one reason: `SET jit = off`. The planner cannot know how short the edge
-- ranges are, so on a large table its estimates cross jit_above_cost and every call paid
-- ~300-500 ms of LLVM compilation for a query that runs in a few milliseconds. plpgsql also
-- keeps the plan across calls.
--
-- Sources, each for its part of [since, until): with h0/d0 = since rounded up to the hour/day
-- and h1/d1 = until rounded down,
--   [since, min(h0, until))  stats_events (the counting events themselves)
--   [h0, d0)                 stats_hourly, stats_hourly_tags (per UTC hour)
--   [d0, d1)                 stats_daily, stats_daily_tags (per UTC day)
--   [d1, h1)                 stats_hourly, stats_hourly_tags
--   [max(h0, h1), until)     stats_events
-- which covers [since, until) exactly once. Without whole days inside the window, or for
-- hour buckets (whose series needs hours), the hourly counters cover all of [h0, h1). Buckets are date_trunc(bucket, t, 'UTC') (weeks
-- start on Monday 00:00 UTC); every bucket start from date_trunc(bucket, since) up to
-- (excluding) until is listed, empty ones with zeros. Steps are fixed 1/24/168 hours, so the
-- session's TimeZone cannot matter. Tags and group keys sort by bytes (COLLATE "C"), the null
-- model last; groups list the keys with at least one counting event.
-- Parameters: project id, since, until, bucket ('hour'|'day'|'week'), group_by (NULL|'model'|
-- 'tag'|'kind'). Returns {totals, series, groups, top_tags} without rates.
CREATE FUNCTION fd_stats_query(bigint, timestamptz, timestamptz, text, text, text) RETURNS json
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
    SELECT h.hour AS t, h.kind, h.model, h.events, h.ratings, h.up, h.down, h.comments
    FROM p, stats_hourly h
    WHERE h.project_id = $1::bigint AND h.hour >= p.h0 AND h.hour < CASE WHEN p.daily THEN p.d0 ELSE p.h1 END
      AND ($6::text IS NULL OR h.model = $6::text)
    UNION ALL
    SELECT h.hour, h.kind, h.model, h.events, h.ratings, h.up, h.down, h.comments
    FROM p, stats_hourly h
    WHERE p.daily AND h.project_id = $1::bigint AND h.hour >= p.d1 AND h.hour < p.h1
      AND ($6::text IS NULL OR h.model = $6::text)
    UNION ALL
    SELECT d.day, d.kind, d.model, d.events, d.ratings, d.up, d.down, d.comments
    FROM p, stats_daily d
    WHERE p.daily AND d.project_id = $1::bigint AND d.day >= p.d0 AND d.day < p.d1
      AND ($6::text IS NULL OR d.model = $6::text)
    UNION ALL
    SELECT e.created_at, e.kind, e.model, 1, (e.kind = 'rating')::int, (e.vote > 0)::int, (e.vote < 0)::int, e.has_comment::int
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
  buckets AS (
    SELECT g.t FROM p, generate_series(date_trunc(p.bucket, p.since, 'UTC'), p.until - interval '1 microsecond', p.step) AS g(t)),
  per AS (
    SELECT date_trunc(p.bucket, u.t, 'UTC') AS t, sum(u.events) AS events, sum(u.up) AS up, sum(u.down) AS down,
           sum(CASE WHEN u.kind = 'edit' THEN u.events ELSE 0 END) AS edits, sum(u.comments) AS comments
    FROM p, u GROUP BY 1),
  grp AS (
    SELECT CASE $5::text WHEN 'model' THEN u.model WHEN 'kind' THEN u.kind END AS key,
           sum(u.events) AS events, sum(u.ratings) AS ratings, sum(u.up) AS up, sum(u.down) AS down
    FROM u WHERE $5::text IN ('model', 'kind') GROUP BY 1
    UNION ALL
    SELECT ut.tag, sum(ut.events), sum(ut.ratings), sum(ut.up), sum(ut.down)
    FROM ut WHERE $5::text = 'tag' GROUP BY 1),
  tags AS (
    SELECT ut.tag, sum(ut.events) AS n FROM ut GROUP BY 1 HAVING sum(ut.events) > 0
    ORDER BY 2 DESC, ut.tag COLLATE "C" LIMIT 10)
  SELECT json_build_object(
    'totals', (SELECT json_build_object(
                 'events', coalesce(sum(events), 0), 'ratings', coalesce(sum(ratings), 0),
                 'up', coalesce(sum(up), 0), 'down', coalesce(sum(down), 0), 'comments', coalesce(sum(comments), 0),
                 'edits', coalesce(sum(events) FILTER (WHERE kind = 'edit'), 0),
                 'comparisons', coalesce(sum(events) FILTER (WHERE kind = 'comparison'), 0)) FROM u),
    'series', (SELECT json_agg(json_build_object(
                 't', to_char(b.t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                 'events', coalesce(per.events, 0), 'up', coalesce(per.up, 0), 'down', coalesce(per.down, 0),
                 'edits', coalesce(per.edits, 0), 'comments', coalesce(per.comments, 0)) ORDER BY b.t)
               FROM buckets b LEFT JOIN per ON per.t = b.t),
    'groups', coalesce((SELECT json_agg(json_build_object('key', key, 'ratings', ratings, 'up', up, 'down', down)
                                        ORDER BY key COLLATE "C" NULLS LAST)
                        FROM grp WHERE events > 0), '[]'::json),
    'top_tags', coalesce((SELECT json_agg(json_build_object('tag', tag, 'count', n) ORDER BY n DESC, tag COLLATE "C") FROM tags), '[]'::json))
  );
END $fn$;

-- Feedback stored before this migration: the same rules, once, set-based.
INSERT INTO stats_slots (project_id, user_ref, kind, k1, k2, latest_id, latest_created_at, latest_seq)
SELECT DISTINCT ON (project_id, user_ref, kind, k1, k2) project_id, user_ref, kind, k1, k2, id, created_at, seq
FROM (SELECT f.project_id, f.user_ref, f.kind, f.id, f.created_at, f.seq,
             CASE WHEN f.kind = 'comparison' THEN least(f.message_id, f.other_message_id) ELSE f.message_id END AS k1,
             CASE WHEN f.kind = 'comparison' THEN greatest(f.message_id, f.other_message_id) END AS k2
      FROM feedback f WHERE f.user_ref IS NOT NULL) s
ORDER BY project_id, user_ref, kind, k1, k2, created_at DESC, seq DESC;

INSERT INTO stats_events (project_id, id, created_at, kind, user_ref, k1, k2, message_id, model, vote, has_comment, tags)
SELECT f.project_id, f.id, f.created_at, f.kind, f.user_ref,
       CASE WHEN f.kind = 'comparison' THEN least(f.message_id, f.other_message_id) ELSE f.message_id END,
       CASE WHEN f.kind = 'comparison' THEN greatest(f.message_id, f.other_message_id) END,
       f.message_id, m.model, fd_stats_vote(f.kind, f.value, f.scale), coalesce(f.comment, '') <> '', f.tags
FROM feedback f
LEFT JOIN messages m ON m.project_id = f.project_id AND m.id = f.message_id
WHERE f.retracted_at IS NULL
  AND (f.user_ref IS NULL OR EXISTS (SELECT 1 FROM stats_slots s WHERE s.project_id = f.project_id AND s.latest_id = f.id
                                     AND s.user_ref = f.user_ref));
