-- seed.sql — the leaderboard benchmark's battles, straight into PostgreSQL (the API would take
-- far too long for a million events): 50 models with 40 logged answers each, and :battles
-- comparison votes between answers of two different models from 20,000 raters, 10 % ties and
-- 2 % both_bad, the better model (by a hidden strength) preferred with the Bradley–Terry
-- probability. Written through the normal INSERT path, 100,000 rows per statement, each
-- followed by the stats catch-up, so the counting events are maintained exactly as they are
-- behind the ingest writer.
--
-- psql -v project=<id> -v battles=1000000 -f seed.sql
\set ON_ERROR_STOP on
SELECT setseed(0.1414);

INSERT INTO conversations (project_id, id, created_at)
SELECT :project, 'c' || c, now() - interval '31 days' FROM generate_series(0, 39) c;

-- answer 'm<model>-<k>' of model 'model-<model>' (strength model/49 * 3 - 1.5)
INSERT INTO messages (project_id, id, conversation_id, parent_id, role, content, model, content_sha256, created_at)
SELECT :project, 'm' || m || '-' || k, 'c' || k, NULL, 'assistant', 'answer ' || m || '-' || k,
       'model-' || lpad(m::text, 2, '0'), sha256(convert_to('m' || m || '-' || k, 'UTF8')), now() - interval '31 days'
FROM generate_series(0, 49) m, generate_series(0, 39) k;

SELECT format($f$
INSERT INTO feedback (project_id, id, kind, message_id, other_message_id, outcome, user_ref, created_at, content_sha256)
SELECT %1$s, 'b' || i, 'comparison',
       'm' || (CASE WHEN r < 0.12 OR r2 < 1 / (1 + exp((b - a) * 3.0 / 49)) THEN a ELSE b END) || '-' || k,
       'm' || (CASE WHEN r < 0.12 OR r2 < 1 / (1 + exp((b - a) * 3.0 / 49)) THEN b ELSE a END) || '-' || k,
       CASE WHEN r < 0.10 THEN 'tie' WHEN r < 0.12 THEN 'both_bad' ELSE 'preferred' END,
       'u' || (i %% 20000),
       now() - interval '30 days' + (i::float8 / %4$s) * interval '30 days',
       sha256(convert_to('b' || i, 'UTF8'))
FROM (SELECT i, random() AS r, random() AS r2, a, (a + 1 + d) %% 50 AS b, k
      FROM (SELECT i, (random() * 50)::int %% 50 AS a, (random() * 49)::int %% 49 AS d, (random() * 40)::int %% 40 AS k
            FROM generate_series(%2$s::bigint, %3$s::bigint) i) s0) s
$f$, :project, lo, least(lo + 99999, :battles - 1), :battles),
       format('SELECT fd_stats_catch_up(%s)', :project)
FROM generate_series(0, :battles - 1, 100000) lo
\gexec

ANALYZE;
