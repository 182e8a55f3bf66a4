-- A job cancelled while its paid submit request was out (submit_attempted_at set, no task id yet: KIE's submit answers
-- in seconds) gave its slot to the next job at once: 0002's hold was only for a job whose task id was known. The render
-- the request made ran on at the provider beside the next one, past the cap (a provider that cannot cancel it: VEO3),
-- and its callback found no row to free (0052's hear_callback passed cancelled jobs by). Now such a job keeps its slot
-- until its render's expected end, like one whose task is known, and the callback naming its key records the task on
-- the cancelled row and frees the slot at the render's end.
CREATE OR REPLACE FUNCTION cancel_workflow_jobs(p_workflow_id text, p_reason text, p_uncancellable text[] DEFAULT NULL)
RETURNS SETOF automation_queue LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  uncancellable text[] := coalesce(p_uncancellable,
    ARRAY(SELECT provider FROM provider_limits WHERE NOT cancellable));
  held boolean;
BEGIN
  PERFORM lock_providers(ARRAY(SELECT api_provider FROM automation_queue
                                WHERE workflow_id = p_workflow_id AND status IN ('queued', 'processing')));
  FOR job IN
    UPDATE automation_queue
       SET status = 'cancelled', completed_at = now(), error = p_reason, waiting_since = NULL, updated_at = now()
     WHERE workflow_id = p_workflow_id AND status IN ('queued', 'processing')
    RETURNING *
  LOOP
    -- A task known, or a submit sent whose answer has not come: either may be running at the provider.
    held := (job.provider_task_id IS NOT NULL OR job.submit_attempted_at IS NOT NULL) AND job.api_provider = ANY(uncancellable);
    PERFORM log_job_event(job.id, 'cancelled', jsonb_build_object('reason', p_reason)
      || CASE WHEN held THEN jsonb_build_object('slotHeldFor', coalesce(job.provider_task_id, 'the submit sent')) ELSE '{}'::jsonb END);
    PERFORM release_slot(job.id,
      CASE WHEN held THEN coalesce(job.started_at, now()) + make_interval(secs => 2 * job.estimated_duration_seconds) END);
    RETURN NEXT job;
  END LOOP;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION hear_callback(p_provider text, p_task_id text, p_key text, p_code integer, p_detail jsonb,
                                         p_channel text, p_event_key text, p_freed_event_key text, p_key_event text,
                                         OUT jobs integer, OUT learned boolean, OUT freed uuid)
-- 0034's generic plans, named here: a replaced function keeps only the settings its new definition gives.
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  keyed uuid := submit_key_job(p_key);
  found_id uuid;
  r record;
BEGIN
  IF keyed IS NOT NULL THEN
    PERFORM lock_providers(ARRAY[p_provider]);
    -- KIE calls back when a task ends: a failed job's task is over (no slot to free, no attempt to wake), and its retry
    -- reads it without a slot (resume_job), not past the cap as if it still ran. A cancelled job still holding its
    -- slot for a submit sent (0055's cancel_workflow_jobs) learns its task, and release_heard_slot frees the slot.
    UPDATE automation_queue q
       SET provider_task_id = p_task_id, task_ended_at = CASE WHEN q.status = 'failed' THEN now() END, updated_at = now()
     WHERE q.id = keyed AND q.api_provider = p_provider AND q.provider_task_id IS NULL
       AND q.submit_attempted_at IS NOT NULL
       AND (q.status IN ('queued', 'processing', 'failed')
            OR (q.status = 'cancelled' AND EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = q.id)))
       AND latest_submit_key(q.id) = p_key
    RETURNING q.id INTO found_id;
    IF found_id IS NOT NULL THEN
      PERFORM log_job_event(found_id, 'task_from_callback', jsonb_build_object('providerTaskId', p_task_id, 'key', p_key));
      PERFORM pg_notify(p_channel, p_key_event);
    END IF;
  END IF;
  learned := found_id IS NOT NULL;
  jobs := 0;
  FOR r IN SELECT id FROM automation_queue WHERE api_provider = p_provider AND provider_task_id = p_task_id LOOP
    PERFORM log_job_event(r.id, 'callback', p_detail);
    jobs := jobs + 1;
  END LOOP;
  -- Takes the same lock again (a no-op within this transaction) when keyed; without a key it frees nothing.
  freed := release_heard_slot(p_provider, p_task_id, p_key, p_code);
  PERFORM pg_notify(p_channel, CASE WHEN freed IS NULL THEN p_event_key ELSE p_freed_event_key END);
END $$;
