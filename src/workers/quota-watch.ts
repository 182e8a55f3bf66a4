/**
 * Tells the team once when a provider says a quota is spent (event `quota_parked`): KIE's credits gone, a platform's
 * daily posts used up, YouTube's bot check on our downloads. The jobs it prices wait in line, as they should, and
 * nothing else would say so until a deadline passed (a P0's "expired", a day later; a P3's failure, weeks later):
 * the dashboard's badge, `reelflow capacity` and reelflow_quota_parked only show it to whoever looks.
 *
 * Every worker runs it; take_untold_parks() (drizzle/0060) marks each park told as it takes it, so one process tells
 * it. One park is one message however often it is re-parked (credits are re-checked every 5 minutes); a park whose
 * message could not be started is unmarked and told at the next round.
 */
import { Ticker } from '../shared/ticker';
import type { Runtime } from './runtime';

export interface ParkedQuota {
  quota: string;
  provider: string;
  parked_since: Date;
  parked_until: Date;
  parked_reason: string | null;
  /** Open jobs of the provider, waiting while it is parked (or running what started before). */
  waiting: number;
}

export function startQuotaWatch(
  runtime: Pick<Runtime, 'database' | 'log'>,
  opts: { everyMs?: number; onParked?: (park: ParkedQuota) => Promise<unknown> } = {},
) {
  const { pool } = runtime.database;
  const ticker = new Ticker(
    async () => {
      const { rows } = await pool.query<ParkedQuota>('SELECT * FROM take_untold_parks()');
      for (const park of rows) {
        runtime.log.warn(
          { quota: park.quota, provider: park.provider, until: park.parked_until, reason: park.parked_reason, waiting: park.waiting },
          'a quota is spent: its jobs wait until it is back',
        );
        await opts.onParked?.(park).catch(async (err: unknown) => {
          runtime.log.warn({ err, quota: park.quota }, 'could not start the quota notification; trying again next round');
          await pool
            .query('UPDATE provider_quotas SET park_told_at = NULL WHERE name = $1', [park.quota])
            .catch((dbErr: unknown) => runtime.log.warn({ err: dbErr, quota: park.quota }, 'could not unmark the park'));
        });
      }
    },
    { everyMs: opts.everyMs ?? 15_000, onError: (err) => runtime.log.warn({ err }, 'quota check failed; retrying') },
  );
  ticker.start();
  return { stop: () => ticker.stop() };
}

/** The message's line under its head: why, until when, and what waits. */
export function parkedText(park: ParkedQuota): string {
  const why = park.parked_reason || 'the provider said the quota is spent';
  const jobs = park.waiting === 1 ? '1 open job' : `${park.waiting} open jobs`;
  const until = park.parked_until.toISOString();
  return `${why}. Parked until ${until} (the first job then tries again); ${jobs} of ${park.provider} wait meanwhile (reelflow capacity)`;
}
