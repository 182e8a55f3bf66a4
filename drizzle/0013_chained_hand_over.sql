-- A chained reel renders its segments one after another, each extending the
-- one before. Without this, the slot a finished segment frees goes to the head
-- of the line at once, before the workflow has scheduled the next segment: a
-- waiting P3 takes it and the P0 reel waits a whole render per segment.
--
-- The slot goes straight to the next segment instead, when the next segment
-- would have been first in line anyway (no waiting job ranks ahead of it by
-- priority, then enqueue time) and its quota units fit. It is granted as
-- grant_slots grants (quota taken, job started, lease), so the next segment's
-- activity finds its slot held when it arrives (resume_job); if it never
-- arrives, the lease lapses and the slot goes on as any other.

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
       AND q.last_heartbeat_at > clock_timestamp() - make_interval(secs => p_waiter_ttl_ms / 1000.0)
       AND (q.schedule_after IS NULL OR q.schedule_after <= clock_timestamp())
       AND (q.deadline IS NULL OR q.deadline > clock_timestamp())
       AND NOT EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = q.id)
       AND (q.priority, q.created_at, q.id) < (nxt.priority, nxt.created_at, nxt.id)
  ) THEN
    RETURN false;
  END IF;
  IF cardinality(take_quota(p_to)) > 0 THEN
    RETURN false;
  END IF;
  UPDATE provider_slots
     SET job_id = p_to, granted_at = clock_timestamp(), hold_until = NULL,
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
--> statement-breakpoint

-- complete_job, handing the slot to p_next first when it may have it (above).
CREATE OR REPLACE FUNCTION complete_job_handing_over(
  p_job_id uuid, p_result jsonb, p_cost numeric, p_next uuid, p_lease_ms integer DEFAULT 12000
)
RETURNS automation_queue LANGUAGE plpgsql AS $$
BEGIN
  PERFORM hand_over_slot(p_job_id, p_next, p_lease_ms);
  RETURN complete_job(p_job_id, p_result, p_cost);
END $$;
--> statement-breakpoint

-- As in 0002, but a slot the job holds before its first attempt was handed to it
-- (above): that is its start, logged as such, not a resume after a crash.
CREATE OR REPLACE FUNCTION resume_job(p_job_id uuid, p_attempt integer, p_lease_ms integer DEFAULT 12000)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  handed boolean;
BEGIN
  UPDATE provider_slots SET lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
   WHERE job_id = p_job_id;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  SELECT attempts = 0 INTO handed FROM automation_queue WHERE id = p_job_id;
  UPDATE automation_queue
     SET status = 'processing', attempts = greatest(attempts, p_attempt), waiting_since = NULL,
         last_heartbeat_at = now(), updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing');
  PERFORM log_job_event(p_job_id, CASE WHEN handed THEN 'slot_taken' ELSE 'resumed' END, jsonb_build_object('attempt', p_attempt));
  RETURN true;
END $$;
