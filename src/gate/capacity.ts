/**
 * Capacity reads: how many slots each provider has, how many are held, how
 * many jobs wait in its line. One SQL function (get_available_capacity in
 * drizzle/0001) answers for the CLI, the API, the capacity workflow and reports.
 */
import type pg from 'pg';
import type { Provider } from '../config/providers';
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
