-- 0018_feedback_no_project_fk.sql — feedback without its foreign key to projects.
--
-- The key checked every ingested row: an AFTER trigger per row running
-- SELECT ... FROM projects ... FOR KEY SHARE through SPI. In bench/ingest that was ~15 % of
-- the writer backends' CPU (perf), ~10 µs per stored event, and concurrent writers locking
-- the same projects row turned its lock into a MultiXact. What it guarded is already known:
-- the writer's project_id comes from an authenticated key of an existing project, and
-- feedbackd never deletes projects. feedback_ids (0011) has no foreign key for the same reason.
--
-- What stays: deleting a project (by hand, in SQL) still deletes its feedback first, now from a
-- BEFORE DELETE trigger on projects — before the row goes, so feedback's own DELETE triggers
-- (feedback_ids, stats) run while the project and its stats rows still exist, and the other
-- tables' ON DELETE CASCADE keys then remove the rest as before.
DO $$
DECLARE
  c name;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint
           WHERE conrelid = 'feedback'::regclass AND contype = 'f' AND confrelid = 'projects'::regclass LOOP
    EXECUTE format('ALTER TABLE feedback DROP CONSTRAINT %I', c);
  END LOOP;
END $$;

CREATE FUNCTION fd_projects_del_feedback() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM feedback WHERE project_id = OLD.id;
  RETURN OLD;
END $$;

CREATE TRIGGER projects_del_feedback BEFORE DELETE ON projects
  FOR EACH ROW EXECUTE FUNCTION fd_projects_del_feedback();
