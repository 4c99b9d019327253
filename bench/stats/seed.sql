-- seed.sql — 1,000,000 feedback events (and 200,000 judged messages) for the stats benchmark,
-- straight into PostgreSQL: the API would take far too long for this many. Written through
-- the normal INSERT path, in statements of 100,000 rows, each followed by the stats catch-up
-- of migrations/0003_stats_catch_up.sql, so the stats tables are maintained exactly as they
-- are behind the ingest writer.
--
-- psql -v project=<id> -v events=1000000 -f seed.sql
-- Mix: 70 % ratings (80 % thumbs, 20 % 1..5 scale), 10 % comments, 10 % edits, 10 % comparisons;
-- 20,000 raters plus 10 % events without user; every 8th event re-votes the (user, message)
-- of an earlier one (5,010 events, some hours, before); 30 % carry 1-2 of 12 tags; 2 % are
-- retracted; created_at in arrival order over the last 60 days, up to 30 min late; 5 models.
-- Result: ~855,000 counting events, ~428,000 of them in the last 30 days.
\set ON_ERROR_STOP on
SELECT setseed(0.42);

INSERT INTO conversations (project_id, id, created_at)
SELECT :project, 'c' || c, now() - interval '61 days' FROM generate_series(0, 19999) c;

INSERT INTO messages (project_id, id, conversation_id, parent_id, role, content, model, content_sha256, created_at)
SELECT :project, 'm' || g, 'c' || (g % 20000), NULL, 'assistant', 'answer ' || g,
       (ARRAY['chat-v5', 'chat-v6', 'chat-v7', 'chat-v7.1', 'chat-mini'])[1 + (g * 31) % 5],
       sha256(convert_to('m' || g, 'UTF8')), now() - interval '61 days'
FROM generate_series(0, 199999) g;

-- :events rows, 100,000 per statement
SELECT format($f$
INSERT INTO feedback (project_id, id, kind, message_id, user_ref, value, scale, tags, comment, edited_content,
                      other_message_id, outcome, created_at, retracted_at, content_sha256)
SELECT %1$s, 'e' || i, kind,
       'm' || msg, CASE WHEN i %% 10 = 3 THEN NULL ELSE 'u' || usr END,
       CASE WHEN kind = 'rating' THEN (CASE WHEN thumbs THEN (CASE WHEN r < 0.62 THEN 1 ELSE -1 END) ELSE 1 + (i %% 5) END) END,
       CASE WHEN kind = 'rating' THEN (CASE WHEN thumbs THEN 2 ELSE 5 END) END,
       CASE WHEN i %% 10 < 2 THEN ARRAY[(ARRAY['inaccurate','too_long','unsafe','off_topic','rude','outdated',
                                               'helpful','creative','concise','wrong_language','formatting','other'])[1 + (i / 10) %% 12]]
            WHEN i %% 10 = 2 THEN ARRAY['inaccurate', (ARRAY['too_long','formatting','outdated'])[1 + (i / 10) %% 3]]
            ELSE '{}'::text[] END,
       CASE WHEN kind = 'comment' OR i %% 17 = 0 THEN 'comment ' || i END,
       CASE WHEN kind = 'edit' THEN 'edited ' || i END,
       CASE WHEN kind = 'comparison' THEN 'm' || ((msg + 1) %% 200000) END,
       CASE WHEN kind = 'comparison' THEN 'preferred' END,
       -- in arrival order, as a live system writes them: spread evenly over 60 days, each
       -- created up to 30 minutes before it arrives (client clocks, retries, offline queues)
       now() - interval '60 days' + (i::float8 / %4$s) * interval '60 days' - random() * interval '30 minutes',
       CASE WHEN i %% 50 = 7 THEN now() END,
       sha256(convert_to('e' || i, 'UTF8'))
FROM (SELECT i, random() AS r,
             CASE WHEN i %% 10 < 7 THEN 'rating' WHEN i %% 10 = 7 THEN 'comment' WHEN i %% 10 = 8 THEN 'edit' ELSE 'comparison' END AS kind,
             (i / 10) %% 5 <> 0 AS thumbs,
             -- every 8th event re-votes the slot of the event 5,010 before it (same kind, user,
             -- message; some hours earlier)
             (((CASE WHEN i %% 8 = 0 AND i >= 5010 THEN i - 5010 ELSE i END) * 7919) %% 1000003) %% 20000 AS usr,
             ((CASE WHEN i %% 8 = 0 AND i >= 5010 THEN i - 5010 ELSE i END) * 104729) %% 200000 AS msg
      FROM generate_series(%2$s::bigint, %3$s::bigint) i) s
$f$, :project, lo, least(lo + 99999, :events - 1), :events),
       format('SELECT fd_stats_catch_up(%s)', :project)
FROM generate_series(0, :events - 1, 100000) lo
\gexec

ANALYZE;
