-- How many reminders each review waiting for an editor has had (src/workers/approval-watch.ts). Written after its
-- reminder's message started, so a crash in between repeats a reminder (its message's key is the same) rather than
-- losing it. A row goes with its idea, and is dropped once its review no longer waits.
CREATE TABLE "approval_reminders" (
	"review_id" text PRIMARY KEY NOT NULL,
	"recommendation_id" uuid NOT NULL REFERENCES "competitive_recommendations"("id") ON DELETE CASCADE,
	"reminded" integer NOT NULL,
	"reminded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "approval_reminders_recommendation_idx" ON "approval_reminders" USING btree ("recommendation_id");