-- A quota the provider said is spent (KIE's credits at 402, a platform's daily posts, YouTube's bot check on our
-- downloads) parks every job it prices, and they wait in line: the dashboard's badge, `reelflow capacity` and the
-- reelflow_quota_parked metric showed it to whoever looked, and nobody was told. Prepaid credits running out stopped
-- every render until a P0's deadline passed (its first message: "expired", a day later) or, for a P3, for weeks. Now
-- each park is told to the team once (event `quota_parked`): the workers' quota watch takes the parks not yet told.
-- One park is one episode however often it is re-parked: a park re-checked every 5 minutes (credits) or 30 (a bot
-- check) keeps its start while it is parked again within an hour of its last end.
ALTER TABLE provider_quotas ADD COLUMN parked_since timestamptz;
--> statement-breakpoint
ALTER TABLE provider_quotas ADD COLUMN park_told_at timestamptz;
--> statement-breakpoint
-- A park in force as this lands is told too (a platform's daily cap parked until midnight is not parked again before).
UPDATE provider_quotas SET parked_since = updated_at WHERE parked_until > now();
--> statement-breakpoint

-- As in 0009, and the park's start kept across re-parks.
CREATE OR REPLACE FUNCTION park_quota_for_job(p_job_id uuid, p_until timestamptz, p_reason text)
RETURNS TABLE (quota text, parked_until timestamptz)
LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  PERFORM refund_quota(p_job_id, true);
  PERFORM log_job_event(p_job_id, 'quota_parked', jsonb_build_object('reason', p_reason, 'until', p_until));
  RETURN QUERY
  UPDATE provider_quotas q
     SET parked_until = greatest(coalesce(q.parked_until, '-infinity'),
                                 coalesce(p_until, quota_reset_at(q, clock_timestamp()),
                                          clock_timestamp() + make_interval(secs => coalesce(q.window_seconds, 86400)))),
         parked_since = CASE WHEN q.parked_since IS NULL OR q.parked_until IS NULL
                                  OR q.parked_until < clock_timestamp() - interval '1 hour'
                             THEN clock_timestamp() ELSE q.parked_since END,
         parked_reason = p_reason, updated_at = now(),
         -- A moving window's reading is what made (or confirmed) the park; past it, the next post reads afresh.
         reported_at = CASE WHEN q.window_kind = 'moving' THEN NULL ELSE q.reported_at END
   WHERE q.account = job_account(job)
     AND EXISTS (SELECT 1 FROM quota_costs c WHERE c.quota = q.name AND c.job_type = job.job_type AND c.units > 0)
  RETURNING q.name, q.parked_until;
END $$;
--> statement-breakpoint

-- The parks in force not yet told, marked told; with how many open jobs the quota prices (its account's) wait meanwhile. A process whose
-- message could not be started unmarks its park (park_told_at NULL), so the next round tells it.
CREATE OR REPLACE FUNCTION take_untold_parks()
RETURNS TABLE (quota text, provider text, parked_since timestamptz, parked_until timestamptz, parked_reason text, waiting integer)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  UPDATE provider_quotas q SET park_told_at = clock_timestamp()
   WHERE q.parked_until > clock_timestamp() AND q.parked_since IS NOT NULL
     AND (q.park_told_at IS NULL OR q.park_told_at < q.parked_since)
  RETURNING q.name, q.provider, q.parked_since, q.parked_until, q.parked_reason,
            (SELECT count(*)::int FROM automation_queue a
              WHERE a.status IN ('queued', 'processing') AND a.api_provider = q.provider AND job_account(a) = q.account
                AND EXISTS (SELECT 1 FROM quota_costs c WHERE c.quota = q.name AND c.job_type = a.job_type AND c.units > 0));
END $$;
