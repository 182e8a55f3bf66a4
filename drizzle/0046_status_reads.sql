-- Calls a job makes beyond its priced cost, on a quota charged per call: YouTube's status reads (videos.list, 1 unit
-- each, every 5 s while a Short processes: about 24 a post) went uncounted, so near the 10,000 a day Google refused
-- first. Each read is now added to the job's latest take of its per-call quotas (units, requests): counted in the
-- same window as the take, given back with it if the take is refunded.
CREATE OR REPLACE FUNCTION spend_quota(p_job_id uuid, p_units numeric)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE quota_usage u SET units = u.units + p_units
    FROM provider_quotas q
   WHERE u.job_id = p_job_id AND q.name = u.quota AND q.unit IN ('units', 'requests')
     AND u.take = (SELECT max(v.take) FROM quota_usage v WHERE v.quota = u.quota AND v.job_id = p_job_id);
END $$;
--> statement-breakpoint

-- A provider's quota refusal gives back the job's latest take (the refused call spent nothing), except a per-call
-- quota's take already spent by the call that made the job's task: a status read refused with quotaExceeded while a
-- YouTube upload processes gave back the upload's 1,600 units, which Google had charged. Posts and credits as before
-- (Instagram refuses the publish of a container it made: that post was never counted).
CREATE OR REPLACE FUNCTION park_quota_for_job(p_job_id uuid, p_until timestamptz, p_reason text)
RETURNS TABLE (quota text, parked_until timestamptz)
LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  DELETE FROM quota_usage u USING provider_quotas pq
   WHERE u.job_id = p_job_id AND pq.name = u.quota
     AND u.take = (SELECT max(v.take) FROM quota_usage v WHERE v.quota = u.quota AND v.job_id = p_job_id)
     AND (pq.unit NOT IN ('units', 'requests') OR job.provider_task_id IS NULL);
  PERFORM log_job_event(p_job_id, 'quota_parked', jsonb_build_object('reason', p_reason, 'until', p_until));
  RETURN QUERY
  UPDATE provider_quotas q
     SET parked_until = greatest(coalesce(q.parked_until, '-infinity'),
                                 coalesce(p_until, quota_reset_at(q, clock_timestamp()),
                                          clock_timestamp() + make_interval(secs => coalesce(q.window_seconds, 86400)))),
         parked_reason = p_reason, updated_at = now(),
         -- A moving window's reading is what made (or confirmed) the park; past it, the next post reads afresh.
         reported_at = CASE WHEN q.window_kind = 'moving' THEN NULL ELSE q.reported_at END
   WHERE q.account = job_account(job)
     AND EXISTS (SELECT 1 FROM quota_costs c WHERE c.quota = q.name AND c.job_type = job.job_type AND c.units > 0)
  RETURNING q.name, q.parked_until;
END $$;
