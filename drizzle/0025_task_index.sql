-- KIE's callback names a task, and hear_callback (0019, 0024) found its jobs by reading automation_queue whole:
-- every job ever run, while holding the provider's lock (every grant and completion of that provider waits behind
-- it). Measured here with 200,000 finished jobs (about a year of this studio's work): 80 ms a callback for that
-- read alone, 100 ms for the whole call. Through this index: a fraction of a millisecond at any size.
CREATE INDEX "automation_queue_task_idx" ON "automation_queue" USING btree ("api_provider","provider_task_id") WHERE "automation_queue"."provider_task_id" IS NOT NULL;