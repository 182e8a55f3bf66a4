-- One record of a start, one hold, one spacing test. claim_start (0028) and claim_armed_start (0033) each wrote out
-- 0027's order hold, the spacing test and the record of a start (the spacing clock, called_at,
-- submit_attempted_at, the submit's key and the provider_call event); both now call the helpers below. Behaviour
-- is unchanged but for one thing: claim_start's record now carries one stamp, as the grant's claim did, instead of
-- a clock reading per statement (microseconds apart).

-- 0027's hold: a job granted a slot of `p_provider` waits while a higher priority granted no later than it (and
-- within `p_order_wait_ms`) has not made its first start. Returns the job's grant time when held, else NULL.
CREATE OR REPLACE FUNCTION start_held_since(p_provider text, p_job_id uuid, p_order_wait_ms integer)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
  mine provider_slots;
BEGIN
  SELECT * INTO mine FROM provider_slots WHERE job_id = p_job_id;
  IF mine.called_at IS NULL AND mine.granted_at IS NOT NULL AND EXISTS (
       SELECT 1 FROM provider_slots s JOIN automation_queue k ON k.id = s.job_id
        WHERE s.provider = p_provider AND s.job_id <> p_job_id AND s.called_at IS NULL
          AND s.granted_at <= mine.granted_at
          AND s.granted_at > clock_timestamp() - make_interval(secs => p_order_wait_ms / 1000.0)
          AND k.priority < (SELECT j.priority FROM automation_queue j WHERE j.id = p_job_id)) THEN
    RETURN mine.granted_at;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint

-- How long until the provider's spacing lets the next start leave (0 or less: now; NULL: no start yet).
CREATE OR REPLACE FUNCTION start_due_in_ms(lim provider_limits)
RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  IF lim.min_start_interval_ms <= 0 THEN
    RETURN 0;
  END IF;
  RETURN ceil(extract(epoch FROM lim.last_start_at
                      + make_interval(secs => (lim.min_start_interval_ms + lim.start_margin_ms) / 1000.0)
                      - clock_timestamp()) * 1000);
END $$;
--> statement-breakpoint

-- Records `p_job_id`'s start at `p_provider`, under provider_limits' row lock the caller holds: the spacing clock,
-- its slot's called_at, its submit marked as leaving (`p_mark_submit`), the key the callback will name, and the
-- provider_call event (`p_call` its detail). Returns the stamp.
CREATE OR REPLACE FUNCTION record_start(p_provider text, p_job_id uuid, p_mark_submit boolean, p_submit_key text,
                                        p_call jsonb)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
  stamp timestamptz := clock_timestamp();
BEGIN
  UPDATE provider_limits SET last_start_at = stamp, last_start_job = p_job_id WHERE provider = p_provider;
  -- A slot lapsed since the caller's checks is simply not there to mark.
  UPDATE provider_slots SET called_at = stamp WHERE job_id = p_job_id AND called_at IS NULL;
  IF p_mark_submit THEN
    UPDATE automation_queue SET submit_attempted_at = stamp WHERE id = p_job_id;
  END IF;
  IF p_submit_key IS NOT NULL THEN
    PERFORM log_job_event(p_job_id, 'submit_key', jsonb_build_object('key', p_submit_key));
  END IF;
  PERFORM log_job_event(p_job_id, 'provider_call', p_call);
  RETURN stamp;
END $$;
--> statement-breakpoint

-- 0028's claim_start on the helpers. It keeps 0034's generic plans: CREATE OR REPLACE drops a function's SET.
CREATE OR REPLACE FUNCTION claim_start(p_provider text, p_job_id uuid, p_mark_submit boolean DEFAULT false,
                                       p_submit_key text DEFAULT NULL, p_refresh boolean DEFAULT false,
                                       p_order_wait_ms integer DEFAULT 2000,
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
      RETURN;
    END IF;
  END IF;
  wait_ms := 0;
  IF p_refresh THEN
    UPDATE provider_limits SET last_start_at = clock_timestamp(), last_start_job = p_job_id WHERE provider = p_provider;
    RETURN;
  END IF;
  PERFORM record_start(p_provider, p_job_id, p_mark_submit, p_submit_key, '{}'::jsonb);
END $$;
--> statement-breakpoint

-- 0033's claim_armed_start on the helpers.
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
  IF start_held_since(p_provider, p_job_id, p_order_wait_ms) IS NOT NULL THEN
    RETURN NULL;
  END IF;
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider FOR UPDATE SKIP LOCKED;
  IF NOT FOUND OR start_due_in_ms(lim) > 0 THEN
    RETURN NULL;
  END IF;
  stamp := record_start(p_provider, p_job_id, true, job.armed_submit_key, '{"inGrant": true}'::jsonb);
  RETURN jsonb_build_object('at', floor(extract(epoch FROM stamp) * 1000)::bigint,
                            'marginMs', CASE WHEN lim.min_start_interval_ms > 0 THEN lim.start_margin_ms END);
END $$;
