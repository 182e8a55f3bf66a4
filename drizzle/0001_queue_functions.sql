-- Queue bookkeeping in SQL: every transition of a job goes through one of these
-- functions so reporting, the CLI and the workers agree on what a state means.
-- Slots: a job holds a slot of its provider from grant until complete/fail/cancel;
-- grant_slots() is the only writer of provider_slots inserts and hands slots out
-- in (priority, enqueue time) order, honouring the cap and the start spacing.

CREATE OR REPLACE FUNCTION log_job_event(p_job_id uuid, p_event text, p_detail jsonb DEFAULT '{}'::jsonb)
RETURNS void LANGUAGE sql AS $$
  -- clock_timestamp(): the moment of the event, not the start of its transaction.
  INSERT INTO job_events (job_id, recommendation_id, event, detail, created_at)
  SELECT q.id, q.recommendation_id, p_event, coalesce(p_detail, '{}'::jsonb), clock_timestamp()
  FROM automation_queue q WHERE q.id = p_job_id;
$$;
--> statement-breakpoint

-- Lock order, to rule out deadlocks: a transaction that changes jobs and then
-- runs the grant (complete, fail, cancel, leave the line) takes the advisory
-- lock of every provider involved first, in name order, and only then touches
-- rows; grant_slots takes the same lock and then updates the head of the line.
CREATE OR REPLACE FUNCTION lock_providers(p_providers text[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE p text;
BEGIN
  FOR p IN SELECT DISTINCT unnest(p_providers) ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(hashtext('reelflow.slots'), hashtext(p));
  END LOOP;
END $$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION lock_job_provider(p_job_id uuid)
RETURNS void LANGUAGE sql AS $$
  SELECT lock_providers(ARRAY(SELECT api_provider FROM automation_queue WHERE id = p_job_id));
$$;
--> statement-breakpoint

-- Idempotent per (workflow_id, step): a replayed or retried enqueue returns the existing row.
CREATE OR REPLACE FUNCTION enqueue_job(
  p_workflow_id text, p_step text, p_job_type text, p_provider text, p_priority text,
  p_job_config jsonb, p_recommendation_id uuid, p_schedule_after timestamptz, p_deadline timestamptz,
  p_estimated_duration_seconds integer, p_max_attempts integer, p_run_id text DEFAULT NULL)
RETURNS automation_queue LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  job_id uuid;
  inserted boolean;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM provider_limits WHERE provider = p_provider) THEN
    RAISE EXCEPTION 'unknown provider "%"', p_provider USING ERRCODE = '22023';
  END IF;
  INSERT INTO automation_queue AS q (workflow_id, step, job_type, api_provider, priority, job_config,
    recommendation_id, schedule_after, deadline, estimated_duration_seconds, max_attempts, run_id)
  VALUES (p_workflow_id, p_step, p_job_type, p_provider, p_priority, coalesce(p_job_config, '{}'::jsonb),
    p_recommendation_id, p_schedule_after, p_deadline, p_estimated_duration_seconds, p_max_attempts, p_run_id)
  ON CONFLICT (workflow_id, step) DO UPDATE SET run_id = coalesce(EXCLUDED.run_id, q.run_id), updated_at = now()
  RETURNING q.id, (q.xmax = 0) INTO job_id, inserted;
  SELECT * INTO job FROM automation_queue WHERE id = job_id;
  IF inserted THEN
    PERFORM log_job_event(job.id, 'enqueued', jsonb_build_object('priority', p_priority, 'provider', p_provider));
  END IF;
  RETURN job;
END $$;
--> statement-breakpoint

-- A job's activity joins the line of its provider (or renews its place after a retry).
CREATE OR REPLACE FUNCTION wait_for_slot(p_job_id uuid, p_attempt integer)
RETURNS automation_queue LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  UPDATE automation_queue
     SET waiting_since = coalesce(waiting_since, now()), last_heartbeat_at = now(),
         attempts = greatest(attempts, p_attempt), updated_at = now()
   WHERE id = p_job_id AND status = 'queued'
  RETURNING * INTO job;
  IF FOUND THEN
    PERFORM log_job_event(p_job_id, 'waiting', jsonb_build_object('attempt', p_attempt));
  END IF;
  RETURN job;
END $$;
--> statement-breakpoint

-- Marks a granted job as started. Called by grant_slots only.
CREATE OR REPLACE FUNCTION start_job(p_job_id uuid)
RETURNS automation_queue LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  UPDATE automation_queue
     SET status = 'processing', started_at = clock_timestamp(), waiting_since = NULL,
         last_heartbeat_at = clock_timestamp(), stuck_since = NULL, updated_at = now()
   WHERE id = p_job_id AND status = 'queued'
  RETURNING * INTO job;
  IF FOUND THEN
    PERFORM log_job_event(p_job_id, 'started', jsonb_build_object('attempt', job.attempts));
  END IF;
  RETURN job;
END $$;
--> statement-breakpoint

-- Hands free slots of a provider to the head of its line (priority, then
-- enqueue time). Returns {"granted": [job ids]}. Start spacing is not decided
-- here but at the provider call itself (claim_start), so the spacing the
-- provider sees does not depend on how fast each process reacts to a grant.
CREATE OR REPLACE FUNCTION grant_slots(p_provider text, p_lease_ms integer DEFAULT 12000, p_waiter_ttl_ms integer DEFAULT 20000)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lim provider_limits;
  held integer;
  head uuid;
  granted uuid[] := '{}';
BEGIN
  -- One granter per provider at a time; other providers proceed in parallel.
  PERFORM lock_providers(ARRAY[p_provider]);
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown provider "%"', p_provider USING ERRCODE = '22023';
  END IF;
  DELETE FROM provider_slots s
   WHERE s.provider = p_provider AND s.lease_expires_at < clock_timestamp()
     AND (s.hold_until IS NULL OR s.hold_until < clock_timestamp());
  LOOP
    SELECT count(*) INTO held FROM provider_slots s WHERE s.provider = p_provider;
    EXIT WHEN held >= lim.max_concurrent;
    SELECT q.id INTO head FROM automation_queue q
     WHERE q.api_provider = p_provider AND q.status = 'queued' AND q.waiting_since IS NOT NULL
       AND q.last_heartbeat_at > clock_timestamp() - make_interval(secs => p_waiter_ttl_ms / 1000.0)
       AND (q.schedule_after IS NULL OR q.schedule_after <= clock_timestamp())
       AND (q.deadline IS NULL OR q.deadline > clock_timestamp())
       AND NOT EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = q.id)
     ORDER BY q.priority, q.created_at, q.id
     LIMIT 1;
    EXIT WHEN head IS NULL;
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

-- Called right before a provider call that counts as a start (a paid submit,
-- an upload, a model call). Returns 0 and records the start when the spacing
-- allows it, else the milliseconds to wait before asking again. The row lock
-- serialises callers across every process. The start margin is added to a
-- non-zero interval so the provider, one HTTP request later, still sees at
-- least the interval. p_mark_submit also records that a paid submit is about
-- to leave (submit_attempted_at), in the same round trip.
CREATE OR REPLACE FUNCTION claim_start(p_provider text, p_job_id uuid, p_mark_submit boolean DEFAULT false)
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
  PERFORM log_job_event(p_job_id, 'provider_call', '{}'::jsonb);
  RETURN 0;
END $$;
--> statement-breakpoint

-- Keeps waiting jobs in line and held slots leased while their process is alive.
CREATE OR REPLACE FUNCTION heartbeat_jobs(p_job_ids uuid[], p_lease_ms integer DEFAULT 12000)
RETURNS void LANGUAGE sql AS $$
  UPDATE automation_queue SET last_heartbeat_at = now() WHERE id = ANY(p_job_ids) AND status IN ('queued', 'processing');
  UPDATE provider_slots SET lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0) WHERE job_id = ANY(p_job_ids);
$$;
--> statement-breakpoint

-- Frees the slot of a job and hands it on at once. p_hold_until keeps the slot
-- counted until then (a paid provider task that cannot be cancelled is still running).
CREATE OR REPLACE FUNCTION release_slot(p_job_id uuid, p_hold_until timestamptz DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE prov text;
BEGIN
  SELECT api_provider INTO prov FROM automation_queue WHERE id = p_job_id;
  IF prov IS NULL THEN RETURN NULL; END IF;
  IF p_hold_until IS NOT NULL AND p_hold_until > now() THEN
    UPDATE provider_slots SET hold_until = p_hold_until, lease_expires_at = now() WHERE job_id = p_job_id;
  ELSE
    DELETE FROM provider_slots WHERE job_id = p_job_id;
  END IF;
  RETURN grant_slots(prov);
END $$;
--> statement-breakpoint

-- A job's activity gives up its place (cancelled, deadline passed) or a slot
-- granted in the meantime; the slot goes to the next job at once.
CREATE OR REPLACE FUNCTION leave_line(p_job_id uuid)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_job_provider(p_job_id);
  UPDATE automation_queue
     SET waiting_since = NULL, status = CASE WHEN status = 'processing' THEN 'queued' ELSE status END, updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing');
  IF FOUND THEN
    PERFORM release_slot(p_job_id);
  END IF;
END $$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION complete_job(p_job_id uuid, p_result jsonb DEFAULT NULL, p_cost numeric DEFAULT NULL)
RETURNS automation_queue LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  PERFORM lock_job_provider(p_job_id);
  UPDATE automation_queue
     SET status = 'completed', completed_at = now(), result = coalesce(p_result, result),
         cost = coalesce(p_cost, cost), error = NULL, waiting_since = NULL, stuck_since = NULL, updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing')
  RETURNING * INTO job;
  IF FOUND THEN
    PERFORM log_job_event(p_job_id, 'completed', jsonb_build_object('cost', job.cost));
    PERFORM release_slot(p_job_id);
  ELSE
    SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  END IF;
  RETURN job;
END $$;
--> statement-breakpoint

-- Retry bookkeeping: a failed attempt goes back to 'queued' unless it was the
-- last one (attempts >= max_attempts) or the error is final (bad input, policy).
CREATE OR REPLACE FUNCTION fail_job(p_job_id uuid, p_error text, p_final boolean DEFAULT false, p_hold_until timestamptz DEFAULT NULL)
RETURNS automation_queue LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  PERFORM lock_job_provider(p_job_id);
  UPDATE automation_queue
     SET status = CASE WHEN p_final OR attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
         completed_at = CASE WHEN p_final OR attempts >= max_attempts THEN now() END,
         error = p_error, waiting_since = NULL, updated_at = now()
   WHERE id = p_job_id AND status IN ('queued', 'processing')
  RETURNING * INTO job;
  IF FOUND THEN
    PERFORM log_job_event(p_job_id, CASE WHEN job.status = 'failed' THEN 'failed' ELSE 'retrying' END,
      jsonb_build_object('error', p_error, 'attempt', job.attempts));
    PERFORM release_slot(p_job_id, p_hold_until);
  ELSE
    SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  END IF;
  RETURN job;
END $$;
--> statement-breakpoint

-- Cancels every open job of a workflow. Jobs whose paid provider task is in
-- flight on a provider with no cancel endpoint keep their slot until the
-- task's expected end (2x estimated), so the provider never sees more than the cap.
CREATE OR REPLACE FUNCTION cancel_workflow_jobs(p_workflow_id text, p_reason text, p_uncancellable text[] DEFAULT '{veo3}')
RETURNS SETOF automation_queue LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  PERFORM lock_providers(ARRAY(SELECT api_provider FROM automation_queue
                                WHERE workflow_id = p_workflow_id AND status IN ('queued', 'processing')));
  FOR job IN
    UPDATE automation_queue
       SET status = 'cancelled', completed_at = now(), error = p_reason, waiting_since = NULL, updated_at = now()
     WHERE workflow_id = p_workflow_id AND status IN ('queued', 'processing')
    RETURNING *
  LOOP
    PERFORM log_job_event(job.id, 'cancelled', jsonb_build_object('reason', p_reason));
    PERFORM release_slot(job.id,
      CASE WHEN job.provider_task_id IS NOT NULL AND job.api_provider = ANY(p_uncancellable)
           THEN coalesce(job.started_at, now()) + make_interval(secs => 2 * job.estimated_duration_seconds) END);
    RETURN NEXT job;
  END LOOP;
END $$;
--> statement-breakpoint

-- Raises a 'stuck' event once per job running past 2x its estimate; returns the newly stuck.
CREATE OR REPLACE FUNCTION mark_stuck_jobs()
RETURNS SETOF automation_queue LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  FOR job IN
    UPDATE automation_queue SET stuck_since = now()
     WHERE status = 'processing' AND stuck_since IS NULL
       AND started_at < now() - make_interval(secs => 2 * estimated_duration_seconds)
    RETURNING *
  LOOP
    PERFORM log_job_event(job.id, 'stuck', jsonb_build_object('started_at', job.started_at,
      'estimated_duration_seconds', job.estimated_duration_seconds));
    RETURN NEXT job;
  END LOOP;
END $$;
--> statement-breakpoint

-- "waiting": jobs in the provider's line now; "planned": later steps already
-- enqueued (publishing before the video exists).
CREATE OR REPLACE FUNCTION get_available_capacity(p_provider text)
RETURNS TABLE (provider text, max_concurrent integer, in_use integer, free integer, waiting integer, planned integer,
               min_start_interval_ms integer, last_start_at timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT l.provider, l.max_concurrent,
         u.in_use, greatest(l.max_concurrent - u.in_use, 0), w.waiting, w.planned,
         l.min_start_interval_ms, l.last_start_at
    FROM provider_limits l
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS in_use FROM provider_slots s
       WHERE s.provider = l.provider
         AND (s.lease_expires_at >= now() OR s.hold_until >= now())) u
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE q.waiting_since IS NOT NULL)::int AS waiting,
             count(*) FILTER (WHERE q.waiting_since IS NULL)::int AS planned
        FROM automation_queue q
       WHERE q.api_provider = l.provider AND q.status = 'queued') w
   WHERE l.provider = p_provider;
$$;
--> statement-breakpoint

CREATE OR REPLACE VIEW queue_pending AS
  SELECT q.*, (q.waiting_since IS NOT NULL) AS in_line,
         row_number() OVER (PARTITION BY q.api_provider ORDER BY q.priority, q.created_at, q.id) AS position
    FROM automation_queue q
   WHERE q.status = 'queued'
   ORDER BY q.priority, q.created_at, q.id;
--> statement-breakpoint

CREATE OR REPLACE VIEW queue_processing AS
  SELECT q.*,
         extract(epoch FROM now() - q.started_at)::numeric(12, 3) AS running_seconds,
         (now() - q.started_at) > make_interval(secs => 2 * q.estimated_duration_seconds) AS is_stuck,
         (q.last_heartbeat_at < now() - interval '30 seconds') AS is_silent
    FROM automation_queue q
   WHERE q.status = 'processing'
   ORDER BY q.started_at;
--> statement-breakpoint

CREATE OR REPLACE VIEW queue_calendar_24h AS
  SELECT q.id, q.job_type, q.api_provider, q.priority, q.status, q.recommendation_id, q.workflow_id,
         greatest(coalesce(q.schedule_after, q.started_at, now()), coalesce(q.started_at, now())) AS planned_at,
         greatest(coalesce(q.schedule_after, q.started_at, now()), coalesce(q.started_at, now()))
           + make_interval(secs => q.estimated_duration_seconds) AS estimated_end_at,
         q.deadline
    FROM automation_queue q
   WHERE q.status IN ('queued', 'processing')
     AND (coalesce(q.schedule_after, now()) <= now() + interval '24 hours'
          OR q.deadline <= now() + interval '24 hours')
   ORDER BY planned_at, q.priority;
--> statement-breakpoint

CREATE OR REPLACE VIEW recommendations_queue AS
  SELECT r.id, r.priority, r.status, r.recommendation_type, r.title, r.target_player, r.urgency_deadline,
         r.schedule_after, r.workflow_id, r.created_at,
         count(q.id)::int AS jobs,
         count(q.id) FILTER (WHERE q.status = 'completed')::int AS jobs_completed,
         count(q.id) FILTER (WHERE q.status IN ('queued', 'processing'))::int AS jobs_open,
         (r.urgency_deadline IS NOT NULL AND r.urgency_deadline < now()) AS past_deadline
    FROM competitive_recommendations r
    LEFT JOIN automation_queue q ON q.recommendation_id = r.id
   WHERE r.status IN ('pending', 'in_production')
   GROUP BY r.id
   ORDER BY r.priority, r.urgency_deadline NULLS LAST, r.created_at;
--> statement-breakpoint

CREATE OR REPLACE VIEW queue_performance_by_type AS
  SELECT q.job_type, q.api_provider,
         count(*)::int AS total,
         count(*) FILTER (WHERE q.status = 'completed')::int AS completed,
         count(*) FILTER (WHERE q.status = 'failed')::int AS failed,
         count(*) FILTER (WHERE q.status = 'cancelled')::int AS cancelled,
         round(count(*) FILTER (WHERE q.status = 'completed')::numeric
               / nullif(count(*) FILTER (WHERE q.status IN ('completed', 'failed')), 0), 4) AS success_rate,
         round(avg(extract(epoch FROM q.completed_at - q.started_at)) FILTER (WHERE q.status = 'completed')::numeric, 3)
           AS avg_duration_seconds,
         round(avg(q.attempts)::numeric, 2) AS avg_attempts,
         coalesce(sum(q.cost), 0) AS total_cost
    FROM automation_queue q
   GROUP BY q.job_type, q.api_provider
   ORDER BY q.job_type;
