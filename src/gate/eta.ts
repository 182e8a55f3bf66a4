/**
 * When each waiting job is expected to start. The gate's own rules, replayed
 * forward from what the database holds now, provider by provider:
 *
 * - the line in grant order (priority, enqueue time); a job waiting for a
 *   quota holds back the jobs behind it priced by that quota, as grant_slots does;
 * - a slot frees when its running job is expected to end (started + estimate);
 * - starts are spaced by the provider's interval (plus the start margin);
 * - each quota and budget pricing the job: parked until its reset, or full
 *   until units come back (a calendar window's reset; a moving window's oldest
 *   units leaving it), with the reserve share for P2/P3;
 * - a scheduled job not before its schedule.
 *
 * Run times are what each job type took lately (median of the last hour), else
 * estimated_duration_seconds scaled by how its provider's jobs ran against their
 * estimates lately, else the estimate; the bench prints how far predictions land from actual starts.
 */
import type pg from 'pg';
import { PROVIDERS } from '../config/providers';

export type EtaReason = 'slot' | 'spacing' | 'quota' | 'budget' | 'parked' | 'schedule' | 'now';

export interface JobEta {
  jobId: string;
  provider: string;
  /** Null: it can never start as configured (its cost exceeds a quota's whole limit). */
  eta: Date | null;
  /** What the start waits for last (the binding constraint). */
  waitingFor: EtaReason;
  /** The quota or budget it waits for, when it does. */
  quota: string | null;
}

interface LineJob {
  id: string;
  provider: string;
  job_type: string;
  priority: string;
  account: string;
  schedule_after: Date | null;
  deadline: Date | null;
  estimated_duration_seconds: number;
  /** A render on the other model than the deployment's: its price (job_config.credits), what take_quota grants it at. */
  credits: number | null;
}

interface QuotaRow {
  name: string;
  window_kind: 'moving' | 'calendar';
  window_seconds: number | null;
  account: string;
  unit: string;
  low_priority_share: number;
  used: string;
  quota_limit: string;
  reset_at: Date | null;
  parked_until: Date | null;
}

interface SimQuota {
  name: string;
  account: string;
  moving: boolean;
  windowMs: number;
  budget: boolean;
  share: number;
  limit: number;
  parkedUntil: number;
  costs: Map<string, number>;
  /** Moving: units with the time they were taken (real, then simulated). */
  events: Array<{ at: number; units: number }>;
  /** Calendar: [window start, end) and units in it. */
  windowEnd: number;
  usedInWindow: number;
  /** The latest start placed so far for a job priced by this quota. */
  lineFloor: number;
}

const LOW_PRIORITIES = new Set(['P2', 'P3']);

/** ETA of every job in a provider's line (or scheduled into one), keyed by job id. */
export async function estimateStarts(pool: pg.Pool, now = new Date()): Promise<Map<string, JobEta>> {
  return (await planLines(pool, now)).starts;
}

export interface LinePlan {
  /** estimateStarts' answer. */
  starts: Map<string, JobEta>;
  /** When each job holding a slot, and each waiting job that will start, is expected to end (by the run times above). */
  ends: Map<string, Date>;
}

/** The gate replayed forward: when each waiting job starts, and when each job, running or waiting, ends. */
export async function planLines(pool: pg.Pool, now = new Date()): Promise<LinePlan> {
  const [limits, held, line, quotas, costs, moving, observed] = await Promise.all([
    pool.query<{
      provider: string;
      max_concurrent: number;
      min_start_interval_ms: number;
      start_margin_ms: number;
      last_start_at: Date | null;
    }>('SELECT provider, max_concurrent, min_start_interval_ms, start_margin_ms, last_start_at FROM provider_limits'),
    pool.query<{
      job_id: string;
      provider: string;
      job_type: string;
      started_at: Date;
      estimated_duration_seconds: number;
      hold_until: Date | null;
    }>(
      `SELECT s.job_id, s.provider, q.job_type, coalesce(q.started_at, s.granted_at) AS started_at, q.estimated_duration_seconds,
              s.hold_until
         FROM provider_slots s JOIN automation_queue q ON q.id = s.job_id`,
    ),
    pool.query<LineJob>(
      `SELECT q.id, q.api_provider AS provider, q.job_type, q.priority, job_account(q) AS account, q.schedule_after, q.deadline,
              q.estimated_duration_seconds, (q.job_config->>'credits')::float8 AS credits
         FROM automation_queue q
        WHERE q.status = 'queued' AND (q.waiting_since IS NOT NULL OR q.schedule_after > now())
          AND NOT EXISTS (SELECT 1 FROM provider_slots s WHERE s.job_id = q.id)
        ORDER BY q.priority, q.created_at, q.id`,
    ),
    pool.query<QuotaRow>(
      `SELECT s.name, s.window_kind, s.window_seconds, s.account, s.unit, s.low_priority_share, s.used, s.quota_limit, s.reset_at,
              s.parked_until
         FROM quota_status s`,
    ),
    pool.query<{ quota: string; job_type: string; units: string }>('SELECT quota, job_type, units FROM quota_costs WHERE units > 0'),
    pool.query<{ quota: string; used_at: Date; units: string }>(
      `SELECT u.quota, u.used_at, u.units FROM quota_usage u JOIN provider_quotas q ON q.name = u.quota
        WHERE q.window_kind = 'moving' AND u.used_at > now() - make_interval(secs => q.window_seconds)
        ORDER BY u.used_at`,
    ),
    // How long each job type has actually been taking (last hour, 3 runs at least): better than the estimate. And
    // per provider, how long its jobs took against their estimates: a type not yet run 3 times this hour (the demo's
    // third kind of video; VEO3 renders all take about as long) scales its estimate by it rather than waiting on the
    // estimate alone (300 s against renders of 20 s in the demo: every ETA behind a running render was minutes late).
    // Every provider named, so the last hour is read through (provider, completed_at) (drizzle/0026), not the table.
    pool.query<{ provider: string; job_type: string | null; seconds: number; ratio: number | null }>(
      `SELECT api_provider AS provider, job_type,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at))::float8 AS seconds,
              percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(epoch FROM completed_at - started_at) / nullif(estimated_duration_seconds, 0))::float8 AS ratio
         FROM automation_queue
        WHERE api_provider = ANY($1) AND status = 'completed' AND started_at IS NOT NULL AND completed_at > now() - interval '1 hour'
        GROUP BY GROUPING SETS ((api_provider, job_type), (api_provider)) HAVING count(*) >= 3`,
      [PROVIDERS],
    ),
  ]);
  const t0 = now.getTime();
  const runMs = new Map(observed.rows.flatMap((r) => (r.job_type === null ? [] : [[r.job_type, r.seconds * 1_000] as const])));
  const ratio = new Map(observed.rows.flatMap((r) => (r.job_type === null && r.ratio !== null ? [[r.provider, r.ratio] as const] : [])));
  const durationMs = (provider: string, jobType: string, estimateSeconds: number) =>
    runMs.get(jobType) ?? estimateSeconds * 1_000 * (ratio.get(provider) ?? 1);

  const sim = new Map<string, SimQuota>();
  for (const q of quotas.rows) {
    const windowMs = (q.window_seconds ?? 0) * 1_000;
    sim.set(q.name, {
      name: q.name,
      account: q.account,
      moving: q.window_kind === 'moving',
      windowMs,
      budget: q.unit === 'credits',
      share: Number(q.low_priority_share),
      limit: Number(q.quota_limit),
      parkedUntil: q.parked_until ? q.parked_until.getTime() : 0,
      costs: new Map(),
      events: [],
      // A month's length varies: the next reset is what the database says; later ones are approximate.
      windowEnd: q.reset_at ? q.reset_at.getTime() : t0 + (windowMs || 30 * 86_400_000),
      usedInWindow: Number(q.used),
      lineFloor: t0,
    });
  }
  for (const c of costs.rows) sim.get(c.quota)?.costs.set(c.job_type, Number(c.units));
  for (const u of moving.rows) sim.get(u.quota)?.events.push({ at: u.used_at.getTime(), units: Number(u.units) });
  // A moving quota's used figure may include the provider's own report: count the difference as spent now.
  for (const q of sim.values()) {
    if (!q.moving) continue;
    const ours = q.events.reduce((n, e) => n + e.units, 0);
    if (q.usedInWindow > ours) q.events.unshift({ at: t0, units: q.usedInWindow - ours });
  }

  const out = new Map<string, JobEta>();
  const ends = new Map<string, Date>();
  for (const lim of limits.rows) {
    const slots: number[] = held.rows
      .filter((h) => h.provider === lim.provider)
      .map((h) => {
        const end = Math.max(
          t0,
          h.hold_until?.getTime() ?? 0,
          h.started_at.getTime() + durationMs(lim.provider, h.job_type, h.estimated_duration_seconds),
        );
        ends.set(h.job_id, new Date(end));
        return end;
      });
    while (slots.length < lim.max_concurrent) slots.push(t0);
    const spacing = lim.min_start_interval_ms > 0 ? lim.min_start_interval_ms + lim.start_margin_ms : 0;
    const starts: number[] = lim.last_start_at ? [lim.last_start_at.getTime()] : [];
    for (const job of line.rows) {
      if (job.provider !== lim.provider) continue;
      slots.sort((a, b) => a - b);
      const pricing = [...sim.values()].filter((q) => q.account === job.account && q.costs.has(job.job_type));
      let at = t0;
      let why: EtaReason = 'now';
      let quota: string | null = null;
      const raise = (to: number, reason: EtaReason, name: string | null = null) => {
        if (to > at) {
          at = to;
          why = reason;
          quota = name;
        }
      };
      // Constraints move the start later only; a few rounds settle them (a quota reset can meet spacing).
      for (let round = 0; round < 20; round++) {
        const before = at;
        raise(slots[0]!, 'slot');
        raise(spacedFrom(starts, at, spacing), 'spacing');
        if (job.schedule_after) raise(job.schedule_after.getTime(), 'schedule');
        for (const q of pricing) {
          raise(q.parkedUntil, 'parked', q.name);
          // Nothing jumps an earlier job to this quota's next unit.
          raise(q.lineFloor, q.budget ? 'budget' : 'quota', q.name);
          const cost = jobCost(q, job);
          const allowed = q.limit * (LOW_PRIORITIES.has(job.priority) ? q.share : 1);
          raise(nextFit(q, at, cost, allowed), q.budget ? 'budget' : 'quota', q.name);
        }
        if (at === before || !Number.isFinite(at)) break;
      }
      out.set(job.id, { jobId: job.id, provider: job.provider, eta: Number.isFinite(at) ? new Date(at) : null, waitingFor: why, quota });
      if (!Number.isFinite(at)) {
        // It never fits: the jobs behind it priced by the same quotas never start either (grant_slots holds them).
        for (const q of pricing) q.lineFloor = Infinity;
        continue;
      }
      // It will leave the line unstarted at its deadline: it takes no slot, spacing or units from the jobs behind.
      if (job.deadline && at >= job.deadline.getTime()) continue;
      // The slot that frees last but in time for this start; the earlier ones stay for the jobs behind.
      let slot = 0;
      while (slot + 1 < slots.length && slots[slot + 1]! <= at) slot++;
      slots[slot] = at + durationMs(lim.provider, job.job_type, job.estimated_duration_seconds);
      ends.set(job.id, new Date(slots[slot]!));
      starts.push(at);
      for (const q of pricing) {
        spend(q, at, jobCost(q, job));
        q.lineFloor = Math.max(q.lineFloor, at);
      }
    }
  }
  return { starts: out, ends };
}

/** The earliest time at or after `at` that is at least `spacing` from every start already placed. */
function spacedFrom(starts: number[], at: number, spacing: number): number {
  if (spacing <= 0) return at;
  let t = at;
  for (let moved = true; moved;) {
    moved = false;
    for (const s of starts) {
      if (t > s - spacing && t < s + spacing) {
        t = s + spacing;
        moved = true;
      }
    }
  }
  return t;
}

/** The earliest time at or after `at` when `cost` fits `allowed` in the quota; Infinity when it never can. */
function nextFit(q: SimQuota, at: number, cost: number, allowed: number): number {
  if (cost > allowed) return Infinity;
  if (q.moving) {
    const inWindow = q.events.filter((e) => e.at > at - q.windowMs);
    let used = inWindow.reduce((n, e) => n + e.units, 0);
    if (used + cost <= allowed) return at;
    for (const e of inWindow) {
      used -= e.units;
      if (used + cost <= allowed) return e.at + q.windowMs;
    }
    return at;
  }
  rollWindow(q, at);
  if (q.usedInWindow + cost <= allowed) return at;
  return q.windowEnd;
}

/** What the job spends of `q`: take_quota's figure (a render's own price on a budget, else its type's cost). */
function jobCost(q: SimQuota, job: LineJob): number {
  return q.budget && job.credits !== null ? job.credits : q.costs.get(job.job_type)!;
}

function spend(q: SimQuota, at: number, cost: number): void {
  if (q.moving) {
    q.events.push({ at, units: cost });
    return;
  }
  rollWindow(q, at);
  q.usedInWindow += cost;
}

/** Calendar windows after the current one start empty (their length: a slice, or about a month). */
function rollWindow(q: SimQuota, at: number): void {
  while (at >= q.windowEnd) {
    q.windowEnd += q.windowMs || 30 * 86_400_000;
    q.usedInWindow = 0;
  }
}
