-- A slot handed to a reel's next segment (0013) kept the segment before's called_at, so the next segment counted as
-- past its first start: it took no turn in the spacing (0038), held no lower priority granted after it (0027), and
-- its stuck clock (0037) ran from the segment before's start. It has not started: it waits its turn like any holder.
-- In the demo's walk a P0 segment held its slot for 60 s without starting while the other slot's hand-overs gave six
-- P1 renders the start at each spacing window's first moment (their renders took as long as the spacing).
--
-- 0017's hand-over, the slot's record of a first start cleared with its holder.
CREATE OR REPLACE FUNCTION hand_over_slot(p_from uuid, p_to uuid, p_lease_ms integer DEFAULT 12000, p_waiter_ttl_ms integer DEFAULT 20000)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  nxt automation_queue;
BEGIN
  PERFORM lock_job_provider(p_from);
  SELECT n.* INTO nxt FROM automation_queue n JOIN automation_queue f ON f.id = p_from
   WHERE n.id = p_to AND n.status = 'queued' AND n.api_provider = f.api_provider AND f.status IN ('queued', 'processing')
     AND (n.schedule_after IS NULL OR n.schedule_after <= clock_timestamp())
     AND (n.deadline IS NULL OR n.deadline > clock_timestamp())
     AND NOT EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = n.id);
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  -- The line's order holds: a waiting job that ranks ahead of the next segment gets the slot as usual.
  IF EXISTS (
    SELECT 1 FROM automation_queue q
     WHERE q.api_provider = nxt.api_provider AND q.status = 'queued' AND q.waiting_since IS NOT NULL
       AND in_line(q, p_waiter_ttl_ms)
       AND (q.priority, q.created_at, q.id) < (nxt.priority, nxt.created_at, nxt.id)
  ) THEN
    RETURN false;
  END IF;
  IF cardinality(take_quota(p_to)) > 0 THEN
    RETURN false;
  END IF;
  UPDATE provider_slots
     SET job_id = p_to, granted_at = clock_timestamp(), hold_until = NULL, called_at = NULL, start_wanted_at = NULL,
         lease_expires_at = clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0)
   WHERE job_id = p_from;
  IF NOT FOUND THEN
    PERFORM refund_quota(p_to);
    RETURN false;
  END IF;
  PERFORM start_job(p_to);
  PERFORM log_job_event(p_to, 'handed_over', jsonb_build_object('from', p_from));
  PERFORM pg_notify('reelflow_slots', p_to::text);
  RETURN true;
END $$;
