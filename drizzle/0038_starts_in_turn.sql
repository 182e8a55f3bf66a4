-- Starts in turn among the holders of one provider's slots. 0027 holds a first start only for a higher priority
-- granted no later; holders of the same priority raced for each spacing window: each was told how long until the
-- next start was due, all woke together, and whoever's claim came first took it. One could lose round after round
-- (the demo's post-metrics reads at Instagram, 3 slots and 5 s between starts, waited over 20 s for a start), and
-- 0037's stuck rule allows a holder only what starts in turn explain (every slot starting once before it).
--
-- Now a holder told to wait for the spacing is written down as waiting (start_wanted_at, once), and for the first
-- moments of each spacing window (start_turn_grace_ms) a start goes only to the first in turn among those waiting:
-- by priority, then by when it began to wait. Everyone else is answered a short wait. A holder that does not come
-- back for its turn within that grace (its worker killed, its process stalled) loses the window to whoever asks,
-- and keeps its place for the next: the cost of a vanished holder is that grace per window until its slot lapses.
-- What is unchanged: the spacing itself, 0027's hold (a higher priority granted earlier, still on its way), and a
-- job that has made its first start (a slot handed to a reel's next segment, a second call) takes no turn.
ALTER TABLE "provider_slots" ADD COLUMN "start_wanted_at" timestamp with time zone;
--> statement-breakpoint

-- How long the first moments of a spacing window are kept for the holder first in turn.
CREATE OR REPLACE FUNCTION start_turn_grace_ms()
RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 50 $$;
--> statement-breakpoint

-- Whether another holder of `p_provider`'s slots, waiting for its first start, is before `p_job_id` in turn: a
-- higher priority, or the same priority waiting since earlier. A job not yet waiting is after every waiting one; a job
-- past its first start (a second call) takes no turn, as in 0027.
CREATE OR REPLACE FUNCTION start_turn_ahead(p_provider text, p_job_id uuid)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM provider_slots mine JOIN automation_queue j ON j.id = mine.job_id,
                  provider_slots s JOIN automation_queue k ON k.id = s.job_id
     WHERE mine.job_id = p_job_id AND mine.called_at IS NULL
       AND s.provider = p_provider AND s.job_id <> p_job_id
       AND s.called_at IS NULL AND s.start_wanted_at IS NOT NULL
       AND (k.priority, s.start_wanted_at) < (j.priority, coalesce(mine.start_wanted_at, 'infinity'::timestamptz)));
END $$;
--> statement-breakpoint

-- `p_job_id` waits for its first start from now, unless it waited already.
CREATE OR REPLACE FUNCTION want_start(p_job_id uuid)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE provider_slots SET start_wanted_at = clock_timestamp()
   WHERE job_id = p_job_id AND called_at IS NULL AND start_wanted_at IS NULL;
END $$;
--> statement-breakpoint

-- 0035's claim_start, its holder written down when it waits for the spacing, and held for the first in turn at the
-- window's start. It keeps 0034's generic plans: CREATE OR REPLACE drops a function's SET.
CREATE OR REPLACE FUNCTION claim_start(p_provider text, p_job_id uuid, p_mark_submit boolean DEFAULT false,
                                       p_submit_key text DEFAULT NULL, p_refresh boolean DEFAULT false,
                                       p_order_wait_ms integer DEFAULT 2000,
                                       OUT wait_ms integer, OUT margin_ms integer)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  lim provider_limits;
  held_since timestamptz;
BEGIN
  IF NOT p_refresh THEN
    held_since := start_held_since(p_provider, p_job_id, p_order_wait_ms);
    IF held_since IS NOT NULL THEN
      -- 0028: 10 ms at first, then a quarter of the time since this job's grant, up to 40 ms; no lock taken.
      wait_ms := least(40, greatest(10, floor(extract(epoch FROM clock_timestamp() - held_since) * 1000 / 4)));
      SELECT CASE WHEN l.min_start_interval_ms > 0 THEN l.start_margin_ms END INTO margin_ms
        FROM provider_limits l WHERE l.provider = p_provider;
      RETURN;
    END IF;
  END IF;
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown provider "%"', p_provider USING ERRCODE = '22023';
  END IF;
  margin_ms := CASE WHEN lim.min_start_interval_ms > 0 THEN lim.start_margin_ms END;
  -- A refresh by the job that made the last start moves that start later (0020): no spacing against itself.
  IF NOT (p_refresh AND lim.last_start_job IS NOT DISTINCT FROM p_job_id) THEN
    wait_ms := start_due_in_ms(lim);
    IF wait_ms > 0 THEN
      IF NOT p_refresh THEN
        PERFORM want_start(p_job_id);
      END IF;
      RETURN;
    END IF;
    -- Due since less than the grace, with a holder before this one in turn: a short wait, then ask again.
    IF NOT p_refresh AND lim.min_start_interval_ms > 0 AND wait_ms > -start_turn_grace_ms()
       AND start_turn_ahead(p_provider, p_job_id) THEN
      PERFORM want_start(p_job_id);
      wait_ms := greatest(1, least(10, start_turn_grace_ms() + wait_ms));
      RETURN;
    END IF;
  END IF;
  wait_ms := 0;
  IF p_refresh THEN
    UPDATE provider_limits SET last_start_at = clock_timestamp(), last_start_job = p_job_id WHERE provider = p_provider;
    RETURN;
  END IF;
  PERFORM record_start(p_provider, p_job_id, p_mark_submit, p_submit_key, '{}'::jsonb);
END $$;
--> statement-breakpoint

-- 0035's claim_armed_start: a plain grant too while a holder before it in turn is due to come for its start.
CREATE OR REPLACE FUNCTION claim_armed_start(p_provider text, p_job_id uuid, p_order_wait_ms integer DEFAULT 2000)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  job automation_queue;
  lim provider_limits;
  due_in integer;
  stamp timestamptz;
BEGIN
  SELECT * INTO job FROM automation_queue WHERE id = p_job_id;
  IF NOT FOUND OR job.armed_submit_key IS NULL THEN
    RETURN NULL;
  END IF;
  UPDATE automation_queue SET armed_submit_key = NULL WHERE id = p_job_id;
  IF job.parked OR job.provider_task_id IS NOT NULL OR job.submit_attempted_at IS NOT NULL
     OR job.activity_token IS NULL OR job.activity_worker IS NULL
     OR submit_key_job(job.armed_submit_key) IS DISTINCT FROM p_job_id THEN
    RETURN NULL;
  END IF;
  -- Present: its process holds the key exclusively, so a shared try fails (watchers' shared holds do not count).
  IF pg_try_advisory_xact_lock_shared(presence_lock_class(), job.activity_worker) THEN
    RETURN NULL;
  END IF;
  IF start_held_since(p_provider, p_job_id, p_order_wait_ms) IS NOT NULL THEN
    RETURN NULL;
  END IF;
  SELECT * INTO lim FROM provider_limits WHERE provider = p_provider FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  due_in := start_due_in_ms(lim);
  IF due_in > 0 OR (lim.min_start_interval_ms > 0 AND due_in > -start_turn_grace_ms()
                    AND start_turn_ahead(p_provider, p_job_id)) THEN
    RETURN NULL;
  END IF;
  stamp := record_start(p_provider, p_job_id, true, job.armed_submit_key, '{"inGrant": true}'::jsonb);
  RETURN jsonb_build_object('at', floor(extract(epoch FROM stamp) * 1000)::bigint,
                            'marginMs', CASE WHEN lim.min_start_interval_ms > 0 THEN lim.start_margin_ms END);
END $$;
