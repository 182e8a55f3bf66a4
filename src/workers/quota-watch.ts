/**
 * Tells the team once when a provider says a quota is spent (event `quota_parked`): KIE's credits gone, a platform's
 * daily posts used up, YouTube's bot check on our downloads. The jobs it prices wait in line, as they should, and
 * nothing else would say so until a deadline passed (a P0's "expired", a day later; a P3's failure, weeks later):
 * the dashboard's badge, `reelflow capacity` and reelflow_quota_parked only show it to whoever looks.
 *
 * Every worker runs it. A park is marked told (mark_parks_told, drizzle/0063) once its message started, under the
 * park's key (parkKey): two workers reading it, or a round repeated after a crash between the start and
 * the mark, start one message; a round that could not start it tells it at the next. One park is one message however
 * often it is re-parked (credits are re-checked every 5 minutes).
 */
import { Ticker } from '../shared/ticker';
import type { Runtime } from './runtime';

/** A quota's park as untold_parks() returns it. */
interface ParkRow {
  quota: string;
  provider: string;
  parked_since: Date;
  parked_until: Date;
  parked_reason: string | null;
  waiting: number;
}

/**
 * One provider's refusal, told once: every quota it parked (KIE's 402 parks the daily and the monthly credit budgets
 * alike; one message, not one a quota).
 */
export interface SpentQuota {
  provider: string;
  quotas: string[];
  /** The park's start (its earliest quota's): the message's key. */
  since: Date;
  until: Date;
  reason: string | null;
  /** Open jobs the quotas price, waiting while they are parked (or running what started before). */
  waiting: number;
}

/** The parks taken, one per provider and reason. */
export function groupParks(rows: readonly ParkRow[]): SpentQuota[] {
  const groups = new Map<string, SpentQuota>();
  for (const r of rows) {
    const key = `${r.provider}\u0000${r.parked_reason ?? ''}`;
    const g = groups.get(key);
    if (!g) {
      groups.set(key, {
        provider: r.provider,
        quotas: [r.quota],
        since: r.parked_since,
        until: r.parked_until,
        reason: r.parked_reason,
        waiting: r.waiting,
      });
      continue;
    }
    g.quotas.push(r.quota);
    if (r.parked_since < g.since) g.since = r.parked_since;
    if (r.parked_until > g.until) g.until = r.parked_until;
    g.waiting = Math.max(g.waiting, r.waiting);
  }
  return [...groups.values()];
}

export function startQuotaWatch(
  runtime: Pick<Runtime, 'database' | 'log'>,
  opts: { everyMs?: number; onParked?: (spent: SpentQuota) => Promise<unknown> } = {},
) {
  const { pool } = runtime.database;
  const ticker = new Ticker(
    async () => {
      const { rows } = await pool.query<ParkRow>('SELECT * FROM untold_parks()');
      for (const spent of groupParks(rows)) {
        runtime.log.warn(
          { quotas: spent.quotas, provider: spent.provider, until: spent.until, reason: spent.reason, waiting: spent.waiting },
          'a quota is spent: its jobs wait until it is back',
        );
        const told = rows.filter((r) => spent.quotas.includes(r.quota));
        try {
          await opts.onParked?.(spent);
        } catch (err) {
          runtime.log.warn({ err, quotas: spent.quotas }, 'could not start the quota notification; trying again next round');
          continue;
        }
        await pool.query('SELECT mark_parks_told($1::text[], $2::timestamptz[])', [
          told.map((r) => r.quota),
          told.map((r) => r.parked_since),
        ]);
      }
    },
    { everyMs: opts.everyMs ?? 15_000, onError: (err) => runtime.log.warn({ err }, 'quota check failed; retrying') },
  );
  ticker.start();
  return { stop: () => ticker.stop() };
}

/**
 * The message's key: the provider's park (its start) and the quotas it names. Two workers reading one park start one
 * message; a quota parked since by the same refusal is a message of its own, not marked told under one that never
 * named it.
 */
export function parkKey(spent: SpentQuota): string {
  return `quota:${spent.provider}:${[...spent.quotas].sort().join(',')}@${spent.since.getTime()}`;
}

/** The message's line under its head: why, until when, and what waits. */
export function parkedText(spent: SpentQuota): string {
  const why = spent.reason || 'the provider said the quota is spent';
  const jobs = spent.waiting === 1 ? '1 open job' : `${spent.waiting} open jobs`;
  const until = spent.until.toISOString();
  const quotas = spent.quotas.join(', ');
  return `${why}. Parked until ${until} (the first job then tries again): ${quotas}; ${jobs} wait meanwhile (reelflow capacity)`;
}
