-- A cancel while the submit request was out holds the slot until the render's expected end (0055): the render it may
-- have made runs on at KIE. When the submit turns out to have made nothing (KIE refused it: clear_submit_attempt; or
-- the start claimed in the grant was never sent: release_unused_claim), nothing runs in that slot, and no callback
-- will come to free it: a VEO3 slot stood empty for up to ten minutes. Clearing the mark of such a closed job now
-- frees its slot too. Each takes the provider's lock first, the order every slot transaction keeps.
CREATE OR REPLACE FUNCTION release_unsent_closed_slot(p_job_id uuid)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM automation_queue q WHERE q.id = p_job_id AND q.status NOT IN ('queued', 'processing')
               AND q.provider_task_id IS NULL AND q.submit_attempted_at IS NULL)
     AND EXISTS (SELECT 1 FROM provider_slots WHERE job_id = p_job_id) THEN
    PERFORM log_job_event(p_job_id, 'slot_released', jsonb_build_object('reason', 'the submit it was held for made nothing'));
    PERFORM release_slot(p_job_id);
  END IF;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION clear_submit_attempt(p_job_id uuid, p_status integer DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_job_provider(p_job_id);
  UPDATE automation_queue SET submit_attempted_at = NULL, updated_at = now()
   WHERE id = p_job_id AND submit_attempted_at IS NOT NULL;
  IF FOUND THEN
    PERFORM log_job_event(p_job_id, 'submit_refused', jsonb_build_object('status', p_status));
    PERFORM release_unsent_closed_slot(p_job_id);
  END IF;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION release_unused_claim(p_job_id uuid, p_key text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_job_provider(p_job_id);
  UPDATE automation_queue SET submit_attempted_at = NULL, updated_at = now()
   WHERE id = p_job_id AND submit_attempted_at IS NOT NULL AND provider_task_id IS NULL
     AND latest_submit_key(p_job_id) = p_key;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM log_job_event(p_job_id, 'claim_unused', jsonb_build_object('key', p_key));
  PERFORM release_unsent_closed_slot(p_job_id);
  RETURN true;
END $$;
