CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash"),
	CONSTRAINT "api_tokens_role_check" CHECK ("api_tokens"."role" IN ('read','operator'))
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"token_id" uuid,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"target" text,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "automation_queue" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"priority" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"job_type" text NOT NULL,
	"job_config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"api_provider" text NOT NULL,
	"schedule_after" timestamp with time zone,
	"deadline" timestamp with time zone,
	"estimated_duration_seconds" integer NOT NULL,
	"attempts" smallint DEFAULT 0 NOT NULL,
	"max_attempts" smallint DEFAULT 3 NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"last_heartbeat_at" timestamp with time zone,
	"waiting_since" timestamp with time zone,
	"error" text,
	"cost" numeric(12, 4),
	"provider_task_id" text,
	"submit_attempted_at" timestamp with time zone,
	"result" jsonb,
	"workflow_id" text NOT NULL,
	"run_id" text,
	"step" text NOT NULL,
	"recommendation_id" uuid,
	"stuck_since" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "automation_queue_priority_check" CHECK ("automation_queue"."priority" IN ('P0','P1','P2','P3')),
	CONSTRAINT "automation_queue_status_check" CHECK ("automation_queue"."status" IN ('queued','processing','completed','failed','cancelled')),
	CONSTRAINT "automation_queue_provider_check" CHECK ("automation_queue"."api_provider" IN ('openai','veo3','instagram','tiktok','youtube')),
	CONSTRAINT "automation_queue_attempts_check" CHECK ("automation_queue"."attempts" >= 0 AND "automation_queue"."attempts" <= "automation_queue"."max_attempts")
);
--> statement-breakpoint
CREATE TABLE "competitive_recommendations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"priority" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"recommendation_type" text NOT NULL,
	"source" text DEFAULT 'manual' NOT NULL,
	"title" text NOT NULL,
	"target_player" text,
	"our_data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"job_config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"source_video_id" uuid,
	"urgency_deadline" timestamp with time zone,
	"schedule_after" timestamp with time zone,
	"dedupe_key" text,
	"workflow_id" text,
	"error" text,
	"published_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "competitive_recommendations_priority_check" CHECK ("competitive_recommendations"."priority" IN ('P0','P1','P2','P3')),
	CONSTRAINT "competitive_recommendations_status_check" CHECK ("competitive_recommendations"."status" IN ('pending','in_production','published','expired','failed','cancelled')),
	CONSTRAINT "competitive_recommendations_type_check" CHECK ("competitive_recommendations"."recommendation_type" IN ('counter_argument','trend_jump','player_spotlight','viral_response','bargain','breaking_news'))
);
--> statement-breakpoint
CREATE TABLE "competitive_videos" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"channel" text NOT NULL,
	"url" text NOT NULL,
	"title" text NOT NULL,
	"views" integer DEFAULT 0 NOT NULL,
	"viral_potential" real,
	"transcript" text,
	"analysis" jsonb,
	"players_mentioned" text[] DEFAULT '{}'::text[] NOT NULL,
	"ambiguous_names" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"published_at" timestamp with time zone,
	"processed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "competitive_videos_viral_range" CHECK ("competitive_videos"."viral_potential" IS NULL OR ("competitive_videos"."viral_potential" >= 0 AND "competitive_videos"."viral_potential" <= 10))
);
--> statement-breakpoint
CREATE TABLE "job_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" uuid,
	"recommendation_id" uuid,
	"event" text NOT NULL,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notifications_sent" (
	"event_key" text PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"delivered" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "players" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"team" text NOT NULL,
	"position" text NOT NULL,
	"price" numeric(6, 2) NOT NULL,
	"points" integer DEFAULT 0 NOT NULL,
	"recent_form" real DEFAULT 0 NOT NULL,
	"minutes" integer DEFAULT 0 NOT NULL,
	"injury_status" text DEFAULT 'fit' NOT NULL,
	"aliases" text[] DEFAULT '{}'::text[] NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "players_position_check" CHECK ("players"."position" IN ('GK','DEF','MID','FWD'))
);
--> statement-breakpoint
CREATE TABLE "provider_limits" (
	"provider" text PRIMARY KEY NOT NULL,
	"max_concurrent" integer NOT NULL,
	"min_start_interval_ms" integer NOT NULL,
	"start_margin_ms" integer DEFAULT 100 NOT NULL,
	"last_start_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provider_slots" (
	"job_id" uuid PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"granted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_expires_at" timestamp with time zone NOT NULL,
	"hold_until" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "automation_queue" ADD CONSTRAINT "automation_queue_recommendation_id_competitive_recommendations_id_fk" FOREIGN KEY ("recommendation_id") REFERENCES "public"."competitive_recommendations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "competitive_recommendations" ADD CONSTRAINT "competitive_recommendations_source_video_id_competitive_videos_id_fk" FOREIGN KEY ("source_video_id") REFERENCES "public"."competitive_videos"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_events" ADD CONSTRAINT "job_events_job_id_automation_queue_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."automation_queue"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_slots" ADD CONSTRAINT "provider_slots_job_id_automation_queue_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."automation_queue"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "automation_queue_workflow_step_key" ON "automation_queue" USING btree ("workflow_id","step");--> statement-breakpoint
CREATE INDEX "automation_queue_line_idx" ON "automation_queue" USING btree ("api_provider","status","priority","created_at");--> statement-breakpoint
CREATE INDEX "automation_queue_recommendation_idx" ON "automation_queue" USING btree ("recommendation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "competitive_recommendations_dedupe_key" ON "competitive_recommendations" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "competitive_recommendations_status_idx" ON "competitive_recommendations" USING btree ("status","priority");--> statement-breakpoint
CREATE UNIQUE INDEX "competitive_videos_url_key" ON "competitive_videos" USING btree ("url");--> statement-breakpoint
CREATE INDEX "job_events_job_idx" ON "job_events" USING btree ("job_id","id");--> statement-breakpoint
CREATE INDEX "job_events_event_idx" ON "job_events" USING btree ("event","created_at");--> statement-breakpoint
CREATE INDEX "provider_slots_provider_idx" ON "provider_slots" USING btree ("provider");