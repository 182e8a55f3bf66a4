-- A spent quota's park is marked told once its message started, not as it is read (take_untold_parks, 0060, marked
-- first: a worker killed between the mark and the start lost the message for good). The message's key is the park's
-- (its provider and start), so two workers reading the same park, or a round repeated after a crash, start one.
DROP FUNCTION IF EXISTS take_untold_parks();
--> statement-breakpoint
-- The parks in force not yet told; with how many open jobs the quota prices (its account's) wait meanwhile.
CREATE OR REPLACE FUNCTION untold_parks()
RETURNS TABLE (quota text, provider text, parked_since timestamptz, parked_until timestamptz, parked_reason text, waiting integer)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN QUERY
  SELECT q.name, q.provider, q.parked_since, q.parked_until, q.parked_reason,
         (SELECT count(*)::int FROM automation_queue a
           WHERE a.status IN ('queued', 'processing') AND a.api_provider = q.provider AND job_account(a) = q.account
             AND EXISTS (SELECT 1 FROM quota_costs c WHERE c.quota = q.name AND c.job_type = a.job_type AND c.units > 0))
    FROM provider_quotas q
   WHERE q.parked_until > clock_timestamp() AND q.parked_since IS NOT NULL
     AND (q.park_told_at IS NULL OR q.park_told_at < q.parked_since);
END $$;
--> statement-breakpoint
-- The parks told: each quota still in the park read (its parked_since, to the millisecond a JavaScript Date keeps), so
-- a park begun since is told in its turn.
CREATE OR REPLACE FUNCTION mark_parks_told(p_quotas text[], p_since timestamptz[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE provider_quotas q SET park_told_at = clock_timestamp()
    FROM unnest(p_quotas, p_since) AS t(quota, since)
   WHERE q.name = t.quota AND date_trunc('milliseconds', q.parked_since) = date_trunc('milliseconds', t.since);
END $$;