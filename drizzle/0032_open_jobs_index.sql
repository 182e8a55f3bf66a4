-- The dashboard's job list (queue_pending, queue_processing) and its calendar (queue_calendar_24h) ask for the open
-- jobs, queued or processing: no index served them all (queued_idx is queued only, running_idx leaves out the stuck
-- ones), so each poll read the whole table, twice, in parallel. With 200,000 finished jobs (a year) 48 ms of the
-- poll's 49 (bench history: 70 to 164 ms on our machines, target 100); through this index the two reads take
-- 0.06 ms. The index holds only the open rows: a few dozen, whatever the history.
CREATE INDEX "automation_queue_open_idx" ON "automation_queue" USING btree ("status") WHERE "automation_queue"."status" IN ('queued', 'processing');