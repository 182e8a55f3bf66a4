-- A job's quota units were taken once, at its first grant: a retried attempt "fitted as it did". But an attempt that
-- calls anew spends again. Quotas charged per call (unit 'units': YouTube's Data API; 'requests': API-Football): a
-- YouTube upload whose session expired opens a new one (videos.insert, 1,600 units more), a read retried after a 5xx is
-- another request. Credits: a render whose KIE task failed is discarded (KIE charged it), and `reelflow retry` pays
-- for a new one on the same job. Those spends were invisible to the gate, which then granted work Google refused
-- (quotaExceeded) or let a budget pass its limit. Now a grant of a job with no provider task to resume takes the cost
-- again, as a new row (its `take`), when its last take was spent since: a provider_call event (one per attempt that
-- reached its provider) for a per-call quota, a `discarded` task for credits, newer than the take's event_at_take.
-- That take must fit like any job and counts in the window it is spent in (a retry after midnight Pacific counts in
-- the new day); a refusal or a cancel before its call gives back that take only. Posts (Instagram and TikTok count
-- what is published) stay one take a job.
-- A render asking for the other model than the deployment's (an idea's `model: "veo3"` on veo3_fast) is granted at its
-- own price (job_config.credits, written at enqueue), not the deployment's: it fitted at 60 and was counted at 250.
DROP INDEX "quota_usage_quota_job_idx";--> statement-breakpoint
ALTER TABLE "quota_usage" ADD COLUMN "take" smallint DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "quota_usage" ADD COLUMN "event_at_take" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "quota_usage_quota_job_take_idx" ON "quota_usage" USING btree ("quota","job_id","take");--> statement-breakpoint

-- Whether a job spent a take made at its event `p_mark`: a per-call quota by any call since, credits by a paid task
-- given up since (a failed render; its retry pays for a new one). Posts never: a platform counts what is published.
-- PL/pgSQL, planned once a session: the grant calls it (0031).
CREATE OR REPLACE FUNCTION quota_spent_since(p_unit text, p_job_id uuid, p_mark bigint)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM job_events e
     WHERE e.job_id = p_job_id AND e.id > p_mark
       AND e.event = CASE p_unit WHEN 'units' THEN 'provider_call' WHEN 'requests' THEN 'provider_call'
                                 WHEN 'credits' THEN 'discarded' END);
END $$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION take_quota(p_job_id uuid)
RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  q provider_quotas;
  cost numeric;
  use record;
  allowed numeric;
  last quota_usage;
  mark bigint;
  short text[] := '{}';
  taking text[] := '{}';
  units numeric[] := '{}';
  takes smallint[] := '{}';
BEGIN
  SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  FOR q IN
    SELECT pq.* FROM provider_quotas pq JOIN quota_costs c ON c.quota = pq.name
     WHERE c.job_type = job.job_type AND c.units > 0 AND pq.account = job_account(job)
     ORDER BY pq.name FOR UPDATE OF pq
  LOOP
    last := NULL;
    SELECT * INTO last FROM quota_usage u WHERE u.quota = q.name AND u.job_id = p_job_id ORDER BY u.take DESC LIMIT 1;
    -- A retried job already took its units (they count in use): it fits as it did, unless it will spend them anew
    -- (no task to resume, and its last take was spent since: quota_spent_since).
    CONTINUE WHEN last.take IS NOT NULL AND (job.provider_task_id IS NOT NULL OR NOT quota_spent_since(q.unit, p_job_id, last.event_at_take));
    IF q.parked_until > clock_timestamp() THEN
      short := short || q.name;
      CONTINUE;
    END IF;
    SELECT c.units INTO cost FROM quota_costs c WHERE c.quota = q.name AND c.job_type = job.job_type;
    SELECT * INTO use FROM quota_use(q);
    -- P2/P3 may use only the low-priority share (the rest is the reserve for urgent work).
    allowed := use.quota_limit * (CASE WHEN job.priority IN ('P2', 'P3') THEN q.low_priority_share ELSE 1 END);
    -- Credits: the render's recorded cost, else its model's price when it asked for another model than the deployment's
    -- (job_config.credits, written at enqueue: a quality render was granted at veo3_fast's 60, then counted at 250).
    IF q.unit = 'credits' THEN
      cost := coalesce(job.cost, (job.job_config->>'credits')::numeric, cost);
    END IF;
    IF use.used + cost > allowed THEN
      short := short || q.name;
      CONTINUE;
    END IF;
    IF mark IS NULL THEN
      SELECT coalesce(max(e.id), 0) INTO mark FROM job_events e WHERE e.job_id = p_job_id;
    END IF;
    taking := taking || q.name;
    units := units || cost;
    takes := takes || (coalesce(last.take, 0) + 1)::smallint;
  END LOOP;
  IF cardinality(short) > 0 THEN
    RETURN short;
  END IF;
  INSERT INTO quota_usage (quota, job_id, units, used_at, take, event_at_take)
  SELECT t.quota, p_job_id, t.units, clock_timestamp(), t.take, mark FROM unnest(taking, units, takes) AS t(quota, units, take)
  ON CONFLICT (quota, job_id, take) DO NOTHING;
  RETURN '{}';
END $$;
--> statement-breakpoint

-- A job's latest take is given back when no call followed it (cancelled, expired, put back in line first), or when
-- the provider refused the call (p_even_if_called: a quota error; the refused call spent nothing) - except a per-call
-- quota's take spent by the call that made the job's task: a status read refused with quotaExceeded while a YouTube
-- upload processes would give back the upload's 1,600 units, which Google charged. Earlier takes were spent by calls
-- that were made. Posts and credits as before (Instagram refuses the publish of a container it made: never counted).
CREATE OR REPLACE FUNCTION refund_quota(p_job_id uuid, p_even_if_called boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_even_if_called THEN
    DELETE FROM quota_usage u USING provider_quotas pq, automation_queue j
     WHERE u.job_id = p_job_id AND pq.name = u.quota AND j.id = p_job_id
       AND u.take = (SELECT max(v.take) FROM quota_usage v WHERE v.quota = u.quota AND v.job_id = p_job_id)
       AND (pq.unit NOT IN ('units', 'requests') OR j.provider_task_id IS NULL);
  ELSE
    DELETE FROM quota_usage u
     WHERE u.job_id = p_job_id
       AND u.take = (SELECT max(v.take) FROM quota_usage v WHERE v.quota = u.quota AND v.job_id = p_job_id)
       AND NOT EXISTS (
             SELECT 1 FROM job_events e WHERE e.job_id = p_job_id AND e.event = 'provider_call' AND e.id > u.event_at_take);
  END IF;
END $$;
--> statement-breakpoint

-- A platform's own count of posts (Instagram's content_publishing_limit) holds only what is published: a post of ours
-- granted before the reading and still on its way (uploading, processing) is in neither the reading nor the units
-- spent after it, so the gate could grant one more than the platform allows for each such post when posts made
-- outside Reelflow fill the window. Posts in flight now count on top of the reading (a post published just before
-- the reading and not yet marked completed counts twice until then: never one too many).
CREATE OR REPLACE FUNCTION quota_use(q provider_quotas, p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (used numeric, quota_limit numeric)
LANGUAGE plpgsql STABLE ROWS 1 AS $$
DECLARE
  since timestamptz := quota_window_start(q, p_at);
  ours numeric;
  reported numeric;
  lim numeric := q.quota_limit;
BEGIN
  SELECT coalesce(sum(u.units), 0) INTO ours FROM quota_usage u WHERE u.quota = q.name AND u.used_at > since AND u.used_at <= p_at;
  -- A reading of a moving window goes stale as posts leave it (when, the reading does not say): it counts
  -- for 15 minutes, after which the next job's own reading (taken before it posts) renews it.
  IF q.reported_at IS NOT NULL AND q.reported_at > since AND q.reported_remaining IS NOT NULL
     AND (q.window_kind = 'calendar' OR q.reported_at > p_at - interval '15 minutes') THEN
    lim := least(lim, coalesce(q.reported_limit, lim));
    IF q.unit = 'posts' THEN
      SELECT coalesce(q.reported_limit, q.quota_limit) - q.reported_remaining + coalesce(sum(u.units), 0) INTO reported
        FROM quota_usage u
       WHERE u.quota = q.name AND u.used_at > since AND u.used_at <= p_at
         AND (u.used_at > q.reported_at
              OR EXISTS (SELECT 1 FROM automation_queue j WHERE j.id = u.job_id AND j.status IN ('queued', 'processing')));
    ELSE
      SELECT coalesce(q.reported_limit, q.quota_limit) - q.reported_remaining + coalesce(sum(u.units), 0) INTO reported
        FROM quota_usage u WHERE u.quota = q.name AND u.used_at > q.reported_at AND u.used_at <= p_at;
    END IF;
  END IF;
  used := greatest(ours, coalesce(reported, 0));
  quota_limit := lim;
  RETURN NEXT;
END $$;
--> statement-breakpoint

-- A render's recorded cost is what its latest take counts (KIE's price for this render), not every take of the job:
-- a render re-made after its KIE task failed keeps the first render's count.
CREATE OR REPLACE FUNCTION quota_usage_follow_cost()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE quota_usage u SET units = NEW.cost
    FROM provider_quotas q
   WHERE u.job_id = NEW.id AND q.name = u.quota AND q.unit = 'credits'
     AND u.take = (SELECT max(v.take) FROM quota_usage v WHERE v.quota = u.quota AND v.job_id = NEW.id);
  RETURN NEW;
END $$;
