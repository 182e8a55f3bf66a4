-- The durable line (issue 18): a job waits for its provider slot in its workflow, not in an activity.
-- A parked job is in line (waiting_since) with no process heartbeating it: the grant counts it like a
-- live waiter, and the line courier (src/gate/line-courier.ts) signals its workflow when it is granted a
-- slot or comes within the first few of its line ("called up"), so the next jobs of each line still wait
-- hot in an activity and a freed slot is handed over in-process. A backlog of 10,000 costs 10,000 rows.
ALTER TABLE "automation_queue" ADD COLUMN "parked" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "automation_queue" ADD COLUMN "called_up_at" timestamp with time zone;--> statement-breakpoint

-- How many of a line's first jobs wait hot (their activity running): a slot freed by any of the
-- provider's holders goes to one of them without a workflow round trip.
CREATE OR REPLACE FUNCTION hot_line_size(p_provider text)
RETURNS integer LANGUAGE sql STABLE AS $$
  SELECT greatest(4, 2 * max_concurrent) FROM provider_limits WHERE provider = p_provider;
$$;
--> statement-breakpoint

-- The line, as the grant sees it: queued, joined, due, before its deadline, holding no slot, and either
-- parked (its workflow waits) or heartbeated by the activity waiting for it.
CREATE OR REPLACE FUNCTION in_line(q automation_queue, p_waiter_ttl_ms integer DEFAULT 20000)
RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT q.status = 'queued' AND q.waiting_since IS NOT NULL
     AND (q.parked OR q.last_heartbeat_at > clock_timestamp() - make_interval(secs => p_waiter_ttl_ms / 1000.0))
     AND (q.schedule_after IS NULL OR q.schedule_after <= clock_timestamp())
     AND (q.deadline IS NULL OR q.deadline > clock_timestamp())
     AND NOT EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = q.id);
$$;
--> statement-breakpoint

-- A workflow's job joins its line without an activity. 'granted': it holds a slot; 'go': it is among the
-- first hot_line_size of its line (it waits hot in its activity), or closed (its activity says so); either
-- way the activity starts now. 'parked': wait for the courier's signal. Idempotent: a retried call gives the
-- same answer (or a better one).
CREATE OR REPLACE FUNCTION park_job(p_job_id uuid)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  ahead integer;
BEGIN
  PERFORM lock_job_provider(p_job_id);
  SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  IF NOT FOUND OR job.status NOT IN ('queued', 'processing') THEN
    RETURN 'go';
  END IF;
  IF EXISTS (SELECT 1 FROM provider_slots WHERE job_id = p_job_id) THEN
    RETURN 'granted';
  END IF;
  -- One 'waiting' event per time a job joins its line (its activity's wait_for_slot then logs none).
  IF job.waiting_since IS NULL THEN
    PERFORM log_job_event(p_job_id, 'waiting', jsonb_build_object('attempt', job.attempts, 'from', 'workflow'));
  END IF;
  -- An earlier attempt started and lost its slot: back in line, like requeue_job.
  UPDATE automation_queue
     SET status = 'queued', started_at = NULL, waiting_since = coalesce(waiting_since, clock_timestamp()),
         parked = true, updated_at = now()
   WHERE id = p_job_id
  RETURNING * INTO job;
  PERFORM grant_slots(job.api_provider);
  IF EXISTS (SELECT 1 FROM provider_slots WHERE job_id = p_job_id) THEN
    -- Granted on joining: the workflow starts its activity now, nobody needs to call it up.
    UPDATE automation_queue SET parked = false WHERE id = p_job_id;
    RETURN 'granted';
  END IF;
  SELECT count(*) INTO ahead FROM automation_queue q
   WHERE q.api_provider = job.api_provider AND in_line(q)
     AND (q.priority, q.created_at, q.id) < (job.priority, job.created_at, job.id);
  IF ahead < hot_line_size(job.api_provider) THEN
    -- Called up at once: it waits hot from here (heartbeated as soon as its activity runs).
    UPDATE automation_queue SET parked = false, called_up_at = clock_timestamp(), last_heartbeat_at = clock_timestamp()
     WHERE id = p_job_id;
    RETURN 'go';
  END IF;
  RETURN 'parked';
END $$;
--> statement-breakpoint

-- The parked jobs whose workflow should start its activity now: granted a slot, or among the first
-- hot_line_size of their line. Each is claimed once (called_up_at, rows locked SKIP LOCKED, so several
-- couriers never signal the same job twice) and claimed again after p_recall_ms if still parked (a lost
-- signal, a workflow worker down).
CREATE OR REPLACE FUNCTION call_up_jobs(p_recall_ms integer DEFAULT 10000)
RETURNS TABLE (job_id uuid, workflow_id text, run_id text, granted boolean) LANGUAGE plpgsql AS $$
DECLARE
  prov text;
  wanted uuid[] := '{}';
BEGIN
  wanted := ARRAY(SELECT q.id FROM automation_queue q JOIN provider_slots s ON s.job_id = q.id
                   WHERE q.parked AND q.status IN ('queued', 'processing'));
  -- Per provider, not a DISTINCT over the whole table: each EXISTS stops at the line index's first parked row.
  FOR prov IN SELECT l.provider FROM provider_limits l WHERE EXISTS (
                SELECT 1 FROM automation_queue q WHERE q.api_provider = l.provider AND q.status = 'queued' AND q.parked) LOOP
    wanted := wanted || ARRAY(
      SELECT l.id FROM (
        SELECT q.id, q.parked FROM automation_queue q
         WHERE q.api_provider = prov AND in_line(q)
         ORDER BY q.priority, q.created_at, q.id
         LIMIT hot_line_size(prov)) l
       WHERE l.parked);
  END LOOP;
  RETURN QUERY
    UPDATE automation_queue u SET called_up_at = clock_timestamp()
     WHERE u.id IN (
       SELECT c.id FROM automation_queue c
        WHERE c.id = ANY (wanted) AND c.parked
          AND (c.called_up_at IS NULL OR c.called_up_at < clock_timestamp() - make_interval(secs => p_recall_ms / 1000.0))
        FOR UPDATE SKIP LOCKED)
    RETURNING u.id, u.workflow_id, u.run_id, EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = u.id);
END $$;
--> statement-breakpoint

-- 0009's grant, with the line read by in_line (parked jobs count), and a parked job whose grant lapsed
-- (its workflow never came for the slot within the lease) put back in line rather than left 'processing'.
CREATE OR REPLACE FUNCTION grant_slots(p_provider text, p_lease_ms integer DEFAULT 12000, p_waiter_ttl_ms integer DEFAULT 20000)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lim provider_limits;
  held integer;
  head uuid;
  short text[];
  granted uuid[] := '{}';
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
     WHERE q.api_provider = p_provider AND in_line(q, p_waiter_ttl_ms)
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
    PERFORM pg_notify('reelflow_slots', head::text);
    granted := granted || head;
    head := NULL;
  END LOOP;
  RETURN jsonb_build_object('granted', to_jsonb(granted));
END $$;
--> statement-breakpoint

-- 0013's hand-over, with the line read by in_line (a parked job ranking ahead keeps its turn).
CREATE OR REPLACE FUNCTION hand_over_slot(p_from uuid, p_to uuid, p_lease_ms integer DEFAULT 12000, p_waiter_ttl_ms integer DEFAULT 20000)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  nxt automation_queue;
BEGIN
  PERFORM lock_job_provider(p_from);
  SELECT n.* INTO nxt FROM automation_queue n JOIN automation_queue f ON f.id = p_from
   WHERE n.id = p_to AND n.status = 'queued' AND n.api_provider = f.api_provider AND f.status IN ('queued', 'processing')
     AND (n.schedule_after IS NULL OR n.schedule_after <= clock_timestamp())
     AND (n.deadline IS NULL OR n.deadline > clock_timestamp())
     AND NOT EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = n.id);
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  -- The line's order holds: a waiting job that ranks ahead of the next segment gets the slot as usual.
  IF EXISTS (
    SELECT 1 FROM automation_queue q
     WHERE q.api_provider = nxt.api_provider AND in_line(q, p_waiter_ttl_ms)
       AND (q.priority, q.created_at, q.id) < (nxt.priority, nxt.created_at, nxt.id)
  ) THEN
    RETURN false;
  END IF;
  IF cardinality(take_quota(p_to)) > 0 THEN
    RETURN false;
  END IF;
  UPDATE provider_slots
     SET job_id = p_to, granted_at = clock_timestamp(), hold_until = NULL,
         lease_expires_at = clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0)
   WHERE job_id = p_from;
  IF NOT FOUND THEN
    PERFORM refund_quota(p_to);
    RETURN false;
  END IF;
  PERFORM start_job(p_to);
  PERFORM log_job_event(p_to, 'handed_over', jsonb_build_object('from', p_from));
  PERFORM pg_notify('reelflow_slots', p_to::text);
  RETURN true;
END $$;
--> statement-breakpoint

-- 0001's join, now also the end of parking: from here the activity's heartbeat keeps the job in line.
-- It logs 'waiting' only when the job was not in line yet (a parked job logged it on parking).
CREATE OR REPLACE FUNCTION wait_for_slot(p_job_id uuid, p_attempt integer)
RETURNS automation_queue LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  joined boolean;
BEGIN
  SELECT waiting_since IS NULL INTO joined FROM automation_queue WHERE id = p_job_id;
  UPDATE automation_queue
     SET waiting_since = coalesce(waiting_since, now()), last_heartbeat_at = now(), parked = false,
         attempts = greatest(attempts, p_attempt), updated_at = now()
   WHERE id = p_job_id AND status = 'queued'
  RETURNING * INTO job;
  IF FOUND AND joined THEN
    PERFORM log_job_event(p_job_id, 'waiting', jsonb_build_object('attempt', p_attempt));
  END IF;
  RETURN job;
END $$;
--> statement-breakpoint

-- 0013's resume, also the end of parking (a parked job granted a slot, taken by its activity).
CREATE OR REPLACE FUNCTION resume_job(p_job_id uuid, p_attempt integer, p_lease_ms integer DEFAULT 12000)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  handed boolean;
BEGIN
  UPDATE provider_slots SET lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
   WHERE job_id = p_job_id;
  IF NOT FOUND THEN
    RETURN false;
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

-- 0001's leave, also unparking: a job out of line is nobody's to call up.
CREATE OR REPLACE FUNCTION leave_line(p_job_id uuid)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_job_provider(p_job_id);
  UPDATE automation_queue
     SET waiting_since = NULL, parked = false,
         status = CASE WHEN status = 'processing' THEN 'queued' ELSE status END, updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing');
  IF FOUND THEN
    PERFORM release_slot(p_job_id);
  END IF;
END $$;
--> statement-breakpoint

-- 0001's claim_start, which now also records the submit's callback key (the 'submit_key' event) in the
-- same round trip: one database call between a job's grant and its paid request, not two.
DROP FUNCTION IF EXISTS claim_start(text, uuid, boolean);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION claim_start(p_provider text, p_job_id uuid, p_mark_submit boolean DEFAULT false, p_submit_key text DEFAULT NULL)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  lim provider_limits;
  wait_ms integer;
BEGIN
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown provider "%"', p_provider USING ERRCODE = '22023';
  END IF;
  IF lim.min_start_interval_ms > 0 THEN
    wait_ms := ceil(extract(epoch FROM lim.last_start_at
                            + make_interval(secs => (lim.min_start_interval_ms + lim.start_margin_ms) / 1000.0)
                            - clock_timestamp()) * 1000);
    IF wait_ms > 0 THEN
      RETURN wait_ms;
    END IF;
  END IF;
  UPDATE provider_limits SET last_start_at = clock_timestamp() WHERE provider = p_provider;
  IF p_mark_submit THEN
    UPDATE automation_queue SET submit_attempted_at = clock_timestamp() WHERE id = p_job_id;
  END IF;
  IF p_submit_key IS NOT NULL THEN
    PERFORM log_job_event(p_job_id, 'submit_key', jsonb_build_object('key', p_submit_key));
  END IF;
  PERFORM log_job_event(p_job_id, 'provider_call', '{}'::jsonb);
  RETURN 0;
END $$;
--> statement-breakpoint

-- 0001's batched heartbeat, skipping rows another transaction holds (a cancel closing them right now needs no
-- heartbeat): it never waits behind a long transaction, and cannot deadlock with one. A cancel of 3,000 ideas
-- deadlocked with it on every try when both locked the same rows in different orders (bench backlog).
CREATE OR REPLACE FUNCTION heartbeat_jobs(p_job_ids uuid[], p_lease_ms integer DEFAULT 12000)
RETURNS void LANGUAGE sql AS $$
  UPDATE automation_queue SET last_heartbeat_at = now()
   WHERE id IN (SELECT id FROM automation_queue WHERE id = ANY(p_job_ids) AND status IN ('queued', 'processing')
                FOR UPDATE SKIP LOCKED);
  UPDATE provider_slots SET lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
   WHERE job_id IN (SELECT job_id FROM provider_slots WHERE job_id = ANY(p_job_ids) FOR UPDATE SKIP LOCKED);
$$;
