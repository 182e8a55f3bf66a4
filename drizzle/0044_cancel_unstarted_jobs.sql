-- Planned jobs a workflow will not run after all, closed by id: the publish jobs of platforms an editor rejected the
-- video for (the recommendation's own, and a republish's). Every job is planned up front, so they were left queued
-- for ever once the idea was published on its other platforms: counted as waiting in every report, never run.
-- Only jobs that never started are closed (queued, no provider task); a job already running is its workflow's to end.
-- Each leaves the line it may be in and gives back a slot it may hold, as cancel_workflow_jobs (0002) does.
CREATE OR REPLACE FUNCTION cancel_unstarted_jobs(p_ids uuid[], p_reason text)
RETURNS SETOF automation_queue LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
BEGIN
  PERFORM lock_providers(ARRAY(SELECT api_provider FROM automation_queue WHERE id = ANY(p_ids) AND status = 'queued'));
  FOR job IN
    UPDATE automation_queue
       SET status = 'cancelled', completed_at = now(), error = p_reason, waiting_since = NULL, updated_at = now()
     WHERE id = ANY(p_ids) AND status = 'queued' AND provider_task_id IS NULL
    RETURNING *
  LOOP
    PERFORM log_job_event(job.id, 'cancelled', jsonb_build_object('reason', p_reason));
    PERFORM release_slot(job.id, NULL);
    RETURN NEXT job;
  END LOOP;
END $$;
