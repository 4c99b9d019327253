-- 0015_stats_slot_key_inline.sql — fd_stats_slot_k2 of 0007, inlinable.
--
-- A LANGUAGE sql function is inlined into the statement that calls it only if its body is
-- as immutable as the function says it is. 0007's body concatenated integers to text with
-- ||, i.e. anytextcat(anynonarray, text), which is only STABLE (it calls the type's output
-- function); so the planner never inlined it, and every row of the stats catch-up (twice per
-- feedback row) and of the statement triggers ran it as a separate SQL function call: in
-- bench/ingest ~2.3 µs per call, ~5 µs per stored event (bench/README.md "ingest: where
-- PostgreSQL's CPU goes"). The explicit ::text casts are immutable (int4out, textin) and give
-- the same text, NULL for NULL, so the same keys: only how the expression is run changes.
CREATE OR REPLACE FUNCTION fd_stats_slot_k2(kind text, message_id text, other_message_id text, span_start integer,
                                            span_end integer, span_label text, step_index integer, reaction text,
                                            id text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE kind WHEN 'comparison' THEN greatest(message_id, other_message_id)
                   WHEN 'span' THEN span_start::text || ':' || span_end::text || ':' || span_label
                   WHEN 'step' THEN step_index::text
                   WHEN 'reaction' THEN reaction
                   WHEN 'signal' THEN id END
$$;
