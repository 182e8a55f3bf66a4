-- get_available_capacity: "waiting" now means jobs in the provider's line (their
-- activity waits for a slot); "planned" counts later steps already enqueued
-- (publishing jobs whose video is not rendered yet), which used to inflate it.
DROP FUNCTION IF EXISTS get_available_capacity(text);
--> statement-breakpoint
CREATE FUNCTION get_available_capacity(p_provider text)
RETURNS TABLE (provider text, max_concurrent integer, in_use integer, free integer, waiting integer, planned integer,
               min_start_interval_ms integer, last_start_at timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT l.provider, l.max_concurrent,
         u.in_use, greatest(l.max_concurrent - u.in_use, 0), w.waiting, w.planned,
         l.min_start_interval_ms, l.last_start_at
    FROM provider_limits l
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS in_use FROM provider_slots s
       WHERE s.provider = l.provider
         AND (s.lease_expires_at >= now() OR s.hold_until >= now())) u
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE q.waiting_since IS NOT NULL)::int AS waiting,
             count(*) FILTER (WHERE q.waiting_since IS NULL)::int AS planned
        FROM automation_queue q
       WHERE q.api_provider = l.provider AND q.status = 'queued') w
   WHERE l.provider = p_provider;
$$;
