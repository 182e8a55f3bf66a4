-- One attempt of a job sends its paid submit. Temporal gives up on an attempt (its heartbeat timeout; the lost-worker
-- watch failing the attempts of a process whose listener lost PostgreSQL) while its process lives on: until its next
-- heartbeat tells it (up to 0.8 x the heartbeat timeout), it goes on beside the retry Temporal started elsewhere.
-- Nothing here told the two apart, as everything is keyed by the job: the old attempt, waking on a grant that claimed
-- the retry's start, sent on that claim (its process held an arm for the job, of its own key); or it claimed its own
-- start (claim_start marks a submit whatever attempt asks). Either way the render was submitted, and paid, twice. And
-- the old attempt, stopping, left the line: leave_line took the retry, waiting there, out of it for good (nothing
-- grants a job with no place in line; it heartbeats, so nothing calls it stuck).
--
-- Now the attempt is the fence. Each attempt writes its token on the row as it begins (markActivity), so the row
-- names the newest:
-- - a marked submit claimed with an attempt's token marks only while the row names that attempt (or none) and knows no
--   task, or raises RF409 and the attempt stops without sending (the worker fails it retryably, touching nothing);
-- - the grant claims a start for the attempt the row names under the row's lock, so a later attempt marking itself
--   meanwhile reads that claim's submit;
-- - the grant's NOTIFY names the key it claimed the start for ('<job> <stamp> <margin or empty> <key>': four fields,
--   an empty margin keeps the key fourth, and a process of the release before reads the first three as before), and
--   a process holds the claim only for an attempt armed with that key;
-- - leave_line with an attempt's token leaves only while the row names that attempt (or none: nobody took over).
-- Callers without a token (the API, the CLI, scripts) are unchanged.
DROP FUNCTION IF EXISTS record_start(text, uuid, boolean, text, jsonb);
--> statement-breakpoint
DROP FUNCTION IF EXISTS claim_start(text, uuid, boolean, text, boolean, integer);
--> statement-breakpoint
DROP FUNCTION IF EXISTS leave_line(uuid);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION record_start(p_provider text, p_job_id uuid, p_mark_submit boolean, p_submit_key text,
                                        p_call jsonb, p_attempt text DEFAULT NULL)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
  stamp timestamptz := clock_timestamp();
BEGIN
  -- Fenced on the attempt: only the attempt its row names (activity_token, written as each attempt begins, before it
  -- reads the row) marks a submit, and none once a task is known. A row naming none (sent back to its line, 0021,
  -- and granted before its waiter heard; its process gone) names no later attempt either. The row's lock orders this
  -- against the next attempt's mark: that attempt reads this one's submit, or this one finds the row renamed.
  IF p_mark_submit AND p_attempt IS NOT NULL THEN
    UPDATE automation_queue SET submit_attempted_at = stamp
     WHERE id = p_job_id AND (activity_token IS NULL OR activity_token = p_attempt) AND provider_task_id IS NULL;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'job %: a later attempt of it runs (or its task is known): this attempt does not submit', p_job_id
        USING ERRCODE = 'RF409';
    END IF;
  END IF;
  UPDATE provider_limits SET last_start_at = stamp, last_start_job = p_job_id WHERE provider = p_provider;
  -- A slot lapsed since the caller's checks is simply not there to mark.
  UPDATE provider_slots SET called_at = stamp WHERE job_id = p_job_id AND called_at IS NULL;
  IF p_mark_submit AND p_attempt IS NULL THEN
    UPDATE automation_queue SET submit_attempted_at = stamp WHERE id = p_job_id;
  END IF;
  IF p_submit_key IS NOT NULL THEN
    PERFORM log_job_event(p_job_id, 'submit_key', jsonb_build_object('key', p_submit_key), stamp);
  END IF;
  PERFORM log_job_event(p_job_id, 'provider_call', p_call, stamp);
  RETURN stamp;
END $$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION claim_start(p_provider text, p_job_id uuid, p_mark_submit boolean DEFAULT false,
                                       p_submit_key text DEFAULT NULL, p_refresh boolean DEFAULT false,
                                       p_order_wait_ms integer DEFAULT 2000, p_attempt text DEFAULT NULL,
                                       OUT wait_ms integer, OUT margin_ms integer)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  lim provider_limits;
  held_since timestamptz;
BEGIN
  IF NOT p_refresh THEN
    held_since := start_held_since(p_provider, p_job_id, p_order_wait_ms);
    IF held_since IS NOT NULL THEN
      -- 0028: 10 ms at first, then a quarter of the time since this job's grant, up to 40 ms; no lock taken.
      wait_ms := least(40, greatest(10, floor(extract(epoch FROM clock_timestamp() - held_since) * 1000 / 4)));
      SELECT CASE WHEN l.min_start_interval_ms > 0 THEN l.start_margin_ms END INTO margin_ms
        FROM provider_limits l WHERE l.provider = p_provider;
      RETURN;
    END IF;
  END IF;
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown provider "%"', p_provider USING ERRCODE = '22023';
  END IF;
  margin_ms := CASE WHEN lim.min_start_interval_ms > 0 THEN lim.start_margin_ms END;
  -- A refresh by the job that made the last start moves that start later (0020): no spacing against itself.
  IF NOT (p_refresh AND lim.last_start_job IS NOT DISTINCT FROM p_job_id) THEN
    wait_ms := start_due_in_ms(lim);
    IF wait_ms > 0 THEN
      IF NOT p_refresh THEN
        PERFORM want_start(p_job_id);
      END IF;
      RETURN;
    END IF;
    -- Due since less than the grace, with a holder before this one in turn: a short wait, then ask again.
    IF NOT p_refresh AND lim.min_start_interval_ms > 0 AND wait_ms > -start_turn_grace_ms()
       AND start_turn_ahead(p_provider, p_job_id) THEN
      PERFORM want_start(p_job_id);
      wait_ms := greatest(1, least(10, start_turn_grace_ms() + wait_ms));
      RETURN;
    END IF;
  END IF;
  wait_ms := 0;
  IF p_refresh THEN
    UPDATE provider_limits SET last_start_at = clock_timestamp(), last_start_job = p_job_id WHERE provider = p_provider;
    RETURN;
  END IF;
  PERFORM record_start(p_provider, p_job_id, p_mark_submit, p_submit_key, '{}'::jsonb, p_attempt);
END $$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION claim_armed_start(p_provider text, p_job_id uuid, p_order_wait_ms integer DEFAULT 2000)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  lim provider_limits;
  due_in integer;
  stamp timestamptz;
BEGIN
  -- Locked: a later attempt's mark (markActivity) waits for this grant's commit, then reads the submit it claimed.
  SELECT * INTO job FROM automation_queue WHERE id = p_job_id FOR UPDATE;
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
  IF start_held_since(p_provider, p_job_id, p_order_wait_ms) IS NOT NULL THEN
    RETURN NULL;
  END IF;
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  due_in := start_due_in_ms(lim);
  IF due_in > 0 OR (lim.min_start_interval_ms > 0 AND due_in > -start_turn_grace_ms()
                    AND start_turn_ahead(p_provider, p_job_id)) THEN
    RETURN NULL;
  END IF;
  stamp := record_start(p_provider, p_job_id, true, job.armed_submit_key, '{"inGrant": true}'::jsonb);
  RETURN jsonb_build_object('at', floor(extract(epoch FROM stamp) * 1000)::bigint,
                            'marginMs', CASE WHEN lim.min_start_interval_ms > 0 THEN lim.start_margin_ms END,
                            'key', job.armed_submit_key);
END $$;
--> statement-breakpoint

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
      -- The key the start was claimed for: only that attempt sends on it. An empty margin keeps the key fourth.
      PERFORM pg_notify('reelflow_slots', concat_ws(' ', head::text, claim->>'at', coalesce(claim->>'marginMs', ''), claim->>'key'));
    END IF;
    granted := granted || head;
    head := NULL;
  END LOOP;
  RETURN jsonb_build_object('granted', to_jsonb(granted), 'claimed', claimed);
END $$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION leave_line(p_job_id uuid, p_attempt text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_job_provider(p_job_id);
  UPDATE automation_queue
     SET waiting_since = NULL, parked = false,
         status = CASE WHEN status = 'processing' THEN 'queued' ELSE status END, updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing')
     AND (p_attempt IS NULL OR activity_token IS NULL OR activity_token = p_attempt);
  IF FOUND THEN
    PERFORM release_slot(p_job_id);
  END IF;
END $$;
