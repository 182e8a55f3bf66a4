ALTER TABLE "automation_queue" ADD COLUMN "armed_submit_key" text;--> statement-breakpoint

-- The start claimed in the grant (docs/design.md). A hand-over between two renders was the callback's transaction
-- (hear_callback: the slot freed and granted), a NOTIFY, then the next job's own round trip to claim its start
-- (claim_start: the spacing, submit_attempted_at, the submit's key) before its paid submit could leave. A job whose
-- attempt waits hot in its process with its submit ready (armed_submit_key, written with the attempt) now has that
-- start claimed by the grant itself, in the same transaction, and the NOTIFY says so: the worker sends on it.
--
-- What it must not break:
-- - Pay once. A start claimed is a submit marked as leaving: if it never leaves, the next attempt waits for a
--   callback that cannot come, then fails the job as an unknown outcome. So the grant claims only for an attempt
--   whose process is present (it holds its presence lock, drizzle/0018: a killed worker's waiters look alive in
--   line for up to 20 s), that waits hot (not parked), and whose job has no task and no submit marked yet. A woken
--   attempt that does not send after all gives the claim back (release_unused_claim).
-- - Spacing. Only when the provider's spacing allows a start now; otherwise the grant is a plain grant and the
--   worker claims as before. The worker measures how late its request leaves from the claim's stamp (in the
--   NOTIFY), and claims again past half the margin, as it does after claim_start.
-- - Order. Not while a higher priority granted earlier has not made its first start (0027's hold).
-- - Locks. provider_limits' row is taken with SKIP LOCKED: a claim_start holding it (the house takes it without
--   the provider's advisory lock) makes this a plain grant instead of a wait, so the two orders never meet.

-- PRESENCE_LOCK_CLASS in src/gate/presence.ts ("RFLW"); a test checks they agree.
CREATE OR REPLACE FUNCTION presence_lock_class()
RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 1380338775 $$;
--> statement-breakpoint

-- Claims the armed start of `p_job_id`, just granted a slot of `p_provider` (under its lock, in grant_slots).
-- Returns {"at": epoch ms of the stamp, "marginMs": the provider's start margin, or null without spacing}, or null
-- when the grant stays a plain grant. The arm is spent either way.
CREATE OR REPLACE FUNCTION claim_armed_start(p_provider text, p_job_id uuid, p_order_wait_ms integer DEFAULT 2000)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  lim provider_limits;
  stamp timestamptz;
BEGIN
  SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  IF NOT FOUND OR job.armed_submit_key IS NULL THEN
    RETURN NULL;
  END IF;
  UPDATE automation_queue SET armed_submit_key = NULL WHERE id = p_job_id;
  IF job.parked OR job.provider_task_id IS NOT NULL OR job.submit_attempted_at IS NOT NULL
     OR job.activity_token IS NULL OR job.activity_worker IS NULL
     OR submit_key_job(job.armed_submit_key) IS DISTINCT FROM p_job_id THEN
    RETURN NULL;
  END IF;
  -- Present: its process holds the key exclusively, so a shared try fails (watchers' shared holds do not count).
  IF pg_try_advisory_xact_lock_shared(presence_lock_class(), job.activity_worker) THEN
    RETURN NULL;
  END IF;
  IF EXISTS (
       SELECT 1 FROM provider_slots s JOIN automation_queue k ON k.id = s.job_id
        WHERE s.provider = p_provider AND s.job_id <> p_job_id AND s.called_at IS NULL
          AND s.granted_at > clock_timestamp() - make_interval(secs => p_order_wait_ms / 1000.0)
          AND k.priority < job.priority) THEN
    RETURN NULL;
  END IF;
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF lim.min_start_interval_ms > 0 AND lim.last_start_at
       + make_interval(secs => (lim.min_start_interval_ms + lim.start_margin_ms) / 1000.0) > clock_timestamp() THEN
    RETURN NULL;
  END IF;
  -- claim_start's record of a start, as one stamp.
  stamp := clock_timestamp();
  UPDATE provider_limits SET last_start_at = stamp, last_start_job = p_job_id WHERE provider = p_provider;
  UPDATE provider_slots SET called_at = stamp WHERE job_id = p_job_id AND called_at IS NULL;
  UPDATE automation_queue SET submit_attempted_at = stamp WHERE id = p_job_id;
  PERFORM log_job_event(p_job_id, 'submit_key', jsonb_build_object('key', job.armed_submit_key));
  PERFORM log_job_event(p_job_id, 'provider_call', '{"inGrant": true}'::jsonb);
  RETURN jsonb_build_object('at', floor(extract(epoch FROM stamp) * 1000)::bigint,
                            'marginMs', CASE WHEN lim.min_start_interval_ms > 0 THEN lim.start_margin_ms END);
END $$;
--> statement-breakpoint

-- A start claimed in the grant whose request never left (the woken attempt stopped first, or found it should not
-- submit): the job is marked as not submitted again, so the next attempt submits instead of waiting for a callback.
-- Only while nothing says a task exists. The spacing stamp stays: the next start waits as if this one had left.
CREATE OR REPLACE FUNCTION release_unused_claim(p_job_id uuid, p_key text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  UPDATE automation_queue SET submit_attempted_at = NULL, updated_at = now()
   WHERE id = p_job_id AND submit_attempted_at IS NOT NULL AND provider_task_id IS NULL
     AND latest_submit_key(p_job_id) = p_key;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM log_job_event(p_job_id, 'claim_unused', jsonb_build_object('key', p_key));
  RETURN true;
END $$;
--> statement-breakpoint

-- 0017's grant_slots; a granted job's armed start is claimed with its grant, and the NOTIFY carries the claim
-- ('<job id> <stamp ms> <margin ms>'). Returns {"granted": [job ids], "claimed": {job id: claim}}.
CREATE OR REPLACE FUNCTION grant_slots(p_provider text, p_lease_ms integer DEFAULT 12000, p_waiter_ttl_ms integer DEFAULT 20000)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lim provider_limits;
  held integer;
  head uuid;
  short text[];
  granted uuid[] := '{}';
  claimed jsonb := '{}';
  claim jsonb;
  -- Quotas the line found full this round, and the heads that wait for them.
  full_quotas text[] := '{}';
  waiting uuid[] := '{}';
BEGIN
  -- One granter per provider at a time; other providers proceed in parallel.
  PERFORM lock_providers(ARRAY[p_provider]);
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown provider "%"', p_provider USING ERRCODE = '22023';
  END IF;
  WITH lapsed AS (
    DELETE FROM provider_slots s
     WHERE s.provider = p_provider AND s.lease_expires_at < clock_timestamp()
       AND (s.hold_until IS NULL OR s.hold_until < clock_timestamp())
    RETURNING s.job_id)
  UPDATE automation_queue q
     SET status = 'queued', started_at = NULL, waiting_since = clock_timestamp(), called_up_at = NULL, updated_at = now()
    FROM lapsed
   WHERE q.id = lapsed.job_id AND q.parked AND q.status = 'processing';
  LOOP
    SELECT count(*) INTO held FROM provider_slots s WHERE s.provider = p_provider;
    EXIT WHEN held >= lim.max_concurrent;
    SELECT q.id INTO head FROM automation_queue q
     WHERE q.api_provider = p_provider AND q.status = 'queued' AND q.waiting_since IS NOT NULL AND in_line(q, p_waiter_ttl_ms)
       AND q.id <> ALL (waiting)
       AND (cardinality(full_quotas) = 0 OR NOT EXISTS (
             SELECT 1 FROM quota_costs c JOIN provider_quotas pq ON pq.name = c.quota
              WHERE c.quota = ANY (full_quotas) AND c.job_type = q.job_type AND c.units > 0 AND pq.account = job_account(q)))
     ORDER BY q.priority, q.created_at, q.id
     LIMIT 1;
    EXIT WHEN head IS NULL;
    short := take_quota(head);
    IF cardinality(short) > 0 THEN
      full_quotas := full_quotas || short;
      waiting := waiting || head;
      head := NULL;
      CONTINUE;
    END IF;
    INSERT INTO provider_slots (job_id, provider, granted_at, lease_expires_at)
    VALUES (head, p_provider, clock_timestamp(), clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0));
    PERFORM start_job(head);
    claim := claim_armed_start(p_provider, head);
    IF claim IS NULL THEN
      PERFORM pg_notify('reelflow_slots', head::text);
    ELSE
      claimed := claimed || jsonb_build_object(head::text, claim);
      PERFORM pg_notify('reelflow_slots', concat_ws(' ', head::text, claim->>'at', claim->>'marginMs'));
    END IF;
    granted := granted || head;
    head := NULL;
  END LOOP;
  RETURN jsonb_build_object('granted', to_jsonb(granted), 'claimed', claimed);
END $$;
