-- claim_start now adds the provider's start margin to its interval (see
-- START_MARGIN_MS in src/config/providers.ts): the provider, one HTTP request
-- later, must still see at least the interval between two starts.
CREATE OR REPLACE FUNCTION claim_start(p_provider text, p_job_id uuid)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  lim provider_limits;
  wait_ms integer;
BEGIN
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown provider "%"', p_provider USING ERRCODE = '22023';
  END IF;
  wait_ms := ceil(extract(epoch FROM lim.last_start_at
                          + make_interval(secs => (lim.min_start_interval_ms + lim.start_margin_ms) / 1000.0)
                          - clock_timestamp()) * 1000);
  IF wait_ms > 0 THEN
    RETURN wait_ms;
  END IF;
  UPDATE provider_limits SET last_start_at = clock_timestamp() WHERE provider = p_provider;
  PERFORM log_job_event(p_job_id, 'provider_call', '{}'::jsonb);
  RETURN 0;
END $$;
