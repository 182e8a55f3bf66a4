-- 0021's return_to_line, which no longer sends back a job taken as lost (0064): it erased the row's token, so the
-- row named no attempt again and every fence let the lost attempt (its process alive, its listener's session dropped,
-- its lease heartbeat still running on the pool) write: its start, its failure, its completion.
CREATE OR REPLACE FUNCTION return_to_line(p_job_ids uuid[])
RETURNS SETOF uuid LANGUAGE plpgsql AS $$
DECLARE
  prov text;
  keep uuid[];
BEGIN
  FOR prov IN SELECT DISTINCT q.api_provider FROM automation_queue q
               WHERE q.id = ANY (p_job_ids) AND q.returnable AND NOT q.parked AND q.status = 'queued' LOOP
    -- The grant's lock: no slot can be granted to one of these between the check and the update.
    PERFORM lock_providers(ARRAY[prov]);
    keep := ARRAY(
      SELECT q.id FROM automation_queue q
       WHERE q.api_provider = prov AND q.status = 'queued' AND q.waiting_since IS NOT NULL AND in_line(q)
       ORDER BY q.priority, q.created_at, q.id
       LIMIT hot_line_size(prov) + 2);
    RETURN QUERY
      WITH back AS (
        UPDATE automation_queue u
           SET parked = true, called_up_at = NULL, activity_worker = NULL, activity_token = NULL, updated_at = now()
         WHERE u.id = ANY (p_job_ids) AND u.api_provider = prov AND u.returnable AND NOT u.parked
           AND u.status = 'queued' AND u.waiting_since IS NOT NULL AND u.id <> ALL (keep)
           -- Taken as lost (0064): its token stays named lost until the retry marks it (erased, the fences let the
           -- lost attempt write again); the retry's own wait sends it back if it is still passed then.
           AND (u.activity_token IS NULL OR u.activity_token NOT LIKE 'lost:%')
           AND NOT EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = u.id)
        RETURNING u.id)
      SELECT b.id FROM back b, LATERAL log_job_event(b.id, 'returned_to_line', '{}'::jsonb) e;
  END LOOP;
END $$;
--> statement-breakpoint
-- The metrics watch reads the series of the posts published in its window (src/workers/metrics-watch.ts).
CREATE INDEX "post_metric_series_published_idx" ON "post_metric_series" USING btree ("published_at");