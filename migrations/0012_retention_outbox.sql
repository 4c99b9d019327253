-- 0012_retention_outbox.sql — retention also empties the webhook outbox (docs/operations.md
-- "Retention and partitions").
--
-- webhook_deliveries grows by one row per event and endpoint, and its payloads repeat what
-- the event said (ids, kind, value, tags). A project's deliveries that are finished
-- (delivered or failed) and were created before its retention cutoff are deleted in bounded
-- batches, like its old feedback; pending ones stay until they are delivered or given up.
-- The batch walks webhook_deliveries_endpoint_idx (endpoint_id, id): ids grow with
-- created_at, so the oldest come first.

CREATE FUNCTION fd_retention_outbox(batch integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  r record;
  n bigint := 0;
  k bigint;
BEGIN
  FOR r IN SELECT e.id AS endpoint, fd_retention_cutoff(p.settings) AS cutoff
           FROM projects p JOIN webhook_endpoints e ON e.project_id = p.id
           WHERE fd_retention_cutoff(p.settings) IS NOT NULL ORDER BY p.id, e.id LOOP
    DELETE FROM webhook_deliveries d
    WHERE d.id IN (SELECT x.id FROM webhook_deliveries x
                   WHERE x.endpoint_id = r.endpoint AND x.status <> 'pending' AND x.created_at < r.cutoff
                   ORDER BY x.id LIMIT batch - n);
    GET DIAGNOSTICS k = ROW_COUNT;
    n := n + k;
    EXIT WHEN n >= batch;
  END LOOP;
  RETURN n;
END $$;

-- fd_maintenance of 0011 with the outbox step after the feedback row deletes.
CREATE OR REPLACE PROCEDURE fd_maintenance(batch integer, ahead integer, steps integer) LANGUAGE plpgsql AS $$
DECLARE
  i integer;
  done bigint;
  detached text;
BEGIN
  FOR i IN 0..ahead LOOP
    BEGIN
      PERFORM set_config('lock_timeout', '1s', true);
      PERFORM fd_feedback_partition_ensure(now() + make_interval(months => i));
    EXCEPTION WHEN lock_not_available THEN
      RAISE WARNING 'feedbackd maintenance: partition of % months ahead not created (lock timeout)', i;
    END;
    COMMIT;
  END LOOP;
  LOOP
    detached := NULL;
    BEGIN
      PERFORM set_config('lock_timeout', '1s', true);
      detached := fd_retention_detach();
    EXCEPTION WHEN lock_not_available THEN
      RAISE WARNING 'feedbackd maintenance: detaching an expired partition timed out';
    END;
    COMMIT;
    steps := steps - 1;
    EXIT WHEN detached IS NULL OR steps <= 0;
  END LOOP;
  LOOP
    EXIT WHEN steps <= 0;
    done := fd_retention_purge(batch);
    COMMIT;
    steps := steps - 1;
    EXIT WHEN done = 0;
  END LOOP;
  LOOP
    EXIT WHEN steps <= 0;
    done := fd_retention_delete(batch);
    COMMIT;
    steps := steps - 1;
    EXIT WHEN done < batch;
  END LOOP;
  LOOP
    EXIT WHEN steps <= 0;
    done := fd_retention_outbox(batch);
    COMMIT;
    steps := steps - 1;
    EXIT WHEN done < batch;
  END LOOP;
END $$;
