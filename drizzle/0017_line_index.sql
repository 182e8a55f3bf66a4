-- The line read through an index, at any length (issue 18). in_line() holds a subquery, so PostgreSQL cannot
-- inline it, and every reader of the line sorted the whole provider's queue to find its first few: 36 ms a call
-- with 10,000 waiting (10 ms polls of three couriers made that PostgreSQL's idle load), and a job joining at
-- the back counted everybody ahead of it. Each reader now states the index's predicate beside in_line(), walks
-- the line in its order and stops at what it needs (0.3 ms for the first few of 10,000).
CREATE INDEX "automation_queue_in_line_idx" ON "automation_queue" USING btree ("api_provider","priority","created_at","id") WHERE "automation_queue"."status" = 'queued' AND "automation_queue"."waiting_since" IS NOT NULL;--> statement-breakpoint

-- 0016's park_job; it counts who is ahead only up to the hot line's size (not the whole line).
CREATE OR REPLACE FUNCTION park_job(p_job_id uuid)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  ahead integer;
  hot integer;
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
  hot := hot_line_size(job.api_provider);
  SELECT count(*) INTO ahead FROM (
    SELECT 1 FROM automation_queue q
     WHERE q.api_provider = job.api_provider AND q.status = 'queued' AND q.waiting_since IS NOT NULL AND in_line(q)
       AND (q.priority, q.created_at, q.id) < (job.priority, job.created_at, job.id)
     ORDER BY q.priority, q.created_at, q.id
     LIMIT hot) a;
  IF ahead < hot THEN
    -- Called up at once: it waits hot from here (heartbeated as soon as its activity runs).
    UPDATE automation_queue SET parked = false, called_up_at = clock_timestamp(), last_heartbeat_at = clock_timestamp()
     WHERE id = p_job_id;
    RETURN 'go';
  END IF;
  RETURN 'parked';
END $$;
--> statement-breakpoint

-- 0016's call-up, reading the line through its index. It also runs the grant of a provider where a parked job's
-- grant lapsed (its workflow never came within the lease): the workers' sweep only grants for providers they
-- have waiters of, so with every waiter parked nothing else would, and the lapsed slot would stay taken.
CREATE OR REPLACE FUNCTION call_up_jobs(p_recall_ms integer DEFAULT 10000)
RETURNS TABLE (job_id uuid, workflow_id text, run_id text, granted boolean) LANGUAGE plpgsql AS $$
DECLARE
  prov text;
  wanted uuid[] := '{}';
BEGIN
  FOR prov IN SELECT DISTINCT s.provider FROM provider_slots s
               WHERE s.lease_expires_at < clock_timestamp() AND (s.hold_until IS NULL OR s.hold_until < clock_timestamp())
                 AND (SELECT q.parked FROM automation_queue q WHERE q.id = s.job_id) LOOP
    PERFORM grant_slots(prov);
  END LOOP;
  -- From the slots (a few rows) to their jobs, by primary key.
  wanted := ARRAY(SELECT s.job_id FROM provider_slots s
                   WHERE (SELECT q.parked AND q.status IN ('queued', 'processing') FROM automation_queue q WHERE q.id = s.job_id));
  -- Per provider: each EXISTS stops at the line index's first parked row.
  FOR prov IN SELECT l.provider FROM provider_limits l WHERE EXISTS (
                SELECT 1 FROM automation_queue q
                 WHERE q.api_provider = l.provider AND q.status = 'queued' AND q.waiting_since IS NOT NULL AND q.parked) LOOP
    wanted := wanted || ARRAY(
      SELECT l.id FROM (
        SELECT q.id, q.parked FROM automation_queue q
         WHERE q.api_provider = prov AND q.status = 'queued' AND q.waiting_since IS NOT NULL AND in_line(q)
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

-- 0016's grant, reading the line's head through its index.
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
    PERFORM pg_notify('reelflow_slots', head::text);
    granted := granted || head;
    head := NULL;
  END LOOP;
  RETURN jsonb_build_object('granted', to_jsonb(granted));
END $$;
--> statement-breakpoint

-- 0016's hand-over, asking "anybody ahead in line?" through the line's index.
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
     WHERE q.api_provider = nxt.api_provider AND q.status = 'queued' AND q.waiting_since IS NOT NULL
       AND in_line(q, p_waiter_ttl_ms)
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
