-- The dashboard polls every 1.5 s per open tab. Its provider panels counted the last 24 hours by reading every job
-- the provider ever ran, and the ETA's run times read the whole table for the last hour: with 200,000 finished jobs
-- (about a year of this studio's work) 0.4-0.7 s a poll, most of it PostgreSQL's. Through these indexes, 0.04-0.08 s
-- (src/api/stats.ts reads only open jobs and those started or ended in the last 24 hours; the total cost, every job
-- ever, only for reports and metrics). queued_idx: the ETA's walk of the lines in priority order, open jobs only.
CREATE INDEX "automation_queue_completed_idx" ON "automation_queue" USING btree ("api_provider","completed_at");--> statement-breakpoint
CREATE INDEX "automation_queue_started_idx" ON "automation_queue" USING btree ("api_provider","started_at");--> statement-breakpoint
CREATE INDEX "automation_queue_queued_idx" ON "automation_queue" USING btree ("priority","created_at","id") WHERE "automation_queue"."status" = 'queued';