-- The reading a post's metrics series was last told as missing (src/workers/metrics-watch.ts): written once its message
-- started, so each missed reading of a post is told once (a later one missed is told again).
ALTER TABLE "post_metric_series" ADD COLUMN "behind_told_seconds" integer;