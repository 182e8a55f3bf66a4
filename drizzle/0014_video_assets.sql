CREATE TABLE "video_assets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"recommendation_id" uuid NOT NULL,
	"storage" text NOT NULL,
	"storage_key" text NOT NULL,
	"sha256" text NOT NULL,
	"bytes" bigint NOT NULL,
	"content_type" text NOT NULL,
	"duration_seconds" real NOT NULL,
	"kie_task_ids" text[] NOT NULL,
	"source_url" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "video_assets_storage_check" CHECK ("video_assets"."storage" IN ('fs','s3')),
	CONSTRAINT "video_assets_bytes_check" CHECK ("video_assets"."bytes" > 0)
);
--> statement-breakpoint
ALTER TABLE "video_assets" ADD CONSTRAINT "video_assets_recommendation_id_competitive_recommendations_id_fk" FOREIGN KEY ("recommendation_id") REFERENCES "public"."competitive_recommendations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "video_assets_recommendation_key" ON "video_assets" USING btree ("recommendation_id");