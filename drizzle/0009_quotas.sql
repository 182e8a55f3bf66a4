CREATE TABLE "provider_quotas" (
	"name" text PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"account" text DEFAULT 'default' NOT NULL,
	"window_kind" text NOT NULL,
	"window_seconds" integer,
	"time_zone" text DEFAULT 'UTC' NOT NULL,
	"quota_limit" numeric(14, 4) NOT NULL,
	"low_priority_share" real DEFAULT 1 NOT NULL,
	"unit" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"parked_until" timestamp with time zone,
	"parked_reason" text,
	"reported_remaining" numeric(14, 4),
	"reported_limit" numeric(14, 4),
	"reported_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_quotas_window_kind_check" CHECK ("provider_quotas"."window_kind" IN ('moving','calendar')),
	CONSTRAINT "provider_quotas_window_seconds_check" CHECK (("provider_quotas"."window_seconds" IS NULL AND "provider_quotas"."window_kind" = 'calendar') OR "provider_quotas"."window_seconds" > 0),
	CONSTRAINT "provider_quotas_quota_limit_check" CHECK ("provider_quotas"."quota_limit" >= 0),
	CONSTRAINT "provider_quotas_low_priority_share_check" CHECK ("provider_quotas"."low_priority_share" > 0 AND "provider_quotas"."low_priority_share" <= 1)
);
--> statement-breakpoint
CREATE TABLE "quota_costs" (
	"quota" text NOT NULL,
	"job_type" text NOT NULL,
	"units" numeric(14, 4) NOT NULL,
	CONSTRAINT "quota_costs_units_check" CHECK ("quota_costs"."units" >= 0)
);
--> statement-breakpoint
CREATE TABLE "quota_usage" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"quota" text NOT NULL,
	"job_id" uuid,
	"units" numeric(14, 4) NOT NULL,
	"used_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "provider_quotas" ADD CONSTRAINT "provider_quotas_provider_provider_limits_provider_fk" FOREIGN KEY ("provider") REFERENCES "public"."provider_limits"("provider") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quota_costs" ADD CONSTRAINT "quota_costs_quota_provider_quotas_name_fk" FOREIGN KEY ("quota") REFERENCES "public"."provider_quotas"("name") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "quota_usage" ADD CONSTRAINT "quota_usage_quota_provider_quotas_name_fk" FOREIGN KEY ("quota") REFERENCES "public"."provider_quotas"("name") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "quota_usage" ADD CONSTRAINT "quota_usage_job_id_automation_queue_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."automation_queue"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "quota_costs_quota_job_type_idx" ON "quota_costs" USING btree ("quota","job_type");--> statement-breakpoint
CREATE UNIQUE INDEX "quota_usage_quota_job_idx" ON "quota_usage" USING btree ("quota","job_id");--> statement-breakpoint
CREATE INDEX "quota_usage_quota_used_at_idx" ON "quota_usage" USING btree ("quota","used_at");--> statement-breakpoint

-- Quotas and spend budgets in the gate (src/config/providers.ts PROVIDER_QUOTAS).
-- A job's cost is taken from every quota pricing its job type when the gate
-- grants its slot (one quota_usage row per job and quota); a job that does not
-- fit waits at the head of its line, so nothing behind it jumps it.

-- Refuses a quota row that cannot mean anything, naming the field.
CREATE OR REPLACE FUNCTION validate_provider_quota()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = NEW.time_zone) THEN
    RAISE EXCEPTION 'provider_quotas.time_zone: unknown time zone "%" (quota %)', NEW.time_zone, NEW.name USING ERRCODE = '22023';
  END IF;
  IF NEW.window_kind = 'calendar' AND NEW.window_seconds > 86400 THEN
    RAISE EXCEPTION 'provider_quotas.window_seconds: a calendar window is a slice of a day (at most 86400) or a month (null); got % (quota %)',
      NEW.window_seconds, NEW.name USING ERRCODE = '22023';
  END IF;
  IF NEW.window_kind = 'moving' AND NEW.window_seconds IS NULL THEN
    RAISE EXCEPTION 'provider_quotas.window_seconds: a moving window needs its length (quota %)', NEW.name USING ERRCODE = '22023';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER provider_quotas_validate BEFORE INSERT OR UPDATE ON provider_quotas
  FOR EACH ROW EXECUTE FUNCTION validate_provider_quota();
--> statement-breakpoint

-- The account a job spends from: jobConfig.accounts[provider], else 'default'.
CREATE OR REPLACE FUNCTION job_account(p_job automation_queue)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(p_job.job_config -> 'accounts' ->> p_job.api_provider, 'default');
$$;
--> statement-breakpoint

-- Where the window holding p_at begins: moving, p_at minus its length; calendar,
-- the slice (from local midnight in time_zone) or the month holding p_at.
CREATE OR REPLACE FUNCTION quota_window_start(q provider_quotas, p_at timestamptz)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
  loc timestamp := p_at AT TIME ZONE q.time_zone;
  midnight timestamp := date_trunc('day', loc);
BEGIN
  IF q.window_kind = 'moving' THEN
    RETURN p_at - make_interval(secs => q.window_seconds);
  END IF;
  IF q.window_seconds IS NULL THEN
    RETURN date_trunc('month', loc) AT TIME ZONE q.time_zone;
  END IF;
  RETURN (midnight + make_interval(secs => floor(extract(epoch FROM loc - midnight) / q.window_seconds) * q.window_seconds))
         AT TIME ZONE q.time_zone;
END $$;
--> statement-breakpoint

-- When units next come back: calendar, the next slice or month; moving, when the
-- oldest unit in the window leaves it (null when nothing is spent).
CREATE OR REPLACE FUNCTION quota_reset_at(q provider_quotas, p_at timestamptz)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE start_local timestamp := quota_window_start(q, p_at) AT TIME ZONE q.time_zone;
BEGIN
  IF q.window_kind = 'moving' THEN
    RETURN (SELECT min(u.used_at) + make_interval(secs => q.window_seconds)
              FROM quota_usage u WHERE u.quota = q.name AND u.used_at > p_at - make_interval(secs => q.window_seconds));
  END IF;
  IF q.window_seconds IS NULL THEN
    RETURN (start_local + interval '1 month') AT TIME ZONE q.time_zone;
  END IF;
  RETURN least((start_local + make_interval(secs => q.window_seconds)) AT TIME ZONE q.time_zone,
               (date_trunc('day', start_local) + interval '1 day') AT TIME ZONE q.time_zone);
END $$;
--> statement-breakpoint

-- Units spent in the window holding p_at: ours, or what the provider last
-- reported in this window plus what we spent since, whichever is more; and the
-- limit: ours, or the provider's if it reported a smaller one.
CREATE OR REPLACE FUNCTION quota_state(q provider_quotas, p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (used numeric, quota_limit numeric, reset_at timestamptz)
LANGUAGE plpgsql STABLE AS $$
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
    SELECT coalesce(q.reported_limit, q.quota_limit) - q.reported_remaining + coalesce(sum(u.units), 0) INTO reported
      FROM quota_usage u WHERE u.quota = q.name AND u.used_at > q.reported_at AND u.used_at <= p_at;
  END IF;
  used := greatest(ours, coalesce(reported, 0));
  quota_limit := lim;
  reset_at := quota_reset_at(q, p_at);
  RETURN NEXT;
END $$;
--> statement-breakpoint

-- Every quota pricing this job (its type, its account), with whether its cost fits now.
-- allowed: the limit, or the low-priority share of it for P2/P3 (the reserve for urgent work).
CREATE OR REPLACE FUNCTION job_quota_fit(p_job automation_queue, p_at timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (quota text, cost numeric, used numeric, allowed numeric, parked_until timestamptz, reset_at timestamptz, fits boolean)
LANGUAGE sql STABLE AS $$
  SELECT q.name, c.units, s.used,
         s.quota_limit * CASE WHEN p_job.priority IN ('P2', 'P3') THEN q.low_priority_share ELSE 1 END,
         CASE WHEN q.parked_until > p_at THEN q.parked_until END,
         s.reset_at,
         -- A retried job already took its units (they count in used): it fits as it did.
         EXISTS (SELECT 1 FROM quota_usage u WHERE u.quota = q.name AND u.job_id = p_job.id)
         OR ((q.parked_until IS NULL OR q.parked_until <= p_at)
             AND s.used + c.units <= s.quota_limit * CASE WHEN p_job.priority IN ('P2', 'P3') THEN q.low_priority_share ELSE 1 END)
    FROM quota_costs c
    JOIN provider_quotas q ON q.name = c.quota
    CROSS JOIN LATERAL quota_state(q, p_at) s
   WHERE c.job_type = p_job.job_type AND c.units > 0 AND q.account = job_account(p_job)
   ORDER BY q.name;
$$;
--> statement-breakpoint

-- Called by grant_slots for the head of a line: takes the job's units from
-- every quota pricing it and returns '{}', or, when the cost does not fit,
-- takes nothing and returns the quotas it does not fit. Quota rows are locked
-- in name order: one quota may price job types of two providers (YouTube's units).
CREATE OR REPLACE FUNCTION take_quota(p_job_id uuid)
RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  short text[];
BEGIN
  SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  PERFORM 1 FROM provider_quotas q JOIN quota_costs c ON c.quota = q.name
   WHERE c.job_type = job.job_type AND c.units > 0 AND q.account = job_account(job)
   ORDER BY q.name FOR UPDATE OF q;
  SELECT coalesce(array_agg(f.quota), '{}') INTO short FROM job_quota_fit(job) f WHERE NOT f.fits;
  IF cardinality(short) > 0 THEN
    RETURN short;
  END IF;
  INSERT INTO quota_usage (quota, job_id, units, used_at)
  SELECT f.quota, p_job_id, coalesce(CASE WHEN q.unit = 'credits' THEN job.cost END, f.cost), clock_timestamp()
    FROM job_quota_fit(job) f JOIN provider_quotas q ON q.name = f.quota
  ON CONFLICT (quota, job_id) DO NOTHING;
  RETURN '{}';
END $$;
--> statement-breakpoint

-- Units taken for a job that never reached its provider (cancelled in line,
-- deadline passed, slot given back) are given back: the provider counted nothing.
CREATE OR REPLACE FUNCTION refund_quota(p_job_id uuid, p_even_if_called boolean DEFAULT false)
RETURNS void LANGUAGE sql AS $$
  DELETE FROM quota_usage u
   WHERE u.job_id = p_job_id
     AND (p_even_if_called OR NOT EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = p_job_id AND e.event = 'provider_call'));
$$;
--> statement-breakpoint

-- A spend budget counts what a job actually cost once it is recorded.
CREATE OR REPLACE FUNCTION quota_usage_follow_cost()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE quota_usage u SET units = NEW.cost
    FROM provider_quotas q
   WHERE u.job_id = NEW.id AND q.name = u.quota AND q.unit = 'credits';
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER automation_queue_cost_to_quota AFTER UPDATE OF cost ON automation_queue
  FOR EACH ROW WHEN (NEW.cost IS NOT NULL AND NEW.cost IS DISTINCT FROM OLD.cost) EXECUTE FUNCTION quota_usage_follow_cost();
--> statement-breakpoint

-- The provider refused a job because a quota is spent (its own error): every
-- quota pricing the job (its type, its account) is parked until p_until
-- (else its own reset; a moving window with nothing of ours in it, one window),
-- the job's units are given back (the provider counted none). Returns the parked quotas.
CREATE OR REPLACE FUNCTION park_quota_for_job(p_job_id uuid, p_until timestamptz, p_reason text)
RETURNS TABLE (quota text, parked_until timestamptz)
LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  PERFORM refund_quota(p_job_id, true);
  PERFORM log_job_event(p_job_id, 'quota_parked', jsonb_build_object('reason', p_reason, 'until', p_until));
  RETURN QUERY
  UPDATE provider_quotas q
     SET parked_until = greatest(coalesce(q.parked_until, '-infinity'),
                                 coalesce(p_until, quota_reset_at(q, clock_timestamp()),
                                          clock_timestamp() + make_interval(secs => coalesce(q.window_seconds, 86400)))),
         parked_reason = p_reason, updated_at = now(),
         -- A moving window's reading is what made (or confirmed) the park; past it, the next post reads afresh.
         reported_at = CASE WHEN q.window_kind = 'moving' THEN NULL ELSE q.reported_at END
   WHERE q.account = job_account(job)
     AND EXISTS (SELECT 1 FROM quota_costs c WHERE c.quota = q.name AND c.job_type = job.job_type AND c.units > 0)
  RETURNING q.name, q.parked_until;
END $$;
--> statement-breakpoint

-- What the provider itself reports as left in the current window (Instagram's
-- content_publishing_limit, API-Football's remaining-requests header): the
-- gate counts whichever of its figure and ours is larger.
CREATE OR REPLACE FUNCTION report_quota(p_quota text, p_remaining numeric, p_limit numeric DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
  UPDATE provider_quotas SET reported_remaining = p_remaining, reported_limit = p_limit, reported_at = clock_timestamp(), updated_at = now()
   WHERE name = p_quota;
$$;
--> statement-breakpoint

-- The same, for the quotas (of that provider and account) pricing a job: the
-- reading a job took of its own account. Returns the quotas reported.
CREATE OR REPLACE FUNCTION report_job_quota(p_job_id uuid, p_remaining numeric, p_limit numeric DEFAULT NULL)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE job automation_queue;
BEGIN
  SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  RETURN QUERY
  UPDATE provider_quotas q
     SET reported_remaining = p_remaining, reported_limit = p_limit, reported_at = clock_timestamp(), updated_at = now()
   WHERE q.provider = job.api_provider AND q.account = job_account(job) AND q.unit <> 'credits'
     AND EXISTS (SELECT 1 FROM quota_costs c WHERE c.quota = q.name AND c.job_type = job.job_type AND c.units > 0)
  RETURNING q.name;
END $$;
--> statement-breakpoint

-- The grant, now also within quotas: a head whose cost does not fit waits, and
-- so does every job behind it priced by the same quota (priority order kept:
-- nothing jumps it to that quota's next unit), until units come back (the
-- sweeper re-runs the grant every second). Jobs of other accounts go on.
CREATE OR REPLACE FUNCTION grant_slots(p_provider text, p_lease_ms integer DEFAULT 12000, p_waiter_ttl_ms integer DEFAULT 20000)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lim provider_limits;
  held integer;
  head uuid;
  short text[];
  granted uuid[] := '{}';
  -- Quotas the line found full this round, and the heads that wait for them.
  full_quotas text[] := '{}';
  waiting uuid[] := '{}';
BEGIN
  -- One granter per provider at a time; other providers proceed in parallel.
  PERFORM lock_providers(ARRAY[p_provider]);
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown provider "%"', p_provider USING ERRCODE = '22023';
  END IF;
  DELETE FROM provider_slots s
   WHERE s.provider = p_provider AND s.lease_expires_at < clock_timestamp()
     AND (s.hold_until IS NULL OR s.hold_until < clock_timestamp());
  LOOP
    SELECT count(*) INTO held FROM provider_slots s WHERE s.provider = p_provider;
    EXIT WHEN held >= lim.max_concurrent;
    SELECT q.id INTO head FROM automation_queue q
     WHERE q.api_provider = p_provider AND q.status = 'queued' AND q.waiting_since IS NOT NULL
       AND q.last_heartbeat_at > clock_timestamp() - make_interval(secs => p_waiter_ttl_ms / 1000.0)
       AND (q.schedule_after IS NULL OR q.schedule_after <= clock_timestamp())
       AND (q.deadline IS NULL OR q.deadline > clock_timestamp())
       AND NOT EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = q.id)
       AND q.id <> ALL (waiting)
       AND (cardinality(full_quotas) = 0 OR NOT EXISTS (
             SELECT 1 FROM quota_costs c JOIN provider_quotas pq ON pq.name = c.quota
              WHERE c.quota = ANY (full_quotas) AND c.job_type = q.job_type AND c.units > 0 AND pq.account = job_account(q)))
     ORDER BY q.priority, q.created_at, q.id
     LIMIT 1;
    EXIT WHEN head IS NULL;
    short := take_quota(head);
    IF cardinality(short) > 0 THEN
      full_quotas := full_quotas || short;
      waiting := waiting || head;
      head := NULL;
      CONTINUE;
    END IF;
    INSERT INTO provider_slots (job_id, provider, granted_at, lease_expires_at)
    VALUES (head, p_provider, clock_timestamp(), clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0));
    PERFORM start_job(head);
    PERFORM pg_notify('reelflow_slots', head::text);
    granted := granted || head;
    head := NULL;
  END LOOP;
  RETURN jsonb_build_object('granted', to_jsonb(granted));
END $$;
--> statement-breakpoint

-- Frees a job's slot, as before, and gives back the quota units of a job that
-- never reached its provider.
CREATE OR REPLACE FUNCTION release_slot(p_job_id uuid, p_hold_until timestamptz DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE prov text;
BEGIN
  SELECT api_provider INTO prov FROM automation_queue WHERE id = p_job_id;
  IF prov IS NULL THEN RETURN NULL; END IF;
  IF p_hold_until IS NOT NULL AND p_hold_until > now() THEN
    UPDATE provider_slots SET hold_until = p_hold_until, lease_expires_at = now() WHERE job_id = p_job_id;
  ELSE
    DELETE FROM provider_slots WHERE job_id = p_job_id;
  END IF;
  PERFORM refund_quota(p_job_id);
  RETURN grant_slots(prov);
END $$;
--> statement-breakpoint

-- Each quota with its use now, for capacity reads (CLI, API, dashboard, /metrics).
CREATE OR REPLACE VIEW quota_status AS
  SELECT q.name, q.provider, q.account, q.window_kind, q.window_seconds, q.time_zone, q.unit, q.low_priority_share,
         s.used, s.quota_limit, greatest(s.quota_limit - s.used, 0) AS remaining, s.reset_at,
         CASE WHEN q.parked_until > clock_timestamp() THEN q.parked_until END AS parked_until,
         CASE WHEN q.parked_until > clock_timestamp() THEN q.parked_reason END AS parked_reason,
         q.reported_remaining, q.reported_limit, q.reported_at, q.reason
    FROM provider_quotas q CROSS JOIN LATERAL quota_state(q) s
   ORDER BY q.provider, q.name;
