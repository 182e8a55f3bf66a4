-- One stamp for the whole record of a start, its events included. 0035's record_start stamps the spacing clock, the
-- slot's called_at and submit_attempted_at once, but log_job_event read clock_timestamp() again for the submit_key and
-- provider_call events, a few statements later: 7.6 to 33 ms later in a session's first call (its PL/pgSQL compiled
-- in between), so a provider_call event could not be read as the moment of the start. log_job_event now has a form
-- that takes the event's time; the old form is that one at clock_timestamp(), so the insert is written once.
CREATE OR REPLACE FUNCTION log_job_event(p_job_id uuid, p_event text, p_detail jsonb, p_at timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_events (job_id, recommendation_id, event, detail, created_at)
  SELECT q.id, q.recommendation_id, p_event, coalesce(p_detail, '{}'::jsonb), p_at
  FROM automation_queue q WHERE q.id = p_job_id;
END $$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION log_job_event(p_job_id uuid, p_event text, p_detail jsonb DEFAULT '{}'::jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- clock_timestamp(): the moment of the event, not the start of its transaction.
  PERFORM log_job_event(p_job_id, p_event, p_detail, clock_timestamp());
END $$;
--> statement-breakpoint

-- 0035's record_start, its two events at its stamp.
CREATE OR REPLACE FUNCTION record_start(p_provider text, p_job_id uuid, p_mark_submit boolean, p_submit_key text,
                                        p_call jsonb)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
  stamp timestamptz := clock_timestamp();
BEGIN
  UPDATE provider_limits SET last_start_at = stamp, last_start_job = p_job_id WHERE provider = p_provider;
  -- A slot lapsed since the caller's checks is simply not there to mark.
  UPDATE provider_slots SET called_at = stamp WHERE job_id = p_job_id AND called_at IS NULL;
  IF p_mark_submit THEN
    UPDATE automation_queue SET submit_attempted_at = stamp WHERE id = p_job_id;
  END IF;
  IF p_submit_key IS NOT NULL THEN
    PERFORM log_job_event(p_job_id, 'submit_key', jsonb_build_object('key', p_submit_key), stamp);
  END IF;
  PERFORM log_job_event(p_job_id, 'provider_call', p_call, stamp);
  RETURN stamp;
END $$;
