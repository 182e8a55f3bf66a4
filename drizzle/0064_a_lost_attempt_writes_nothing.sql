-- An attempt taken as lost (its process's presence lock gone, drizzle/0018) is named on its row as lost, not erased:
-- its token becomes 'lost:<token>' (a task token is base64: no ':'). Erased (NULL), the row named no attempt, and
-- 0059's fence lets any attempt write to a row naming none: an attempt whose process was alive after all (its
-- listener's session dropped and came back on a new key) could still fail its job (freeing the slot its retry is
-- about to resume: the next render granted beside it, past the cap) or mark a paid submit, until the retry marked the
-- row. Now every write fenced on an attempt's token is refused (RF409) once its row is taken, and the retry's mark
-- names the row again. Its arm goes too (armed_submit_key): a grant never claims a start for an attempt taken as
-- lost. The watch's other reads treat a lost row as naming no attempt (src/gate/presence.ts, src/gate/slot-gate.ts).
CREATE OR REPLACE FUNCTION take_lost_activities(p_lock_class integer)
RETURNS TABLE (job_id uuid, workflow_id text, token text, worker integer) LANGUAGE sql AS $$
  WITH lost AS (
    SELECT q.id, q.activity_token FROM automation_queue q
     WHERE q.activity_token IS NOT NULL AND q.activity_token NOT LIKE 'lost:%' AND q.status IN ('queued', 'processing')
       AND NOT EXISTS (
         SELECT 1 FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' AND l.objsubid = 2
            AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
            AND l.classid = p_lock_class::oid AND l.objid = q.activity_worker::oid)
     FOR UPDATE SKIP LOCKED
  ), taken AS (
    UPDATE automation_queue u SET activity_token = 'lost:' || lost.activity_token, armed_submit_key = NULL
      FROM lost WHERE u.id = lost.id
    RETURNING u.id, u.workflow_id, u.activity_worker, lost.activity_token
  )
  SELECT t.id, t.workflow_id, t.activity_token, t.activity_worker
    FROM taken t, LATERAL log_job_event(t.id, 'worker_lost', jsonb_build_object('worker', t.activity_worker)) e;
$$;