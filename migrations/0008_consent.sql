-- 0008_consent.sql — raters' consent to the use of their feedback for training
-- (docs/api.md "Consent and licence"). One row per rater who set it; raters without a row
-- follow the project's setting default_consent (projects.settings, default "train").

CREATE TABLE consents (
  project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  user_ref    text NOT NULL,
  train       boolean NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, user_ref)
);
