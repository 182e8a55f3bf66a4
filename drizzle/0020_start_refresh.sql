ALTER TABLE "provider_limits" ADD COLUMN "last_start_job" uuid;--> statement-breakpoint
-- 0016's claim_start, with a refresh: the start is stamped inside the database round trip, and on a loaded
-- process the request may leave long after (src/gate/slot-gate.ts claimStart measures it). A refresh moves the
-- stamp to now, so every later start is spaced from when the request really leaves. Only the job whose start is
-- the latest may move it (last_start_job); when another start came in between, the refresh waits out the interval
-- from that one, like a first claim. A refresh records nothing else: the first claim logged the call, the submit.
-- It answers the wait and the provider's start margin (NULL without spacing: nothing to refresh); the caller
-- claims again when its request could not leave within half the margin.
DROP FUNCTION IF EXISTS claim_start(text, uuid, boolean, text);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION claim_start(p_provider text, p_job_id uuid, p_mark_submit boolean DEFAULT false,
                                       p_submit_key text DEFAULT NULL, p_refresh boolean DEFAULT false,
                                       OUT wait_ms integer, OUT margin_ms integer)
LANGUAGE plpgsql AS $$
DECLARE
  lim provider_limits;
BEGIN
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
  IF p_mark_submit THEN
    UPDATE automation_queue SET submit_attempted_at = clock_timestamp() WHERE id = p_job_id;
  END IF;
  IF p_submit_key IS NOT NULL THEN
    PERFORM log_job_event(p_job_id, 'submit_key', jsonb_build_object('key', p_submit_key));
  END IF;
  PERFORM log_job_event(p_job_id, 'provider_call', '{}'::jsonb);
END $$;
