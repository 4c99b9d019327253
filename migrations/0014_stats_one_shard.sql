-- 0014_stats_one_shard.sql — the stats counters in one shard again.
--
-- 0002 spread every counter over four rows (shard = the writing backend's pid % 4): the
-- rows of the current hour and day were updated by every ingest statement and stayed locked
-- until its COMMIT, so concurrent writers would have queued behind each other. Since 0003 the
-- writers no longer touch the counters: the catch-up, retraction and erasure (and retention's
-- deletes) change them, and each of those holds its project's stats lock (fd_stats_lock)
-- while it does, so writers of one project's counters queue anyway and other projects have
-- other rows. The shards only multiplied the rows a stats query reads — four times as many
-- once catch-ups run on several connections — and with the counters per name of 0009 there
-- are more rows per hour to begin with. Every counter is now written to shard 0 and the
-- existing shards are merged into it (the column stays: nothing else changes shape).

SELECT fd_stats_lock(id) FROM projects ORDER BY id;

-- fd_stats_apply_delta of 0009 with shard 0 instead of pg_backend_pid() % 4.
CREATE OR REPLACE FUNCTION fd_stats_apply_delta(ds stats_delta[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  WITH delta AS (SELECT * FROM unnest(ds)),
  hourly AS (
    INSERT INTO stats_hourly AS h (project_id, hour, kind, model, name, shard, events, ratings, up, down, comments)
    SELECT project_id, hour, kind, model, name, 0::smallint, sum(n),
           coalesce(sum(n) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(n) FILTER (WHERE vote > 0), 0),
           coalesce(sum(n) FILTER (WHERE vote < 0), 0), coalesce(sum(n) FILTER (WHERE has_comment), 0)
    FROM delta GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (project_id, hour, kind, model, name, shard) DO UPDATE
      SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
          up = h.up + excluded.up, down = h.down + excluded.down, comments = h.comments + excluded.comments),
  hourly_tags AS (
    INSERT INTO stats_hourly_tags AS h (project_id, hour, tag, shard, events, ratings, up, down)
    SELECT project_id, hour, tag, 0::smallint, sum(n),
           coalesce(sum(n) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(n) FILTER (WHERE vote > 0), 0),
           coalesce(sum(n) FILTER (WHERE vote < 0), 0)
    FROM delta, unnest(delta.tags) AS tag GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (project_id, hour, tag, shard) DO UPDATE
      SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
          up = h.up + excluded.up, down = h.down + excluded.down),
  daily AS (
    INSERT INTO stats_daily AS h (project_id, day, kind, model, name, shard, events, ratings, up, down, comments)
    SELECT project_id, date_trunc('day', hour, 'UTC'), kind, model, name, 0::smallint, sum(n),
           coalesce(sum(n) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(n) FILTER (WHERE vote > 0), 0),
           coalesce(sum(n) FILTER (WHERE vote < 0), 0), coalesce(sum(n) FILTER (WHERE has_comment), 0)
    FROM delta GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (project_id, day, kind, model, name, shard) DO UPDATE
      SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
          up = h.up + excluded.up, down = h.down + excluded.down, comments = h.comments + excluded.comments)
  INSERT INTO stats_daily_tags AS h (project_id, day, tag, shard, events, ratings, up, down)
  SELECT project_id, date_trunc('day', hour, 'UTC'), tag, 0::smallint, sum(n),
         coalesce(sum(n) FILTER (WHERE kind = 'rating'), 0), coalesce(sum(n) FILTER (WHERE vote > 0), 0),
         coalesce(sum(n) FILTER (WHERE vote < 0), 0)
  FROM delta, unnest(delta.tags) AS tag GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (project_id, day, tag, shard) DO UPDATE
    SET events = h.events + excluded.events, ratings = h.ratings + excluded.ratings,
        up = h.up + excluded.up, down = h.down + excluded.down;
END $$;

-- Merge the shards: every counter key's sum into one row of shard 0 (all-zero sums go).
CREATE TEMP TABLE merged_hourly ON COMMIT DROP AS
  SELECT project_id, hour, kind, model, name, sum(events) AS events, sum(ratings) AS ratings, sum(up) AS up,
         sum(down) AS down, sum(comments) AS comments
  FROM stats_hourly GROUP BY 1, 2, 3, 4, 5;
DELETE FROM stats_hourly;
INSERT INTO stats_hourly (project_id, hour, kind, model, name, shard, events, ratings, up, down, comments)
SELECT project_id, hour, kind, model, name, 0, events, ratings, up, down, comments FROM merged_hourly
WHERE events <> 0 OR ratings <> 0 OR up <> 0 OR down <> 0 OR comments <> 0;

CREATE TEMP TABLE merged_daily ON COMMIT DROP AS
  SELECT project_id, day, kind, model, name, sum(events) AS events, sum(ratings) AS ratings, sum(up) AS up,
         sum(down) AS down, sum(comments) AS comments
  FROM stats_daily GROUP BY 1, 2, 3, 4, 5;
DELETE FROM stats_daily;
INSERT INTO stats_daily (project_id, day, kind, model, name, shard, events, ratings, up, down, comments)
SELECT project_id, day, kind, model, name, 0, events, ratings, up, down, comments FROM merged_daily
WHERE events <> 0 OR ratings <> 0 OR up <> 0 OR down <> 0 OR comments <> 0;

CREATE TEMP TABLE merged_hourly_tags ON COMMIT DROP AS
  SELECT project_id, hour, tag, sum(events) AS events, sum(ratings) AS ratings, sum(up) AS up, sum(down) AS down
  FROM stats_hourly_tags GROUP BY 1, 2, 3;
DELETE FROM stats_hourly_tags;
INSERT INTO stats_hourly_tags (project_id, hour, tag, shard, events, ratings, up, down)
SELECT project_id, hour, tag, 0, events, ratings, up, down FROM merged_hourly_tags
WHERE events <> 0 OR ratings <> 0 OR up <> 0 OR down <> 0;

CREATE TEMP TABLE merged_daily_tags ON COMMIT DROP AS
  SELECT project_id, day, tag, sum(events) AS events, sum(ratings) AS ratings, sum(up) AS up, sum(down) AS down
  FROM stats_daily_tags GROUP BY 1, 2, 3;
DELETE FROM stats_daily_tags;
INSERT INTO stats_daily_tags (project_id, day, tag, shard, events, ratings, up, down)
SELECT project_id, day, tag, 0, events, ratings, up, down FROM merged_daily_tags
WHERE events <> 0 OR ratings <> 0 OR up <> 0 OR down <> 0;
