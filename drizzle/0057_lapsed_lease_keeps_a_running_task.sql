-- 0054's grant_slots, which now keeps a lapsed slot whose job's paid task may still run at the provider. A slot's lease
-- lapses when nothing renews it for 12 s: its worker stopped or was killed and no other took the job back in time (a
-- restart of every worker, a deploy of the only one, the demo stopped and started again). The next grant deleted the
-- slot and gave it on, and the next render was made beside the one still running at KIE; the job's retry then took
-- its slot back past the cap (0051). Now such a slot is held until the task's expected end (its start plus twice its
-- estimate, as a cancel holds it), when a known task or a sent submit may be running and nothing heard it end.
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
  -- A lapsed lease whose paid task may run on: held until the task's expected end, then lapsed as any other below.
  UPDATE provider_slots s
     SET hold_until = coalesce(q.started_at, s.granted_at) + make_interval(secs => 2 * q.estimated_duration_seconds)
    FROM automation_queue q
   WHERE s.provider = p_provider AND s.lease_expires_at < clock_timestamp() AND s.hold_until IS NULL
     AND q.id = s.job_id AND q.status IN ('queued', 'processing') AND q.task_ended_at IS NULL
     AND (q.provider_task_id IS NOT NULL OR q.submit_attempted_at IS NOT NULL);
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
