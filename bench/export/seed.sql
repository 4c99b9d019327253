-- seed.sql — realistic conversations and :events feedback events for the export benchmark,
-- straight into PostgreSQL with generate_series (the API would take far too long).
--
-- psql -v project=<id> -v convs=100000 -f seed.sql        (10 events per conversation)
--
-- Each conversation: a system prompt, a user turn, three regenerated answers (siblings), a
-- follow-up user turn under the first answer and two answers to it (7 messages, 2 sibling
-- groups, ~300-byte answers). Its 10 events: thumbs on the three first answers (three raters,
-- every 7th conversation a re-vote), two 1..5 scale ratings on the follow-up answers, an edit
-- of the second answer, three comparisons of the first two answers (majorities, some ties),
-- one comment. 2 % of ratings are retracted. 5 models. Conversation ids are not in insertion
-- order, so the export's bytewise ORDER BY really sorts.
\set ON_ERROR_STOP on
SELECT setseed(0.42);

INSERT INTO conversations (project_id, id, created_at)
SELECT :project, 'conv-' || md5(c::text), now() - interval '30 days' FROM generate_series(0, :convs - 1) c;

INSERT INTO messages (project_id, id, conversation_id, parent_id, role, content, model, content_sha256, created_at)
SELECT :project, 'c' || c || '-' || k, 'conv-' || md5(c::text),
       CASE k WHEN 0 THEN NULL WHEN 1 THEN 'c' || c || '-0' WHEN 2 THEN 'c' || c || '-1' WHEN 3 THEN 'c' || c || '-1'
              WHEN 4 THEN 'c' || c || '-1' WHEN 5 THEN 'c' || c || '-2' ELSE 'c' || c || '-5' END,
       CASE k WHEN 0 THEN 'system' WHEN 1 THEN 'user' WHEN 5 THEN 'user' ELSE 'assistant' END,
       CASE k WHEN 0 THEN 'You are a helpful assistant. Answer concisely.'
              WHEN 1 THEN 'Question ' || c || ': how do I configure the widget for my site?'
              WHEN 5 THEN 'Follow-up ' || c || ': and for a second site?'
              ELSE 'Answer ' || k || ' to ' || c || ': ' || repeat('Add the script tag to your page, set the key and the endpoint. ', 4) END,
       CASE WHEN k IN (2, 3, 4, 6) THEN (ARRAY['chat-v5', 'chat-v6', 'chat-v7', 'chat-v7.1', 'chat-mini'])[1 + (c + k) % 5] END,
       sha256(convert_to(c || '-' || k, 'UTF8')),
       now() - interval '30 days' + (k || ' seconds')::interval
FROM generate_series(0, :convs - 1) c, (VALUES (0), (1), (2), (3), (4), (5), (6)) AS ks(k);

-- 10 events per conversation, in statements of 10,000 conversations
SELECT format($f$
INSERT INTO feedback (project_id, id, kind, message_id, conversation_id, user_ref, value, scale, comment,
                      edited_content, other_message_id, outcome, created_at, retracted_at, content_sha256)
SELECT %1$s, 'e' || c || '-' || j, kind, 'c' || c || '-' || msg, 'conv-' || md5(c::text), 'u' || ((c * 31 + j * 7) %% 50000),
       CASE WHEN kind = 'rating' AND j < 3 THEN (CASE WHEN random() < 0.6 THEN 1 ELSE -1 END)
            WHEN kind = 'rating' THEN 1 + floor(random() * 5)::int END,
       CASE WHEN kind = 'rating' AND j < 3 THEN 2 WHEN kind = 'rating' THEN 5 END,
       CASE WHEN kind = 'comment' THEN 'Could be shorter.' END,
       CASE WHEN kind = 'edit' THEN 'Add the script tag, set the key and the endpoint. Done. (' || c || ')' END,
       CASE WHEN kind = 'comparison' THEN 'c' || c || '-' || other END,
       CASE WHEN kind = 'comparison' THEN (CASE WHEN random() < 0.1 THEN 'tie' ELSE 'preferred' END) END,
       now() - interval '20 days' + (j || ' minutes')::interval,
       CASE WHEN kind = 'rating' AND (c * 10 + j) %% 50 = 7 THEN now() END,
       sha256(convert_to(c || '-' || j, 'UTF8'))
FROM generate_series(%2$s, %3$s) c,
     LATERAL (VALUES (0, 'rating', 2, NULL), (1, 'rating', 3, NULL), (2, 'rating', 4, NULL),
                     (3, 'rating', 6, NULL), (4, 'rating', 6, NULL), (5, 'edit', 3, NULL),
                     (6, 'comparison', CASE WHEN c %% 4 = 0 THEN 3 ELSE 2 END, CASE WHEN c %% 4 = 0 THEN 2 ELSE 3 END),
                     (7, 'comparison', 2, 3), (8, 'comparison', 2, 3), (9, 'comment', 2, NULL)) AS ev(j, kind, msg, other)
$f$, :project, lo, least(lo + 9999, :convs - 1))
FROM generate_series(0, :convs - 1, 10000) lo
\gexec

-- every 7th conversation: the first rater re-votes (a later event for the same user, message, kind)
INSERT INTO feedback (project_id, id, kind, message_id, conversation_id, user_ref, value, scale, created_at, content_sha256)
SELECT :project, 'e' || c || '-r', 'rating', 'c' || c || '-2', 'conv-' || md5(c::text), 'u' || ((c * 31) % 50000), 1, 2,
       now() - interval '19 days', sha256(convert_to(c || '-r', 'UTF8'))
FROM generate_series(0, :convs - 1, 7) c;

ANALYZE;
