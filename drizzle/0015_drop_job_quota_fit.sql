-- 0009's job_quota_fit fed only 0009's take_quota, which 0012 rewrote to read each quota once without it:
-- nothing calls it since, so it goes rather than be mistaken for the grant path.
DROP FUNCTION IF EXISTS job_quota_fit(automation_queue, timestamptz);
