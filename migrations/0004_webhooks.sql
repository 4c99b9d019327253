-- 0004_webhooks.sql — signed webhooks out (docs/api.md "Webhooks", docs/operations.md).
--
-- webhook_endpoints: the admin-managed targets of a project. The secret is kept as given
-- (whsec_ + base64): the worker needs the key itself to sign, a hash would not do.
--
-- webhook_deliveries: the durable outbox. A row is written by the same statement (hence
-- the same transaction) as the event it announces — the writer's feedback INSERT, the
-- retraction UPDATE, the export's finishing UPDATE — so an event is announced if and only
-- if it committed, whatever happens to the process afterwards. The delivery workers claim
-- due rows with FOR UPDATE SKIP LOCKED and a lease (next_attempt_at moved forward before
-- the POST), so replicas share the work and a delivery cut short by kill -9 is due again
-- when its lease runs out: at least once.

CREATE TABLE webhook_endpoints (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  url         text NOT NULL CHECK (url ~ '^https?://'),
  events      text[] NOT NULL CHECK (events <@ ARRAY['feedback.stored', 'feedback.retracted',
                                                     'export.finished']::text[]
                                     AND cardinality(events) > 0),
  secret      text NOT NULL CHECK (secret ~ '^whsec_'),
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- the event statements join on it: a project without endpoints finds nothing at once
CREATE INDEX webhook_endpoints_project_idx ON webhook_endpoints (project_id);

CREATE TABLE webhook_deliveries (
  id               bigserial PRIMARY KEY,
  -- the webhook-id header: the same for every attempt of one delivery, so receivers can
  -- drop the duplicates that at-least-once delivery implies
  msg_id           text NOT NULL UNIQUE DEFAULT 'msg_' || replace(gen_random_uuid()::text, '-', ''),
  endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  project_id       bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  event            text NOT NULL,
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz DEFAULT now(),   -- NULL once delivered or failed
  last_attempt_at  timestamptz,
  last_status      integer,                     -- HTTP status of the last answer, NULL if none
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz
);
-- what the workers poll: only pending rows are in it
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);
