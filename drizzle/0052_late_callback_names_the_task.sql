-- 0024's hear_callback, which now also gives a failed job the task its late callback names. A submit whose answer
-- never came (a worker killed inside it, a gateway's 504) waits for the callback naming its key until the render's
-- expected end, then fails as SubmitOutcomeUnknown. A render slower than that calls back after: the task was dropped
-- (the job was no longer queued or processing), and the operator, told to look on KIE's dashboard, might find nothing
-- yet and pay again with --resubmit. Now the failed job keeps it: `reelflow retry <id>` alone follows it, unpaid.
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
    -- reads it without a slot (resume_job), not past the cap as if it still ran.
    UPDATE automation_queue q
       SET provider_task_id = p_task_id, task_ended_at = CASE WHEN q.status = 'failed' THEN now() END, updated_at = now()
     WHERE q.id = keyed AND q.api_provider = p_provider AND q.provider_task_id IS NULL
       AND q.submit_attempted_at IS NOT NULL AND q.status IN ('queued', 'processing', 'failed')
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
