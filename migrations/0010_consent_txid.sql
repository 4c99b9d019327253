-- 0010_consent_txid.sql — a consent change is a change for incremental exports
-- (docs/export.md "Incremental exports"): the transaction that last changed a rater's consent,
-- so that `after=<watermark>` finds raters whose consent changed since and touches the sibling
-- groups of every message their events name. Rows that exist now get this migration's
-- transaction: an incremental export across the migration re-sends those raters' groups once.

ALTER TABLE consents ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX consents_txid_idx ON consents (project_id, txid);
