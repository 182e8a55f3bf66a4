/**
 * Capacity reads: how many slots each provider has, how many are held, how
 * many jobs wait in its line. One SQL function (get_available_capacity in
 * drizzle/0001) answers for the CLI, the API, the capacity workflow and reports;
 * quotas and budgets come from the quota_status view (drizzle/0009), and when a
 * waiting job should start from the ETA estimator (eta.ts).
 */
import type pg from 'pg';
import type { Provider } from '../config/providers';
import { estimateStarts, type EtaReason, type JobEta } from './eta';
import type { CapacitySnapshotRow } from '../shared/messages';

/** CapacitySnapshotRow with a Date: the capacity workflow sends the same row as JSON. */
export type CapacityRow = Omit<CapacitySnapshotRow, 'lastStartAt'> & { lastStartAt: Date | null };

/** get_available_capacity for each provider, in the order given, in one round trip. */
export async function readCapacity(pool: pg.Pool, providers: readonly Provider[]): Promise<CapacityRow[]> {
  const { rows } = await pool.query(
    `SELECT c.* FROM unnest($1::text[]) WITH ORDINALITY AS p(name, n)
       CROSS JOIN LATERAL get_available_capacity(p.name) c ORDER BY p.n`,
    [providers],
  );
  return rows.map((r) => ({
    provider: r.provider,
    maxConcurrent: r.max_concurrent,
    inUse: r.in_use,
    free: r.free,
    waiting: r.waiting,
    planned: r.planned,
    minStartIntervalMs: r.min_start_interval_ms,
    lastStartAt: r.last_start_at,
  }));
}

/** One quota or spend budget with its use now (the quota_status view of drizzle/0009), numbers parsed. */
export interface QuotaRow {
  name: string;
  provider: string;
  account: string;
  windowKind: 'moving' | 'calendar';
  /** Moving: the window's length; calendar: the slice of a day, or null for a calendar month. */
  windowSeconds: number | null;
  timeZone: string;
  /** 'credits' is a spend budget. */
  unit: 'posts' | 'units' | 'requests' | 'credits';
  /** Share of the limit P2/P3 may use (the rest is kept for P0/P1). */
  lowPriorityShare: number;
  used: number;
  /** Ours, or the provider's when it reported a smaller one. */
  limit: number;
  remaining: number;
  /** When units next come back (null: a moving window with nothing spent in it). */
  resetAt: Date | null;
  /** The provider refused with its own quota error: nothing starts on this quota until then. */
  parkedUntil: Date | null;
  parkedReason: string | null;
  /** What the provider itself last said was left (and its limit), and when. */
  reportedRemaining: number | null;
  reportedLimit: number | null;
  reportedAt: Date | null;
  reason: string;
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

/** quota_status, optionally for some providers only; ordered by provider and name. */
export async function readQuotas(pool: pg.Pool, providers?: readonly string[]): Promise<QuotaRow[]> {
  // pg returns numeric as strings: parsed here, once, for every reader.
  const { rows } = await pool.query(`SELECT * FROM quota_status WHERE $1::text[] IS NULL OR provider = ANY($1)`, [providers ?? null]);
  return rows.map((r) => ({
    name: r.name,
    provider: r.provider,
    account: r.account,
    windowKind: r.window_kind,
    windowSeconds: r.window_seconds,
    timeZone: r.time_zone,
    unit: r.unit,
    lowPriorityShare: Number(r.low_priority_share),
    used: Number(r.used),
    limit: Number(r.quota_limit),
    remaining: Number(r.remaining),
    resetAt: r.reset_at,
    parkedUntil: r.parked_until,
    parkedReason: r.parked_reason,
    reportedRemaining: num(r.reported_remaining),
    reportedLimit: num(r.reported_limit),
    reportedAt: r.reported_at,
    reason: r.reason,
  }));
}

/** When a job is expected to start and what it waits for; all null for a job that is not waiting. */
export interface JobWait {
  /** Null while waiting: it can never start as configured (its cost exceeds a quota's whole limit). */
  eta: Date | null;
  /** Null: not waiting in a line (running, finished, or a later step of its plan not asking yet). */
  waitingFor: EtaReason | null;
  /** The quota or budget it waits for, when it does. */
  waitingForQuota: string | null;
}

const NOT_WAITING: JobWait = { eta: null, waitingFor: null, waitingForQuota: null };

/** The JobWait of one job out of estimateStarts' map (one estimate per request, many jobs). */
export function jobWait(etas: ReadonlyMap<string, JobEta>, jobId: string): JobWait {
  const e = etas.get(jobId);
  return e ? { eta: e.eta, waitingFor: e.waitingFor, waitingForQuota: e.quota } : NOT_WAITING;
}

/** estimateStarts only when some job is queued: a listing of finished jobs costs no estimate. */
export async function estimateFor(pool: pg.Pool, jobs: ReadonlyArray<{ status: string }>): Promise<ReadonlyMap<string, JobEta>> {
  return jobs.some((j) => j.status === 'queued') ? estimateStarts(pool) : new Map();
}
