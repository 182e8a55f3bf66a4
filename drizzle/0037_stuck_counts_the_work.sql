-- A job is stuck when its work has run 2x its estimate: from its first start at the provider (the slot's called_at),
-- not from when it took its slot. A slot holder waits for the provider's spacing before it may start (its turn among
-- the holders), and that wait is queueing, as the line is: with Instagram's 5 s between starts and 3 slots, the
-- demo's post-metrics reads (estimate 10 s) waited over 20 s after a burst and were marked stuck, a notification
-- for nothing. The activity's own bound stops its clock the same way (src/activities/run-limit.ts).
-- A holder that has not started yet is stuck once its wait has passed what the spacing can explain (every slot of
-- its provider starting once before it) plus 2x its estimate, so one stuck behind the spacing is still reported.
-- Never earlier than before: a retried attempt (its started_at reset, the slot's first start from an earlier
-- attempt) counts from its started_at, as it did.
CREATE OR REPLACE FUNCTION job_stuck_at(p_job_id uuid, p_provider text, p_started_at timestamptz, p_estimate_seconds integer)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT greatest(p_started_at,
                  coalesce((SELECT s.called_at FROM provider_slots s WHERE s.job_id = p_job_id),
                           p_started_at + coalesce((SELECT make_interval(secs => l.max_concurrent
                                                                          * (l.min_start_interval_ms + l.start_margin_ms) / 1000.0)
                                                      FROM provider_limits l WHERE l.provider = p_provider), interval '0')))
         + make_interval(secs => 2 * p_estimate_seconds)
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION mark_stuck_jobs()
RETURNS SETOF automation_queue LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  FOR job IN
    UPDATE automation_queue SET stuck_since = now()
     WHERE status = 'processing' AND stuck_since IS NULL
       -- Implied by the rule (it is never earlier than this): keeps the read on automation_queue_running_idx.
       AND started_at < now() - make_interval(secs => 2 * estimated_duration_seconds)
       AND job_stuck_at(id, api_provider, started_at, estimated_duration_seconds) < now()
    RETURNING *
  LOOP
    PERFORM log_job_event(job.id, 'stuck', jsonb_build_object('started_at', job.started_at,
      'estimated_duration_seconds', job.estimated_duration_seconds));
    RETURN NEXT job;
  END LOOP;
END $$;
--> statement-breakpoint

-- The columns 0001's q.* expanded to, named: q.* now would take in the columns added since, and CREATE OR REPLACE
-- VIEW cannot insert columns before the ones it had.
CREATE OR REPLACE VIEW queue_processing AS
  SELECT q.id, q.priority, q.status, q.job_type, q.job_config, q.api_provider, q.schedule_after, q.deadline,
         q.estimated_duration_seconds, q.attempts, q.max_attempts, q.started_at, q.completed_at, q.last_heartbeat_at,
         q.waiting_since, q.error, q.cost, q.provider_task_id, q.submit_attempted_at, q.result, q.workflow_id, q.run_id,
         q.step, q.recommendation_id, q.stuck_since, q.created_at, q.updated_at,
         extract(epoch FROM now() - q.started_at)::numeric(12, 3) AS running_seconds,
         job_stuck_at(q.id, q.api_provider, q.started_at, q.estimated_duration_seconds) < now() AS is_stuck,
         (q.last_heartbeat_at < now() - interval '30 seconds') AS is_silent
    FROM automation_queue q
   WHERE q.status = 'processing'
   ORDER BY q.started_at;
