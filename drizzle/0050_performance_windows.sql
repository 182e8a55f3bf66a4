-- Two figures of content_performance were not what they said.
-- views_24h (views_7d) took the first reading at or past +24 h (+7 d): where the +24 h read was missing (its quota
-- spent that day, or skipped as overdue in a series adopted days late), the +72 h reading stood in as "+24 h", and
-- what the engine learns from (loadPerformanceSamples) took a day-3 count for a day-1 one. A reading now counts for
-- an age only under twice that age (with the default reads, exactly +24 h and +7 d); none: null, "not read".
-- spend_share: one video posted on N platforms cost its renders once: each post carries 1/N of it, so a report by
-- platform sums to what was spent (each platform's row carried the whole video's cost: spend counted N times).
CREATE OR REPLACE VIEW content_performance AS
WITH posts AS (
  SELECT DISTINCT ON (platform, post_id) recommendation_id, platform, post_id, published_at
  FROM post_metrics
  ORDER BY platform, post_id, read_at DESC
),
measured AS (
  SELECT p.*,
    (SELECT m.views FROM post_metrics m WHERE m.platform = p.platform AND m.post_id = p.post_id
       AND m.age_seconds >= 86400 AND m.age_seconds < 2 * 86400 ORDER BY m.age_seconds LIMIT 1) AS views_24h,
    (SELECT m.views FROM post_metrics m WHERE m.platform = p.platform AND m.post_id = p.post_id
       AND m.age_seconds >= 604800 AND m.age_seconds < 2 * 604800 ORDER BY m.age_seconds LIMIT 1) AS views_7d,
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
  coalesce(s.spend, 0) / nullif(sum(x.views_latest) OVER (PARTITION BY r.id), 0) AS spend_per_view,
  coalesce(s.spend, 0) / count(*) OVER (PARTITION BY r.id) AS spend_share
FROM measured x
JOIN competitive_recommendations r ON r.id = x.recommendation_id
LEFT JOIN spend s ON s.recommendation_id = r.id;
