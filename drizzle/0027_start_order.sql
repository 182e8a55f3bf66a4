-- Starts at a provider in the order of their grants, by priority (issue 14: "a P0 takes the next free unit before
-- any P3"). The grant was always in line order, but what reaches the provider is each job's start (claim_start),
-- and the delivery of a grant takes longer for a job parked in its workflow (signal, workflow task, activity:
-- about 60-140 ms here) than for one already waiting hot in its activity (a NOTIFY). With the cap open, a P1 granted
-- 5 ms after a parked P0 posted before it: the bench's quota scenario counted 1-5 such inversions in 8 runs of 11
-- on an idle machine.
--
-- claim_start now holds back a first start while a job of strictly higher priority, granted a slot of the same
-- provider before this job's own, has not made its own first start: it answers a 10 ms wait, and the caller asks
-- again (as for the spacing). Only for p_order_wait_ms after that grant, so a job that holds a slot and never
-- claims a start (one resuming a task it already submitted, a slot handed to a reel's next segment) delays nobody
-- for longer. Same-priority jobs never wait for each other: nothing to reorder, and no hand-over pays for it.
ALTER TABLE "provider_slots" ADD COLUMN "called_at" timestamp with time zone;--> statement-breakpoint
DROP FUNCTION IF EXISTS claim_start(text, uuid, boolean, text, boolean);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION claim_start(p_provider text, p_job_id uuid, p_mark_submit boolean DEFAULT false,
                                       p_submit_key text DEFAULT NULL, p_refresh boolean DEFAULT false,
                                       p_order_wait_ms integer DEFAULT 2000,
                                       OUT wait_ms integer, OUT margin_ms integer)
LANGUAGE plpgsql AS $$
DECLARE
  lim provider_limits;
  mine provider_slots;
BEGIN
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown provider "%"', p_provider USING ERRCODE = '22023';
  END IF;
  margin_ms := CASE WHEN lim.min_start_interval_ms > 0 THEN lim.start_margin_ms END;
  IF NOT p_refresh THEN
    SELECT * INTO mine FROM provider_slots WHERE job_id = p_job_id;
    IF mine.called_at IS NULL AND mine.granted_at IS NOT NULL AND EXISTS (
         SELECT 1 FROM provider_slots s JOIN automation_queue k ON k.id = s.job_id
          WHERE s.provider = p_provider AND s.job_id <> p_job_id AND s.called_at IS NULL
            AND s.granted_at <= mine.granted_at
            AND s.granted_at > clock_timestamp() - make_interval(secs => p_order_wait_ms / 1000.0)
            AND k.priority < (SELECT j.priority FROM automation_queue j WHERE j.id = p_job_id)) THEN
      wait_ms := 10;
      RETURN;
    END IF;
  END IF;
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
  IF mine.called_at IS NULL AND mine.job_id IS NOT NULL THEN
    UPDATE provider_slots SET called_at = clock_timestamp() WHERE job_id = p_job_id;
  END IF;
  IF p_mark_submit THEN
    UPDATE automation_queue SET submit_attempted_at = clock_timestamp() WHERE id = p_job_id;
  END IF;
  IF p_submit_key IS NOT NULL THEN
    PERFORM log_job_event(p_job_id, 'submit_key', jsonb_build_object('key', p_submit_key));
  END IF;
  PERFORM log_job_event(p_job_id, 'provider_call', '{}'::jsonb);
END $$;
