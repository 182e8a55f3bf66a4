ALTER TABLE "automation_queue" ADD COLUMN "activity_worker" integer;--> statement-breakpoint
ALTER TABLE "automation_queue" ADD COLUMN "activity_token" text;--> statement-breakpoint
CREATE INDEX "automation_queue_activity_idx" ON "automation_queue" USING btree ("activity_worker") WHERE "automation_queue"."activity_token" IS NOT NULL AND "automation_queue"."status" IN ('queued', 'processing');--> statement-breakpoint

-- Activity attempts whose worker process is gone from PostgreSQL: the advisory lock it holds on its listener
-- session (src/gate/presence.ts) is released the moment that session ends, which a killed process's does at once
-- (the kernel closes its sockets). Each such attempt is taken once (its token cleared), for the caller to fail at
-- Temporal: the retry then resumes the job on a live process within seconds, not at the heartbeat timeout.
CREATE OR REPLACE FUNCTION take_lost_activities(p_lock_class integer)
RETURNS TABLE (job_id uuid, workflow_id text, token text) LANGUAGE sql AS $$
  WITH lost AS (
    SELECT q.id, q.activity_token FROM automation_queue q
     WHERE q.activity_token IS NOT NULL AND q.status IN ('queued', 'processing')
       AND NOT EXISTS (
         SELECT 1 FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
            AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
            AND l.classid = p_lock_class::oid AND l.objid = q.activity_worker::oid)
     FOR UPDATE SKIP LOCKED
  ), taken AS (
    UPDATE automation_queue u SET activity_token = NULL
      FROM lost WHERE u.id = lost.id
    RETURNING u.id, u.workflow_id, u.activity_worker, lost.activity_token
  )
  SELECT t.id, t.workflow_id, t.activity_token
    FROM taken t, LATERAL log_job_event(t.id, 'worker_lost', jsonb_build_object('worker', t.activity_worker)) e;
$$;
