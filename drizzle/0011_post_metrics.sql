CREATE TABLE "post_metrics" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"recommendation_id" uuid NOT NULL,
	"platform" text NOT NULL,
	"post_id" text NOT NULL,
	"published_at" timestamp with time zone NOT NULL,
	"read_at" timestamp with time zone NOT NULL,
	"age_seconds" integer NOT NULL,
	"age_bucket" text NOT NULL,
	"views" bigint,
	"reach" bigint,
	"likes" bigint,
	"comments" bigint,
	"shares" bigint,
	"saves" bigint,
	"interactions" bigint,
	"job_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "post_metrics_platform_check" CHECK ("post_metrics"."platform" IN ('instagram','tiktok','youtube'))
);
--> statement-breakpoint
ALTER TABLE "post_metrics" ADD CONSTRAINT "post_metrics_recommendation_id_competitive_recommendations_id_fk" FOREIGN KEY ("recommendation_id") REFERENCES "public"."competitive_recommendations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "post_metrics_post_age_key" ON "post_metrics" USING btree ("platform","post_id","age_seconds");--> statement-breakpoint
CREATE INDEX "post_metrics_recommendation_idx" ON "post_metrics" USING btree ("recommendation_id");--> statement-breakpoint
CREATE INDEX "post_metrics_read_at_idx" ON "post_metrics" USING btree ("read_at");--> statement-breakpoint

-- How each published video does, one row per recommendation and platform it was posted on:
-- views at +24 h and +7 d are the first reading taken at or after that age (null until it is taken,
-- so a young post never counts as a flop), the latest reading, and the recommendation's spend
-- (the cost recorded on its jobs: KIE credits of its renders) per view across all its platforms.
CREATE OR REPLACE VIEW content_performance AS
WITH posts AS (
  SELECT DISTINCT ON (recommendation_id, platform) recommendation_id, platform, post_id, published_at
  FROM post_metrics
  ORDER BY recommendation_id, platform, read_at DESC
),
measured AS (
  SELECT p.*,
    (SELECT m.views FROM post_metrics m WHERE m.platform = p.platform AND m.post_id = p.post_id
       AND m.age_seconds >= 86400 ORDER BY m.age_seconds LIMIT 1) AS views_24h,
    (SELECT m.views FROM post_metrics m WHERE m.platform = p.platform AND m.post_id = p.post_id
       AND m.age_seconds >= 604800 ORDER BY m.age_seconds LIMIT 1) AS views_7d,
    latest.views AS views_latest, latest.likes AS likes_latest, latest.comments AS comments_latest,
    latest.shares AS shares_latest, latest.interactions AS interactions_latest,
    latest.read_at AS last_read_at, latest.age_bucket AS last_age_bucket,
    (SELECT count(*) FROM post_metrics m WHERE m.platform = p.platform AND m.post_id = p.post_id) AS readings
  FROM posts p
  CROSS JOIN LATERAL (
    SELECT * FROM post_metrics m WHERE m.platform = p.platform AND m.post_id = p.post_id ORDER BY m.age_seconds DESC LIMIT 1
  ) latest
),
spend AS (
  SELECT recommendation_id, sum(cost) AS spend FROM automation_queue WHERE recommendation_id IS NOT NULL GROUP BY recommendation_id
)
SELECT
  r.id AS recommendation_id,
  r.recommendation_type,
  r.target_player,
  r.title,
  r.priority,
  r.published_at AS recommendation_published_at,
  x.platform,
  x.post_id,
  x.published_at,
  x.views_24h,
  x.views_7d,
  x.views_latest,
  x.likes_latest,
  x.comments_latest,
  x.shares_latest,
  x.interactions_latest,
  x.last_read_at,
  x.last_age_bucket,
  x.readings,
  coalesce(s.spend, 0) AS spend,
  coalesce(s.spend, 0) / nullif(sum(x.views_latest) OVER (PARTITION BY r.id), 0) AS spend_per_view
FROM measured x
JOIN competitive_recommendations r ON r.id = x.recommendation_id
LEFT JOIN spend s ON s.recommendation_id = r.id;
