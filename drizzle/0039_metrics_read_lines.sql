-- A post's metrics reads wait in the line of the platform's read API (instagram_graph, the new tiktok_data, and
-- youtube_data), not its publishing line (src/config/providers.ts JOB_TYPES). Reads already enqueued keep the line
-- they were enqueued in (the read activity takes its line from the job's row).
ALTER TABLE "automation_queue" DROP CONSTRAINT "automation_queue_provider_check";--> statement-breakpoint
ALTER TABLE "automation_queue" ADD CONSTRAINT "automation_queue_provider_check" CHECK ("automation_queue"."api_provider" IN ('openai','veo3','instagram','tiktok','youtube','youtube_data','instagram_graph','tiktok_data','api_football','audio_fetch','assembly'));