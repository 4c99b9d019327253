-- 0022_feedback_ids_received_default.sql — feedback_ids.received_at defaults to now().
--
-- The writer stores a batch by binary COPY into feedback_ids and feedback in one transaction
-- (docs/architecture.md "The writer's COPY"). COPY takes values, not expressions: with this
-- default, the registry's received_at is the transaction's timestamp, the same now() that
-- feedback.received_at defaults to and that the INSERT path writes explicitly.
ALTER TABLE feedback_ids ALTER COLUMN received_at SET DEFAULT now();
