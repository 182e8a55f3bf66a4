-- The line's tables are queues: every job's row is updated a dozen times on its way through, and each update leaves
-- a dead version (and dead entries in the partial indexes the line reads: in_line, activity). The readers that run
-- every second while a backlog only waits (call_up_jobs, take_lost_activities, mark_stuck_jobs, the capacity
-- snapshot) step over every dead entry until a vacuum removes it. Measured (bench backlog, 10,000 parked, no vacuum
-- after the fill): take_lost_activities 26 ms and 11,900 buffer reads a call, call_up_jobs 30 ms, the capacity
-- snapshot 32 ms; a fresh table answers each in about a millisecond. PostgreSQL's default waits for 20 % of a
-- table to be dead (10,000 versions at 10,000 ideas) before vacuuming it; these tables are vacuumed at 1 % (or a
-- few hundred versions), at most once a minute (autovacuum_naptime), and analysed at 2 % so the plans follow the
-- line's growth. The small tables every grant and start updates are vacuumed as soon as they have dead versions.
ALTER TABLE "automation_queue" SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 500,
  autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 500);--> statement-breakpoint
ALTER TABLE "provider_slots" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 100);--> statement-breakpoint
ALTER TABLE "provider_limits" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 100);--> statement-breakpoint
ALTER TABLE "provider_quotas" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 100);--> statement-breakpoint

-- mark_stuck_jobs (every 5 s in each worker) read the whole table for its few running jobs: 7.7 ms a call with
-- 10,000 waiting, vacuumed. The running jobs not yet marked stuck, apart.
CREATE INDEX "automation_queue_running_idx" ON "automation_queue" USING btree ("started_at") WHERE "automation_queue"."status" = 'processing' AND "automation_queue"."stuck_since" IS NULL;
