-- 0001's enqueue_job, which now stamps each job with the time it is written (clock_timestamp), not its transaction's
-- start (now()). A plan's jobs are written in one transaction, in plan order, and a line is served by (priority,
-- created_at, id): the same created_at left a reel's segments in the order of their random ids. An independent reel's
-- segment 1 alone carries the idea's deadline (once it is paid, the reel is finished rather than the money wasted), so
-- segments 2..N granted and paid before it, then segment 1 expiring, threw N-1 paid renders away. In plan order now.
CREATE OR REPLACE FUNCTION enqueue_job(
  p_workflow_id text, p_step text, p_job_type text, p_provider text, p_priority text,
  p_job_config jsonb, p_recommendation_id uuid, p_schedule_after timestamptz, p_deadline timestamptz,
  p_estimated_duration_seconds integer, p_max_attempts integer, p_run_id text DEFAULT NULL)
RETURNS automation_queue LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  job_id uuid;
  inserted boolean;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM provider_limits WHERE provider = p_provider) THEN
    RAISE EXCEPTION 'unknown provider "%"', p_provider USING ERRCODE = '22023';
  END IF;
  INSERT INTO automation_queue AS q (workflow_id, step, job_type, api_provider, priority, job_config,
    recommendation_id, schedule_after, deadline, estimated_duration_seconds, max_attempts, run_id, created_at)
  VALUES (p_workflow_id, p_step, p_job_type, p_provider, p_priority, coalesce(p_job_config, '{}'::jsonb),
    p_recommendation_id, p_schedule_after, p_deadline, p_estimated_duration_seconds, p_max_attempts, p_run_id,
    clock_timestamp())
  ON CONFLICT (workflow_id, step) DO UPDATE SET run_id = coalesce(EXCLUDED.run_id, q.run_id), updated_at = now()
  RETURNING q.id, (q.xmax = 0) INTO job_id, inserted;
  SELECT * INTO job FROM automation_queue WHERE id = job_id;
  IF inserted THEN
    PERFORM log_job_event(job.id, 'enqueued', jsonb_build_object('priority', p_priority, 'provider', p_provider));
  END IF;
  RETURN job;
END $$;
