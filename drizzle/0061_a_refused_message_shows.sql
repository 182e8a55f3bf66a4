-- A webhook that refuses our messages (a revoked or rotated Slack/Discord URL, a bad payload) failed each message's
-- workflow for good, seen only in Temporal's Web UI: from then on every alert (stuck, failed, quota spent) was lost,
-- and nothing said so. A refused delivery is now kept on its row (not delivered, refused_at, why), and the dashboard
-- shows the channel's refusals until a later message on it is delivered (the URL fixed) or it is delivered itself.
ALTER TABLE notifications_sent ADD COLUMN refused_at timestamptz;
--> statement-breakpoint
ALTER TABLE notifications_sent ADD COLUMN refused_reason text;
--> statement-breakpoint
ALTER TABLE notifications_sent ADD COLUMN message text;
--> statement-breakpoint
-- The dashboard reads the few refused ones, not every message ever sent.
CREATE INDEX notifications_sent_refused_idx ON notifications_sent (refused_at) WHERE refused_at IS NOT NULL AND NOT delivered;
--> statement-breakpoint
-- ... and a channel's last delivery, which ends its alert.
CREATE INDEX notifications_sent_channel_delivered_idx ON notifications_sent (channel, delivered_at);
