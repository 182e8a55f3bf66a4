/**
 * The process side of quotas (the SQL side is drizzle/0009_quotas.sql):
 * reconciling our count with what a provider reports, and the KIE credit
 * balance, which no window resets.
 */
import type pg from 'pg';
import { quotaExhausted } from '../providers/errors';

/** provider_quotas.reported_* are numeric(14,4): readings above this mean "more than we will ever use". */
const REPORTED_MAX = 1e9;

/** A provider's own reading of a job's account: units left in the window and the window's allocation. */
export interface QuotaReading {
  remaining: number;
  limit: number;
}

/**
 * Records the reading on the quotas pricing the job (its provider and account);
 * the gate then counts whichever use is larger, ours or the provider's.
 */
export async function reportJobQuota(pool: pg.Pool, jobId: string, reading: QuotaReading): Promise<string[]> {
  // An unlimited account reads as a huge quota_total (the simulator's: 2^53 - 1): beyond any limit of ours, so "no limit".
  const clamp = (n: number) => Math.min(Math.max(0, n), REPORTED_MAX);
  const { rows } = await pool.query<{ report_job_quota: string }>('SELECT report_job_quota($1, $2, $3)', [
    jobId,
    clamp(reading.remaining),
    clamp(reading.limit),
  ]);
  return rows.map((r) => r.report_job_quota);
}

/**
 * A provider that reports no reset (a balance to top up, a full moving window
 * whose oldest post we cannot see) is asked again after this long.
 */
export const QUOTA_RECHECK_MS = 5 * 60_000;

/** How often the credit balance is read before a paid submit (per process). */
const CREDIT_READ_EVERY_MS = 60_000;

/**
 * Refuses a paid submit the balance cannot cover, before KIE does: a
 * quota_exhausted error that parks the credit budgets and puts the job back in
 * line until the balance is read again. The balance is read at most once a
 * minute per process, so the hand-over between renders stays one request.
 */
export function creditGuard(provider: string, readBalance: () => Promise<number>) {
  let last: { at: number; balance: number } | null = null;
  return async (cost: number, now = Date.now()): Promise<void> => {
    if (!last || now - last.at >= CREDIT_READ_EVERY_MS) last = { at: now, balance: await readBalance() };
    if (last.balance < cost) {
      const balance = last.balance;
      last = null;
      throw quotaExhausted(provider, `the credit balance (${balance}) does not cover a render (${cost}); top up the account`, {
        resetAt: new Date(now + QUOTA_RECHECK_MS),
        now,
      });
    }
    last.balance -= cost;
  };
}
