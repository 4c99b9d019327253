-- 0001_initial.sql — the data model of docs/architecture.md "Data model".
-- Every table that holds a project's data is keyed by project_id first, so it can later be
-- distributed (Citus) or partitioned without changing a key.
--
-- Change tracking for incremental exports: rows that change what an export yields carry the
-- id of the transaction that wrote them (xid8). An export records its snapshot
-- (pg_current_snapshot()) as its watermark; a later export with after=<watermark> looks at
-- exactly the rows whose writing transaction that snapshot did not see. Unlike a sequence
-- number this cannot miss a transaction that took its number early and committed late.

CREATE TABLE projects (
  id          bigserial PRIMARY KEY,
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name        text NOT NULL,
  -- allowed_origins: a JSON array of origins, or the string "*"
  settings    jsonb NOT NULL DEFAULT '{"allowed_origins": []}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  label       text NOT NULL DEFAULT '',
  prefix      text NOT NULL,              -- first characters of the key, to recognise it in lists
  sha256      bytea NOT NULL UNIQUE,      -- SHA-256 of the whole key; the key itself is never stored
  scopes      text[] NOT NULL CHECK (scopes <@ ARRAY['ingest','read','export','admin']::text[]
                                     AND cardinality(scopes) > 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX api_keys_project_idx ON api_keys (project_id, created_at);

CREATE TABLE conversations (
  project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  id          text NOT NULL,
  user_ref    text,                       -- pseudonymous end-user id; NULL after erasure
  metadata    jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, id)
);
CREATE INDEX conversations_user_idx ON conversations (project_id, user_ref) WHERE user_ref IS NOT NULL;

-- Conversation turns. A tree per conversation: regenerations are siblings sharing parent_id.
-- parent_id is not a foreign key: a child may arrive before its parent (docs/api.md).
CREATE TABLE messages (
  project_id      bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  id              text NOT NULL,
  conversation_id text NOT NULL,
  parent_id       text,
  role            text NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
  content         text NOT NULL,
  model           text,
  content_sha256  bytea NOT NULL,         -- hash of the item as the client sent it (idempotency)
  seq             bigserial NOT NULL,     -- arrival order
  txid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
  created_at      timestamptz NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  metadata        jsonb,
  PRIMARY KEY (project_id, id)
);
CREATE INDEX messages_tree_idx ON messages (project_id, conversation_id, parent_id);
CREATE INDEX messages_txid_idx ON messages (project_id, txid);

CREATE TABLE feedback (
  project_id        bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  id                text NOT NULL,
  seq               bigserial NOT NULL,   -- arrival order: ties of created_at, keyset pagination
  kind              text NOT NULL CHECK (kind IN ('rating', 'comment', 'edit', 'comparison')),
  message_id        text NOT NULL,
  conversation_id   text,
  user_ref          text,
  value             integer,
  scale             integer,              -- 2 for thumbs (value -1/1), 3..10 for scale ratings
  tags              text[] NOT NULL DEFAULT '{}',
  comment           text,
  edited_content    text,
  edit_ratio        double precision,     -- normalised edit distance original -> edited, 0..1
  other_message_id  text,
  outcome           text CHECK (outcome IN ('preferred', 'tie', 'both_bad')),
  strength          integer CHECK (strength BETWEEN 1 AND 3),
  created_at        timestamptz NOT NULL,
  received_at       timestamptz NOT NULL DEFAULT now(),
  retracted_at      timestamptz,
  metadata          jsonb,
  content_sha256    bytea NOT NULL,       -- hash of the fields the client sent (idempotency)
  txid              xid8 NOT NULL DEFAULT pg_current_xact_id(),
  retracted_txid    xid8,
  PRIMARY KEY (project_id, id),
  CHECK (kind <> 'rating' OR (value IS NOT NULL AND scale IS NOT NULL)),
  CHECK (kind <> 'edit' OR edited_content IS NOT NULL),
  CHECK (kind <> 'comparison' OR (other_message_id IS NOT NULL AND outcome IS NOT NULL))
);
CREATE INDEX feedback_received_idx ON feedback (project_id, received_at DESC, seq DESC);
CREATE INDEX feedback_created_idx ON feedback (project_id, created_at);
-- No index on (project_id, message_id) nor on other_message_id: no query looks feedback up
-- by message (exports join feedback to messages, stats keep their own message index), and
-- every index is paid on each ingested row.
CREATE INDEX feedback_user_idx ON feedback (project_id, user_ref) WHERE user_ref IS NOT NULL;
CREATE INDEX feedback_txid_idx ON feedback (project_id, txid);
CREATE INDEX feedback_retracted_txid_idx ON feedback (project_id, retracted_txid) WHERE retracted_txid IS NOT NULL;

-- Erasures leave no user id behind; they only record which messages' sibling groups changed,
-- so incremental exports can re-emit them.
CREATE TABLE erasures (
  project_id   bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  id           bigserial NOT NULL,
  message_ids  text[] NOT NULL,
  txid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
  erased_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, id)
);

-- The audit trail of every export: what data went into which training run.
CREATE TABLE exports (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id   bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  format       text NOT NULL,
  params       jsonb NOT NULL DEFAULT '{}'::jsonb,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  rows         bigint,
  sha256       text,
  watermark    text,
  manifest     jsonb
);
CREATE INDEX exports_project_idx ON exports (project_id, started_at);
