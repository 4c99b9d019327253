# queries.sh — the COPY ceiling of the export benchmarks (run.sh, ab.sh): the rows the export
# reads, in its order. Source it with PROJECT set; defines Q_MSG and Q_FB.
# These are the two cursor queries of server/db/export_db.c (MESSAGES_SELECT, FEEDBACK_SELECT).
US() { echo "(date_part('epoch', $1) * 1000000)::bigint"; }
Q_MSG="SELECT m.conversation_id, m.id, m.parent_id, m.role, m.content, m.model, $(US m.created_at), m.seq
 FROM messages m WHERE m.project_id = $PROJECT ORDER BY m.conversation_id COLLATE \"C\""
# The feedback query with the columns and the consent join (consents row, else default_consent)
# of a format=trl export: every kind but reactions and signals, which trl does not load (the
# seed has none).
Q_FB="SELECT v.c, f.id, f.seq, f.kind, f.message_id, f.other_message_id, f.user_ref, f.value, f.scale,
  f.edited_content, f.outcome, $(US f.created_at), f.retracted_at IS NOT NULL,
  f.span_start, f.span_end, f.span_label, f.step_index, f.reaction, f.signal, coalesce(cs.train, d.dflt)
 FROM feedback f
 CROSS JOIN (SELECT coalesce(settings->>'default_consent', 'train') <> 'none' AS dflt FROM projects
   WHERE id = $PROJECT) d
 LEFT JOIN consents cs ON cs.project_id = f.project_id AND cs.user_ref = f.user_ref
 LEFT JOIN messages m1 ON m1.project_id = f.project_id AND m1.id = f.message_id
 LEFT JOIN messages m2 ON f.other_message_id IS NOT NULL AND m2.project_id = f.project_id AND m2.id = f.other_message_id
 CROSS JOIN LATERAL (VALUES (m1.conversation_id), (CASE WHEN m2.conversation_id IS DISTINCT FROM
   m1.conversation_id THEN m2.conversation_id END)) v(c)
 WHERE f.project_id = $PROJECT AND f.kind IN ('rating', 'comment', 'edit', 'comparison', 'span', 'step')
   AND v.c IS NOT NULL ORDER BY v.c COLLATE \"C\""
