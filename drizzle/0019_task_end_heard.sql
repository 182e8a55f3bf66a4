ALTER TABLE "automation_queue" ADD COLUMN "task_ended_at" timestamp with time zone;--> statement-breakpoint
-- A submit's callback key (`<job id>.<8 hex>`, src/gate/provider-events.ts newSubmitKey): the job it names, or NULL
-- for anything else (the hook takes the key from a URL).
CREATE OR REPLACE FUNCTION submit_key_job(p_key text)
RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_key ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[0-9a-f]{8}$'
              THEN split_part(p_key, '.', 1)::uuid END;
$$;
--> statement-breakpoint
-- The key of the job's latest submit (its last 'submit_key' event, written by claim_start): a callback naming an
-- older one is about a task the job no longer follows.
CREATE OR REPLACE FUNCTION latest_submit_key(p_job_id uuid)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT detail->>'key' FROM job_events WHERE job_id = p_job_id AND event = 'submit_key' ORDER BY id DESC LIMIT 1;
$$;
--> statement-breakpoint
-- A provider's callback says a task ended (KIE POSTs on success, failure or error alike): the slot it held is free
-- now. Before, the callback only woke the task's poller, which read the status, then freed the slot in complete_job:
-- two more hops (NOTIFY and wake, a status request) on the path from one render's end to the next render's start.
-- The hook now frees the slot and grants it in its own transaction; the activity still reads the status, the
-- authority on the result, and completes the job as before (its complete_job finds no slot left to free).
--
-- Only for the job's current task, named by the callback URL's key (the latest submit's nonce): a forged callback
-- needs the hook's secret and that nonce, and a late one for a discarded task frees nothing. Not while a sibling job
-- of the same workflow waits on the same provider: a chained reel's next segment takes this slot from the
-- activity's complete_job_handing_over (drizzle/0013), which must find it held.
CREATE OR REPLACE FUNCTION release_heard_slot(p_provider text, p_task_id text, p_key text, p_code integer)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  j uuid := submit_key_job(p_key);
BEGIN
  IF j IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM lock_providers(ARRAY[p_provider]);
  SELECT q.id INTO j FROM automation_queue q
   WHERE q.id = j AND q.api_provider = p_provider AND q.provider_task_id = p_task_id
     AND EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = q.id)
     AND latest_submit_key(q.id) = p_key
     AND NOT EXISTS (SELECT 1 FROM automation_queue s
                      WHERE s.workflow_id = q.workflow_id AND s.id <> q.id AND s.api_provider = q.api_provider AND s.status = 'queued');
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  UPDATE automation_queue SET task_ended_at = now(), updated_at = now() WHERE id = j;
  PERFORM log_job_event(j, 'task_end_heard', jsonb_build_object('providerTaskId', p_task_id, 'code', p_code));
  PERFORM release_slot(j);
  RETURN j;
END $$;
--> statement-breakpoint
-- 0016's resume_job, which now also resumes an attempt whose task's end was heard (release_heard_slot): it needs no
-- slot to read the status of a task that is over, and must not wait in line behind other jobs to do so.
CREATE OR REPLACE FUNCTION resume_job(p_job_id uuid, p_attempt integer, p_lease_ms integer DEFAULT 12000)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  handed boolean;
BEGIN
  UPDATE provider_slots SET lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
   WHERE job_id = p_job_id;
  IF NOT FOUND THEN
    IF NOT EXISTS (SELECT 1 FROM automation_queue WHERE id = p_job_id AND status IN ('queued', 'processing')
                     AND task_ended_at IS NOT NULL AND provider_task_id IS NOT NULL) THEN
      RETURN false;
    END IF;
  END IF;
  SELECT attempts = 0 INTO handed FROM automation_queue WHERE id = p_job_id;
  UPDATE automation_queue
     SET status = 'processing', attempts = greatest(attempts, p_attempt), waiting_since = NULL, parked = false,
         last_heartbeat_at = now(), updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing');
  PERFORM log_job_event(p_job_id, CASE WHEN handed THEN 'slot_taken' ELSE 'resumed' END, jsonb_build_object('attempt', p_attempt));
  RETURN true;
END $$;
--> statement-breakpoint
-- 0002's record_provider_task and discard_provider_task, which now also forget a heard end: it was the old task's.
CREATE OR REPLACE FUNCTION record_provider_task(p_job_id uuid, p_task_id text, p_cost numeric DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_task_id IS NULL OR p_task_id = '' THEN
    RAISE EXCEPTION 'record_provider_task: p_task_id must be a non-empty provider task id' USING ERRCODE = '22023';
  END IF;
  UPDATE automation_queue SET provider_task_id = p_task_id, cost = coalesce(p_cost, cost), task_ended_at = NULL, updated_at = now()
   WHERE id = p_job_id;
  IF FOUND THEN
    PERFORM log_job_event(p_job_id, 'submitted', jsonb_build_object('providerTaskId', p_task_id));
  END IF;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION discard_provider_task(p_job_id uuid, p_task_id text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE old text;
BEGIN
  SELECT provider_task_id INTO old FROM automation_queue WHERE id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  UPDATE automation_queue SET provider_task_id = NULL, submit_attempted_at = NULL, task_ended_at = NULL, updated_at = now()
   WHERE id = p_job_id;
  IF coalesce(old, p_task_id) IS NOT NULL THEN
    PERFORM log_job_event(p_job_id, 'discarded', jsonb_build_object('providerTaskId', coalesce(old, p_task_id)));
  END IF;
END $$;
--> statement-breakpoint
-- A provider's callback for a task, in one round trip (it is on the path from a render's end to the next render's
-- start), as src/gate/provider-events.ts's statement did before, in order now that it also frees the slot:
--   1. with the callback URL's key: when that submit is still the job's latest and never got its answer (the worker
--      died inside the request), the task it created becomes the job's ('task_from_callback'; its waiter is woken);
--   2. a 'callback' event on each job the task is;
--   3. the slot freed and granted (release_heard_slot);
--   4. the task's poller woken (p_event_key on p_channel); once the slot is free, with p_freed_event_key, which
--      wakes it a little later, out of the way of the next job's start on the same CPUs and database.
CREATE OR REPLACE FUNCTION hear_callback(p_provider text, p_task_id text, p_key text, p_code integer, p_detail jsonb,
                                         p_channel text, p_event_key text, p_freed_event_key text, p_key_event text,
                                         OUT jobs integer, OUT learned boolean, OUT freed uuid)
LANGUAGE plpgsql AS $$
DECLARE
  keyed uuid := submit_key_job(p_key);
  found_id uuid;
  r record;
BEGIN
  IF keyed IS NOT NULL THEN
    UPDATE automation_queue q SET provider_task_id = p_task_id, task_ended_at = NULL, updated_at = now()
     WHERE q.id = keyed AND q.api_provider = p_provider AND q.provider_task_id IS NULL
       AND q.submit_attempted_at IS NOT NULL AND q.status IN ('queued', 'processing')
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
  freed := release_heard_slot(p_provider, p_task_id, p_key, p_code);
  PERFORM pg_notify(p_channel, CASE WHEN freed IS NULL THEN p_event_key ELSE p_freed_event_key END);
END $$;
