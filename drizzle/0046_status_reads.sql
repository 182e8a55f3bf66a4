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
