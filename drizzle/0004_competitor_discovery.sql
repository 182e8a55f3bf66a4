CREATE TABLE "competitor_channels" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"platform" text NOT NULL,
	"external_id" text NOT NULL,
	"handle" text,
	"display_name" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"last_checked_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"newest_video_id" text,
	"newest_video_at" timestamp with time zone,
	"videos_found" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "competitor_channels_platform_check" CHECK ("competitor_channels"."platform" IN ('youtube','instagram','manual'))
);
--> statement-breakpoint
CREATE TABLE "fixtures" (
	"id" integer PRIMARY KEY NOT NULL,
	"kickoff_at" timestamp with time zone NOT NULL,
	"round" text,
	"home_team" text NOT NULL,
	"away_team" text NOT NULL,
	"status" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "player_sync_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"season" integer NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"players_read" integer DEFAULT 0 NOT NULL,
	"matched" integer DEFAULT 0 NOT NULL,
	"unmatched" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "automation_queue" DROP CONSTRAINT "automation_queue_provider_check";--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD COLUMN "status" text DEFAULT 'analysed' NOT NULL;--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD COLUMN "status_reason" text;--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD COLUMN "platform" text;--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD COLUMN "external_id" text;--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD COLUMN "channel_id" uuid;--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD COLUMN "duration_seconds" real;--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD COLUMN "audio_sha256" text;--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD COLUMN "transcript_segments" jsonb;--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD COLUMN "view_history" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD COLUMN "view_velocity" real;--> statement-breakpoint
ALTER TABLE "players" ADD COLUMN "api_football_id" integer;--> statement-breakpoint
ALTER TABLE "players" ADD COLUMN "rating" real;--> statement-breakpoint
ALTER TABLE "players" ADD COLUMN "appearances" integer;--> statement-breakpoint
ALTER TABLE "players" ADD COLUMN "goals" integer;--> statement-breakpoint
ALTER TABLE "players" ADD COLUMN "assists" integer;--> statement-breakpoint
ALTER TABLE "players" ADD COLUMN "injury_reason" text;--> statement-breakpoint
ALTER TABLE "players" ADD COLUMN "photo_url" text;--> statement-breakpoint
ALTER TABLE "players" ADD COLUMN "stats_updated_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "competitor_channels_platform_external_key" ON "competitor_channels" USING btree ("platform","external_id");--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD CONSTRAINT "competitive_videos_channel_id_competitor_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."competitor_channels"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "competitive_videos_channel_idx" ON "competitive_videos" USING btree ("channel_id");--> statement-breakpoint
CREATE UNIQUE INDEX "players_api_football_id_key" ON "players" USING btree ("api_football_id");--> statement-breakpoint
ALTER TABLE "automation_queue" ADD CONSTRAINT "automation_queue_provider_check" CHECK ("automation_queue"."api_provider" IN ('openai','veo3','instagram','tiktok','youtube','youtube_data','instagram_graph','api_football','audio_fetch'));--> statement-breakpoint
ALTER TABLE "competitive_videos" ADD CONSTRAINT "competitive_videos_status_check" CHECK ("competitive_videos"."status" IN ('analysed','unavailable','too_long'));