-- 0054's record_start, which now refuses to mark a paid submit for a job no longer open. A job granted its slot waits
-- out the provider's start spacing (VEO3's, seconds) in its activity; cancelled meanwhile (`reelflow cancel` closes the
-- rows first, then asks the workflow), its slot went to the next job at once, and the activity, hearing of the cancel
-- only at its next heartbeat (up to 0.8 x its heartbeat timeout), claimed its start when due and sent: a render paid
-- for an idea nobody wanted, beside the next one, past the cap. Now the claim raises RF410 and nothing is sent
-- (JobClosedError: the workflow's cancel path records the rest).
CREATE OR REPLACE FUNCTION record_start(p_provider text, p_job_id uuid, p_mark_submit boolean, p_submit_key text,
                                        p_call jsonb, p_attempt text DEFAULT NULL)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
  stamp timestamptz := clock_timestamp();
BEGIN
  -- Fenced on the attempt: only the attempt its row names (activity_token, written as each attempt begins, before it
  -- reads the row) marks a submit, and none once a task is known. A row naming none (sent back to its line, 0021,
  -- and granted before its waiter heard; its process gone) names no later attempt either. The row's lock orders this
  -- against the next attempt's mark: that attempt reads this one's submit, or this one finds the row renamed.
  IF p_mark_submit THEN
    UPDATE automation_queue SET submit_attempted_at = stamp
     WHERE id = p_job_id AND status IN ('queued', 'processing')
       AND (p_attempt IS NULL OR ((activity_token IS NULL OR activity_token = p_attempt) AND provider_task_id IS NULL));
    IF NOT FOUND THEN
      IF NOT EXISTS (SELECT 1 FROM automation_queue WHERE id = p_job_id AND status IN ('queued', 'processing')) THEN
        RAISE EXCEPTION 'job %: closed (cancelled, failed or done) before its submit left: not sent', p_job_id
          USING ERRCODE = 'RF410';
      END IF;
      RAISE EXCEPTION 'job %: a later attempt of it runs (or its task is known): this attempt does not submit', p_job_id
        USING ERRCODE = 'RF409';
    END IF;
  END IF;
  UPDATE provider_limits SET last_start_at = stamp, last_start_job = p_job_id WHERE provider = p_provider;
  -- A slot lapsed since the caller's checks is simply not there to mark.
  UPDATE provider_slots SET called_at = stamp WHERE job_id = p_job_id AND called_at IS NULL;
  IF p_submit_key IS NOT NULL THEN
    PERFORM log_job_event(p_job_id, 'submit_key', jsonb_build_object('key', p_submit_key), stamp);
  END IF;
  PERFORM log_job_event(p_job_id, 'provider_call', p_call, stamp);
  RETURN stamp;
END $$;
