-- 0027's hold, asked before the provider's lock and less often the longer it lasts. A held job asks claim_start
-- again and again until the higher priority granted before it has made its first start; in 0027 each ask took
-- provider_limits' row lock first, the lock every grant, callback (hear_callback) and start of that provider takes,
-- so a burst of mixed-priority grants (cap 20: up to 19 jobs held at once, each asking every 10 ms) queued the
-- hand-overs behind asks that change nothing. The hold reads only provider_slots and the jobs' priorities, so it
-- needs no lock: a blocker that is making its start right now is seen on the next ask. And it answers 10 ms at
-- first, then a quarter of the time since this job's grant, up to 40 ms: a parked blocker takes 60-140 ms to start
-- (signal, workflow task, activity), so a held job asks about a dozen times instead of up to 200.
--
-- The rest is 0027's body: the spacing and the recorded start, under the lock.
CREATE OR REPLACE FUNCTION claim_start(p_provider text, p_job_id uuid, p_mark_submit boolean DEFAULT false,
                                       p_submit_key text DEFAULT NULL, p_refresh boolean DEFAULT false,
                                       p_order_wait_ms integer DEFAULT 2000,
                                       OUT wait_ms integer, OUT margin_ms integer)
LANGUAGE plpgsql AS $$
DECLARE
  lim provider_limits;
  mine provider_slots;
BEGIN
  IF NOT p_refresh THEN
    SELECT * INTO mine FROM provider_slots WHERE job_id = p_job_id;
    IF mine.called_at IS NULL AND mine.granted_at IS NOT NULL AND EXISTS (
         SELECT 1 FROM provider_slots s JOIN automation_queue k ON k.id = s.job_id
          WHERE s.provider = p_provider AND s.job_id <> p_job_id AND s.called_at IS NULL
            AND s.granted_at <= mine.granted_at
            AND s.granted_at > clock_timestamp() - make_interval(secs => p_order_wait_ms / 1000.0)
            AND k.priority < (SELECT j.priority FROM automation_queue j WHERE j.id = p_job_id)) THEN
      wait_ms := least(40, greatest(10, floor(extract(epoch FROM clock_timestamp() - mine.granted_at) * 1000 / 4)));
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
  IF lim.min_start_interval_ms > 0 AND NOT (p_refresh AND lim.last_start_job IS NOT DISTINCT FROM p_job_id) THEN
    wait_ms := ceil(extract(epoch FROM lim.last_start_at
                            + make_interval(secs => (lim.min_start_interval_ms + lim.start_margin_ms) / 1000.0)
                            - clock_timestamp()) * 1000);
    IF wait_ms > 0 THEN
      RETURN;
    END IF;
  END IF;
  wait_ms := 0;
  UPDATE provider_limits SET last_start_at = clock_timestamp(), last_start_job = p_job_id WHERE provider = p_provider;
  IF p_refresh THEN
    RETURN;
  END IF;
  -- Read before the lock above: a slot lapsed since then is simply not there to mark.
  UPDATE provider_slots SET called_at = clock_timestamp() WHERE job_id = p_job_id AND called_at IS NULL;
  IF p_mark_submit THEN
    UPDATE automation_queue SET submit_attempted_at = clock_timestamp() WHERE id = p_job_id;
  END IF;
  IF p_submit_key IS NOT NULL THEN
    PERFORM log_job_event(p_job_id, 'submit_key', jsonb_build_object('key', p_submit_key));
  END IF;
  PERFORM log_job_event(p_job_id, 'provider_call', '{}'::jsonb);
END $$;
