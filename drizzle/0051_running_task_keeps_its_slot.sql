-- 0019's resume_job, which now also gives a slot back to an attempt whose paid task still runs at the provider. Its
-- slot could go while the task ran: an attempt stopped at its 2x bound releases it with a hold until its start plus
-- that bound (already past), and a dead worker's lease runs out. The next attempt then joined the line again, where
-- the deadline applies (the idea expired "before the video was generated" while its paid render finished, unused)
-- and the cap no longer counted it (another job could be granted beside a task still running). The task takes the
-- provider's place whether or not we count it: its slot comes back at once, past the cap if the cap is full.
CREATE OR REPLACE FUNCTION resume_job(p_job_id uuid, p_attempt integer, p_lease_ms integer DEFAULT 12000)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  handed boolean;
  running_on text;
BEGIN
  UPDATE provider_slots SET lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
   WHERE job_id = p_job_id;
  IF NOT FOUND THEN
    SELECT api_provider INTO running_on FROM automation_queue
     WHERE id = p_job_id AND status IN ('queued', 'processing') AND provider_task_id IS NOT NULL AND task_ended_at IS NULL;
    IF running_on IS NOT NULL THEN
      INSERT INTO provider_slots (job_id, provider, granted_at, lease_expires_at, called_at)
      VALUES (p_job_id, running_on, now(), now() + make_interval(secs => p_lease_ms / 1000.0), now())
      ON CONFLICT (job_id) DO NOTHING;
    ELSIF NOT EXISTS (SELECT 1 FROM automation_queue WHERE id = p_job_id AND status IN ('queued', 'processing')
                        AND task_ended_at IS NOT NULL AND provider_task_id IS NOT NULL) THEN
      RETURN false;
    END IF;
  END IF;
  SELECT attempts = 0 INTO handed FROM automation_queue WHERE id = p_job_id;
  UPDATE automation_queue
     SET status = 'processing', attempts = greatest(attempts, p_attempt), waiting_since = NULL, parked = false,
         last_heartbeat_at = now(), updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing');
  PERFORM log_job_event(p_job_id, CASE WHEN handed THEN 'slot_taken' ELSE 'resumed' END, jsonb_build_object('attempt', p_attempt));
  RETURN true;
END $$;
