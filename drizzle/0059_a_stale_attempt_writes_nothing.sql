-- An attempt Temporal gave up on (its heartbeat lost, its process cut off from Temporal but not from PostgreSQL, or
-- found lost by the presence watch) lives on until its next heartbeat hears so, while the retry already runs the job.
-- 0054 stopped such an attempt from sending a paid submit; its other writes stayed open: its fail_job freed the slot the
-- retry had resumed (granted to the next job while the retry's render ran: one past the cap) or failed the job under the
-- retry (attempts is the retry's, so the stale attempt's failure counted as the last), and its quota park left the line
-- for the retry. Each now takes the attempt's token and writes only while the row names that attempt (or none: a job
-- sent back to its line names none, and the attempt that goes on is the same), else raises RF409 and changes nothing.
-- Called without a token (the ended-run watch, tests, older workers), they behave as before.

-- The one fence: under the job's provider lock and the row's lock, so a later attempt's mark (markActivity) lands
-- either before (refused) or after (that attempt reads what this one wrote).
CREATE OR REPLACE FUNCTION refuse_stale_attempt(p_job_id uuid, p_attempt text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE named text;
BEGIN
  IF p_attempt IS NULL THEN
    RETURN;
  END IF;
  SELECT activity_token INTO named FROM automation_queue
   WHERE id = p_job_id AND status IN ('queued', 'processing') FOR UPDATE;
  IF FOUND AND named IS NOT NULL AND named <> p_attempt THEN
    RAISE EXCEPTION 'job %: a later attempt of it runs: this attempt writes nothing to it', p_job_id USING ERRCODE = 'RF409';
  END IF;
END $$;
--> statement-breakpoint

-- A parameter more is a new overload: the old ones go, or every call naming fewer arguments is ambiguous.
DROP FUNCTION IF EXISTS complete_job_handing_over(uuid, jsonb, numeric, uuid, integer);
--> statement-breakpoint
DROP FUNCTION IF EXISTS complete_job(uuid, jsonb, numeric);
--> statement-breakpoint
DROP FUNCTION IF EXISTS fail_job(uuid, text, boolean, timestamptz);
--> statement-breakpoint
DROP FUNCTION IF EXISTS leave_line(uuid, text);
--> statement-breakpoint

-- As in 0001, fenced on the attempt.
CREATE FUNCTION complete_job(p_job_id uuid, p_result jsonb DEFAULT NULL, p_cost numeric DEFAULT NULL, p_attempt text DEFAULT NULL)
RETURNS automation_queue LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  PERFORM lock_job_provider(p_job_id);
  PERFORM refuse_stale_attempt(p_job_id, p_attempt);
  UPDATE automation_queue
     SET status = 'completed', completed_at = now(), result = coalesce(p_result, result),
         cost = coalesce(p_cost, cost), error = NULL, waiting_since = NULL, stuck_since = NULL, updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing')
  RETURNING * INTO job;
  IF FOUND THEN
    PERFORM log_job_event(p_job_id, 'completed', jsonb_build_object('cost', job.cost));
    PERFORM release_slot(p_job_id);
  ELSE
    SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  END IF;
  RETURN job;
END $$;
--> statement-breakpoint

-- As in 0013, fenced before the slot is handed on.
CREATE FUNCTION complete_job_handing_over(
  p_job_id uuid, p_result jsonb, p_cost numeric, p_next uuid, p_lease_ms integer DEFAULT 12000, p_attempt text DEFAULT NULL
)
RETURNS automation_queue LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_job_provider(p_job_id);
  PERFORM refuse_stale_attempt(p_job_id, p_attempt);
  PERFORM hand_over_slot(p_job_id, p_next, p_lease_ms);
  RETURN complete_job(p_job_id, p_result, p_cost, p_attempt);
END $$;
--> statement-breakpoint

-- As in 0001, fenced on the attempt.
CREATE FUNCTION fail_job(p_job_id uuid, p_error text, p_final boolean DEFAULT false, p_hold_until timestamptz DEFAULT NULL,
                         p_attempt text DEFAULT NULL)
RETURNS automation_queue LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  PERFORM lock_job_provider(p_job_id);
  PERFORM refuse_stale_attempt(p_job_id, p_attempt);
  UPDATE automation_queue
     SET status = CASE WHEN p_final OR attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
         completed_at = CASE WHEN p_final OR attempts >= max_attempts THEN now() END,
         error = p_error, waiting_since = NULL, updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing')
  RETURNING * INTO job;
  IF FOUND THEN
    PERFORM log_job_event(p_job_id, CASE WHEN job.status = 'failed' THEN 'failed' ELSE 'retrying' END,
      jsonb_build_object('error', p_error, 'attempt', job.attempts));
    PERFORM release_slot(p_job_id, p_hold_until);
  ELSE
    SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  END IF;
  RETURN job;
END $$;
--> statement-breakpoint

-- As in 0054, and says whether it left: a quota park rolls back when a later attempt has the job (no RF409 here: a
-- stale attempt stopped by a cancel leaves quietly, as before).
CREATE FUNCTION leave_line(p_job_id uuid, p_attempt text DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_job_provider(p_job_id);
  UPDATE automation_queue
     SET waiting_since = NULL, parked = false,
         status = CASE WHEN status = 'processing' THEN 'queued' ELSE status END, updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing')
     AND (p_attempt IS NULL OR activity_token IS NULL OR activity_token = p_attempt);
  IF FOUND THEN
    PERFORM release_slot(p_job_id);
    RETURN true;
  END IF;
  RETURN false;
END $$;
