/** Reads shared by activities, services and the CLI. */
import { eq } from 'drizzle-orm';
import type pg from 'pg';
import type { Provider } from '../config/providers';
import type { CapacitySnapshotRow } from '../shared/messages';
import type { Db } from './client';
import { automationQueue, competitiveRecommendations, type Job, type Recommendation } from './schema';

/**
 * A plan's rows share one creation time (one transaction), so listings order
 * its steps by where they run in the workflow: transcribe, analyze, generate,
 * then the publishes by platform. `col` is the step column as the query names it.
 */
export function planStepOrder(col: string): string {
  return `CASE ${col} WHEN 'transcribe' THEN 0 WHEN 'analyze' THEN 1 WHEN 'generate' THEN 2 ELSE 3 END, ${col}`;
}

export async function getJob(db: Db, id: string): Promise<Job | undefined> {
  const [row] = await db.select().from(automationQueue).where(eq(automationQueue.id, id));
  return row;
}

export async function getRecommendation(db: Db, id: string): Promise<Recommendation | undefined> {
  const [row] = await db.select().from(competitiveRecommendations).where(eq(competitiveRecommendations.id, id));
  return row;
}

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
