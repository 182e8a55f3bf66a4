-- The answers an attempt of a job was paid for, one row a part (a long transcript's analysis piece, keyed by the
-- sha256 of its text): the next attempt of the job asks only for the parts missing (src/activities/competitor.ts).
-- Gone with the job.
CREATE TABLE "job_parts" (
	"job_id" uuid NOT NULL,
	"part" text NOT NULL,
	"answer" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "job_parts_job_id_part_pk" PRIMARY KEY("job_id","part")
);
--> statement-breakpoint
ALTER TABLE "job_parts" ADD CONSTRAINT "job_parts_job_id_automation_queue_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."automation_queue"("id") ON DELETE cascade ON UPDATE no action;