-- The rest of automation_queue's transitions, so that no process writes a job's
-- state with a raw UPDATE: each transition has a name, logs its job_event and
-- takes the provider lock where it touches a slot (lock order in 0001).
--
-- The limits table also says, per provider, whether a paid task can be
-- cancelled and whether an unanswered submit may be repeated; the SQL side
-- reads both from provider_limits (written from src/config/providers.ts on
-- every migrate).

ALTER TABLE provider_limits ADD COLUMN IF NOT EXISTS cancellable boolean NOT NULL DEFAULT true;
--> statement-breakpoint
ALTER TABLE provider_limits ADD COLUMN IF NOT EXISTS submit_repeatable boolean NOT NULL DEFAULT true;
--> statement-breakpoint
-- Until the first sync writes the table's values: the providers known not to cancel.
UPDATE provider_limits SET cancellable = false WHERE provider = 'veo3';
--> statement-breakpoint

-- A retried attempt whose previous attempt still holds (or holds-until) the
-- job's slot takes it over: lease renewed, job back to processing. Returns false
-- when no slot is held (the caller joins the line instead).
CREATE OR REPLACE FUNCTION resume_job(p_job_id uuid, p_attempt integer, p_lease_ms integer DEFAULT 12000)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  UPDATE provider_slots SET lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
   WHERE job_id = p_job_id;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  UPDATE automation_queue
     SET status = 'processing', attempts = greatest(attempts, p_attempt), waiting_since = NULL,
         last_heartbeat_at = now(), updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing');
  PERFORM log_job_event(p_job_id, 'resumed', jsonb_build_object('attempt', p_attempt));
  RETURN true;
END $$;
--> statement-breakpoint

-- The previous attempt died holding no slot any more (its lease lapsed and the
-- slot went on): the job goes back in line, its start forgotten.
CREATE OR REPLACE FUNCTION requeue_job(p_job_id uuid)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  UPDATE automation_queue SET status = 'queued', started_at = NULL, updated_at = now()
   WHERE id = p_job_id AND status = 'processing';
  IF FOUND THEN
    PERFORM log_job_event(p_job_id, 'requeued', '{}'::jsonb);
  END IF;
  RETURN FOUND;
END $$;
--> statement-breakpoint

-- The provider answered a submit with an error: nothing was created, so a later
-- attempt may submit again (claim_start had marked the submit as unanswered).
CREATE OR REPLACE FUNCTION clear_submit_attempt(p_job_id uuid, p_status integer DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE automation_queue SET submit_attempted_at = NULL, updated_at = now()
   WHERE id = p_job_id AND submit_attempted_at IS NOT NULL;
  IF FOUND THEN
    PERFORM log_job_event(p_job_id, 'submit_refused', jsonb_build_object('status', p_status));
  END IF;
END $$;
--> statement-breakpoint

-- The provider accepted a submit: its task id (and cost) is recorded before any
-- polling, so a retry resumes the task instead of paying for a new one.
CREATE OR REPLACE FUNCTION record_provider_task(p_job_id uuid, p_task_id text, p_cost numeric DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_task_id IS NULL OR p_task_id = '' THEN
    RAISE EXCEPTION 'record_provider_task: p_task_id must be a non-empty provider task id' USING ERRCODE = '22023';
  END IF;
  UPDATE automation_queue SET provider_task_id = p_task_id, cost = coalesce(p_cost, cost), updated_at = now()
   WHERE id = p_job_id;
  IF FOUND THEN
    PERFORM log_job_event(p_job_id, 'submitted', jsonb_build_object('providerTaskId', p_task_id));
  END IF;
END $$;
--> statement-breakpoint

-- The provider task expired on the provider's side: forget it so the next
-- attempt starts a new one. p_task_id names a handle only the heartbeat knew;
-- the 'discarded' event keeps a stale heartbeat from resuming it.
CREATE OR REPLACE FUNCTION discard_provider_task(p_job_id uuid, p_task_id text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE old text;
BEGIN
  SELECT provider_task_id INTO old FROM automation_queue WHERE id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  UPDATE automation_queue SET provider_task_id = NULL, submit_attempted_at = NULL, updated_at = now() WHERE id = p_job_id;
  IF coalesce(old, p_task_id) IS NOT NULL THEN
    PERFORM log_job_event(p_job_id, 'discarded', jsonb_build_object('providerTaskId', coalesce(old, p_task_id)));
  END IF;
END $$;
--> statement-breakpoint

-- New priority for every open job of a workflow; the line reorders at the next grant.
CREATE OR REPLACE FUNCTION reprioritise_workflow_jobs(p_workflow_id text, p_priority text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  n integer := 0;
  jid uuid;
BEGIN
  FOR jid IN
    UPDATE automation_queue SET priority = p_priority, updated_at = now()
     WHERE workflow_id = p_workflow_id AND status IN ('queued', 'processing')
    RETURNING id
  LOOP
    PERFORM log_job_event(jid, 'reprioritised', jsonb_build_object('priority', p_priority));
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
--> statement-breakpoint

-- Cancels every open job of a workflow. A job whose paid task is in flight on a
-- provider that cannot cancel it (provider_limits.cancellable = false) keeps its
-- slot: its activity follows the task to its end and frees the slot then
-- (release_followed_slot); hold_until (2x the estimate) only bounds the hold
-- when nobody can follow the task (its worker died). p_uncancellable overrides
-- the table (NULL: read provider_limits).
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
    held := job.provider_task_id IS NOT NULL AND job.api_provider = ANY(uncancellable);
    PERFORM log_job_event(job.id, 'cancelled', jsonb_build_object('reason', p_reason)
      || CASE WHEN held THEN jsonb_build_object('slotHeldFor', job.provider_task_id) ELSE '{}'::jsonb END);
    PERFORM release_slot(job.id,
      CASE WHEN held THEN coalesce(job.started_at, now()) + make_interval(secs => 2 * job.estimated_duration_seconds) END);
    RETURN NEXT job;
  END LOOP;
END $$;
--> statement-breakpoint

-- The activity of a cancelled job followed its uncancellable provider task to
-- the end (p_state: how it ended): the provider is free again, so is the slot.
-- Also right before the workflow's cancel reached the database: the task is over either way.
CREATE OR REPLACE FUNCTION release_followed_slot(p_job_id uuid, p_state text)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_job_provider(p_job_id);
  IF NOT EXISTS (SELECT 1 FROM provider_slots WHERE job_id = p_job_id) THEN
    RETURN NULL;
  END IF;
  PERFORM log_job_event(p_job_id, 'task_followed', jsonb_build_object('state', p_state));
  RETURN release_slot(p_job_id);
END $$;
--> statement-breakpoint

-- Slots held after their job closed: a cancelled render still running at the
-- provider. For the dashboard and the API ("held: cancelled render finishing").
CREATE OR REPLACE VIEW held_slots AS
  SELECT s.provider, s.job_id, q.status AS job_status, q.provider_task_id, s.granted_at, s.hold_until
    FROM provider_slots s JOIN automation_queue q ON q.id = s.job_id
   WHERE q.status NOT IN ('queued', 'processing')
     AND (s.lease_expires_at >= now() OR s.hold_until >= now());
