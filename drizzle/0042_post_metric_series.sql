-- Each post's metrics series as it was started: its timers' schedule (REELFLOW_METRICS_READS, REELFLOW_METRICS_HOUR_MS),
-- so a report can say when a post nobody has read yet will be read, on the workers' clock. The performance panel
-- and the CLI said "an hour after publishing" for the demo too, where an hour of a post's age takes a second.
CREATE TABLE "post_metric_series" (
	"platform" text NOT NULL,
	"post_id" text NOT NULL,
	"recommendation_id" uuid NOT NULL,
	"published_at" timestamp with time zone NOT NULL,
	"reads_seconds" integer[] NOT NULL,
	"hour_ms" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "post_metric_series" ADD CONSTRAINT "post_metric_series_recommendation_id_competitive_recommendations_id_fk" FOREIGN KEY ("recommendation_id") REFERENCES "public"."competitive_recommendations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "post_metric_series_post_key" ON "post_metric_series" USING btree ("platform","post_id");--> statement-breakpoint
CREATE INDEX "post_metric_series_recommendation_idx" ON "post_metric_series" USING btree ("recommendation_id");