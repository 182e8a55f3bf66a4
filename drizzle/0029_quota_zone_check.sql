-- 0009's check of a quota's row, with its time zone looked up only when the zone is new to that quota.
-- pg_timezone_names reads the server's whole time zone database, about 40 ms a call here, and the trigger asked it on
-- every write of the row: each report of a provider's remaining posts (report_job_quota, once per publish, 45 ms a
-- call holding that quota's row, so the next publish of the same account waited for it) and each quota synced when a
-- process starts (an upsert fires the insert and the update trigger: 74 ms a quota, under the migration lock, so
-- three workers starting together waited for each other's). Measured with pg_stat_statements over one
-- `npm run bench -- --only utilisation`: the trigger's lookup was the most expensive statement of the run.
-- A zone the row already has was checked when it was written; a new row, or a changed zone, is checked as before.
CREATE OR REPLACE FUNCTION validate_provider_quota()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM provider_quotas p WHERE p.name = NEW.name AND p.time_zone = NEW.time_zone) THEN
    IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.time_zone) THEN
      RAISE EXCEPTION 'provider_quotas.time_zone: unknown time zone "%" (quota %)', NEW.time_zone, NEW.name USING ERRCODE = '22023';
    END IF;
  END IF;
  IF NEW.window_kind = 'calendar' AND NEW.window_seconds > 86400 THEN
    RAISE EXCEPTION 'provider_quotas.window_seconds: a calendar window is a slice of a day (at most 86400) or a month (null); got % (quota %)',
      NEW.window_seconds, NEW.name USING ERRCODE = '22023';
  END IF;
  IF NEW.window_kind = 'moving' AND NEW.window_seconds IS NULL THEN
    RAISE EXCEPTION 'provider_quotas.window_seconds: a moving window needs its length (quota %)', NEW.name USING ERRCODE = '22023';
  END IF;
  RETURN NEW;
END $$;
