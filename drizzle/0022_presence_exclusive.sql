-- A process is present while it holds its presence key exclusively (pg_advisory_lock on its listener session).
-- Watchers now also wait on each peer's key in shared mode (src/gate/presence.ts), to hear of a death the moment the
-- session ends instead of at their next look: such a shared lock, granted for the instant between the death and its
-- release, must not count as the dead process being present. It also returns the dead process's key (worker): the
-- watch waits on the keys of the attempts still running, less these. Otherwise as 0018.
DROP FUNCTION take_lost_activities(integer);--> statement-breakpoint
CREATE FUNCTION take_lost_activities(p_lock_class integer)
RETURNS TABLE (job_id uuid, workflow_id text, token text, worker integer) LANGUAGE sql AS $$
  WITH lost AS (
    SELECT q.id, q.activity_token FROM automation_queue q
     WHERE q.activity_token IS NOT NULL AND q.status IN ('queued', 'processing')
       AND NOT EXISTS (
         SELECT 1 FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' AND l.objsubid = 2
            AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
            AND l.classid = p_lock_class::oid AND l.objid = q.activity_worker::oid)
     FOR UPDATE SKIP LOCKED
  ), taken AS (
    UPDATE automation_queue u SET activity_token = NULL
      FROM lost WHERE u.id = lost.id
    RETURNING u.id, u.workflow_id, u.activity_worker, lost.activity_token
  )
  SELECT t.id, t.workflow_id, t.activity_token, t.activity_worker
    FROM taken t, LATERAL log_job_event(t.id, 'worker_lost', jsonb_build_object('worker', t.activity_worker)) e;
$$;
