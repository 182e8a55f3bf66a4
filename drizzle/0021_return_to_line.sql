ALTER TABLE "automation_queue" ADD COLUMN "returnable" boolean DEFAULT false NOT NULL;--> statement-breakpoint

-- A hot job (its activity waits near the head of its line, heartbeating) that later, higher-priority jobs have
-- pushed back goes back to its workflow, parked (issue 18). Without it a mixed-priority fill left a few hot jobs
-- per priority class (16 with a hot line of 4), each an activity heartbeating Temporal and PostgreSQL for as long
-- as the backlog lasts: most of what a waiting backlog cost. Called by the gate's lease heartbeat with the jobs
-- waiting in its process; returns those sent back (their waits end there, their workflows park them again).
-- Only jobs behind the hot line by more than two go: one passed by one or two stays (a grant or two would call it
-- up again at once), so jobs near the edge do not bounce in and out.
-- Only a job parked by a workflow that can take it back (returnable): a workflow of an older deploy cannot.
CREATE OR REPLACE FUNCTION return_to_line(p_job_ids uuid[])
RETURNS SETOF uuid LANGUAGE plpgsql AS $$
DECLARE
  prov text;
  keep uuid[];
BEGIN
  FOR prov IN SELECT DISTINCT q.api_provider FROM automation_queue q
               WHERE q.id = ANY (p_job_ids) AND q.returnable AND NOT q.parked AND q.status = 'queued' LOOP
    -- The grant's lock: no slot can be granted to one of these between the check and the update.
    PERFORM lock_providers(ARRAY[prov]);
    keep := ARRAY(
      SELECT q.id FROM automation_queue q
       WHERE q.api_provider = prov AND q.status = 'queued' AND q.waiting_since IS NOT NULL AND in_line(q)
       ORDER BY q.priority, q.created_at, q.id
       LIMIT hot_line_size(prov) + 2);
    RETURN QUERY
      WITH back AS (
        UPDATE automation_queue u
           SET parked = true, called_up_at = NULL, activity_worker = NULL, activity_token = NULL, updated_at = now()
         WHERE u.id = ANY (p_job_ids) AND u.api_provider = prov AND u.returnable AND NOT u.parked
           AND u.status = 'queued' AND u.waiting_since IS NOT NULL AND u.id <> ALL (keep)
           AND NOT EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = u.id)
        RETURNING u.id)
      SELECT b.id FROM back b, LATERAL log_job_event(b.id, 'returned_to_line', '{}'::jsonb) e;
  END LOOP;
END $$;
--> statement-breakpoint

-- park_job from a workflow that takes its job back when passed (return_to_line).
CREATE OR REPLACE FUNCTION park_job(p_job_id uuid, p_returnable boolean)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  UPDATE automation_queue SET returnable = p_returnable WHERE id = p_job_id AND returnable IS DISTINCT FROM p_returnable;
  RETURN park_job(p_job_id);
END $$;
