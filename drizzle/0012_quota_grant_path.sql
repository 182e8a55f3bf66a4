-- Quotas, measured on a quiet machine (npm run bench -- --only utilisation,quota):
--
-- 1. A moving window's unit was counted from the grant, but the platform counts
--    a post from its publish, seconds later: our window freed a unit before the
--    platform's did, and posts were refused. A completed job's units now count
--    from its completion, so our window never frees before the provider's.
-- 2. The grant computed every quota's state twice, reset time included, for
--    each head of line: a few milliseconds on every slot hand-over. take_quota
--    now reads each quota once and only what the decision needs.

-- Units spent in the window holding p_at, and the limit (provider readings
-- reconciled as in quota_state, which adds the reset time for display).
CREATE OR REPLACE FUNCTION quota_use(q provider_quotas, p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (used numeric, quota_limit numeric)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  since timestamptz := quota_window_start(q, p_at);
  ours numeric;
  reported numeric;
  lim numeric := q.quota_limit;
BEGIN
  SELECT coalesce(sum(u.units), 0) INTO ours FROM quota_usage u WHERE u.quota = q.name AND u.used_at > since AND u.used_at <= p_at;
  -- A reading of a moving window goes stale as posts leave it (when, the reading does not say): it counts
  -- for 15 minutes, after which the next job's own reading (taken before it posts) renews it.
  IF q.reported_at IS NOT NULL AND q.reported_at > since AND q.reported_remaining IS NOT NULL
     AND (q.window_kind = 'calendar' OR q.reported_at > p_at - interval '15 minutes') THEN
    lim := least(lim, coalesce(q.reported_limit, lim));
    SELECT coalesce(q.reported_limit, q.quota_limit) - q.reported_remaining + coalesce(sum(u.units), 0) INTO reported
      FROM quota_usage u WHERE u.quota = q.name AND u.used_at > q.reported_at AND u.used_at <= p_at;
  END IF;
  used := greatest(ours, coalesce(reported, 0));
  quota_limit := lim;
  RETURN NEXT;
END $$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION quota_state(q provider_quotas, p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (used numeric, quota_limit numeric, reset_at timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT u.used, u.quota_limit, quota_reset_at(q, p_at) FROM quota_use(q, p_at) u;
$$;
--> statement-breakpoint

-- Called by grant_slots for the head of a line: takes the job's units from
-- every quota pricing it and returns '{}', or, when the cost does not fit,
-- takes nothing and returns the quotas it does not fit. Quota rows are locked
-- in name order: one quota may price job types of two providers (YouTube's units).
CREATE OR REPLACE FUNCTION take_quota(p_job_id uuid)
RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  q provider_quotas;
  cost numeric;
  use record;
  allowed numeric;
  short text[] := '{}';
  taking text[] := '{}';
  units numeric[] := '{}';
BEGIN
  SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  FOR q IN
    SELECT pq.* FROM provider_quotas pq JOIN quota_costs c ON c.quota = pq.name
     WHERE c.job_type = job.job_type AND c.units > 0 AND pq.account = job_account(job)
     ORDER BY pq.name FOR UPDATE OF pq
  LOOP
    -- A retried job already took its units (they count in use): it fits as it did.
    CONTINUE WHEN EXISTS (SELECT 1 FROM quota_usage u WHERE u.quota = q.name AND u.job_id = p_job_id);
    IF q.parked_until > clock_timestamp() THEN
      short := short || q.name;
      CONTINUE;
    END IF;
    SELECT c.units INTO cost FROM quota_costs c WHERE c.quota = q.name AND c.job_type = job.job_type;
    SELECT * INTO use FROM quota_use(q);
    -- P2/P3 may use only the low-priority share (the rest is the reserve for urgent work).
    allowed := use.quota_limit * (CASE WHEN job.priority IN ('P2', 'P3') THEN q.low_priority_share ELSE 1 END);
    IF use.used + cost > allowed THEN
      short := short || q.name;
      CONTINUE;
    END IF;
    taking := taking || q.name;
    units := units || CASE WHEN q.unit = 'credits' THEN coalesce(job.cost, cost) ELSE cost END;
  END LOOP;
  IF cardinality(short) > 0 THEN
    RETURN short;
  END IF;
  INSERT INTO quota_usage (quota, job_id, units, used_at)
  SELECT t.quota, p_job_id, t.units, clock_timestamp() FROM unnest(taking, units) AS t(quota, units)
  ON CONFLICT (quota, job_id) DO NOTHING;
  RETURN '{}';
END $$;
--> statement-breakpoint

-- A post counts at the platform from its publish: a completed job's units in a
-- moving window count from its completion.
CREATE OR REPLACE FUNCTION quota_usage_at_completion()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE quota_usage u SET used_at = clock_timestamp()
    FROM provider_quotas q
   WHERE u.job_id = NEW.id AND q.name = u.quota AND q.window_kind = 'moving';
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER automation_queue_completed_to_quota AFTER UPDATE OF status ON automation_queue
  FOR EACH ROW WHEN (NEW.status = 'completed' AND OLD.status IS DISTINCT FROM 'completed') EXECUTE FUNCTION quota_usage_at_completion();
