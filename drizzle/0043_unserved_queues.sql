-- A task queue no live worker serves, while it lasts: the API's worker watch announces the outage once (after
-- NOTIFY_NO_WORKER_AFTER_MS) and its end once, whichever API process sees it (src/notifications/worker-watch.ts).
CREATE TABLE "unserved_queues" (
	"task_queue" text PRIMARY KEY NOT NULL,
	"since" timestamp with time zone DEFAULT now() NOT NULL,
	"announced_at" timestamp with time zone
);
