/** Reads shared by activities, services and the CLI. */
import { eq } from 'drizzle-orm';
import type { Db } from './client';
import { automationQueue, competitiveRecommendations, type Job, type Recommendation } from './schema';

/**
 * A plan's rows share one creation time (one transaction), so listings order
 * its steps by where they run in the workflow: transcribe, analyze, generate
 * (a reel's segments generate:1..N in number order), assemble, then the
 * publishes by platform. `col` is the step column as the query names it.
 */
export function planStepOrder(col: string): string {
  return (
    `CASE WHEN ${col} = 'transcribe' THEN 0 WHEN ${col} = 'analyze' THEN 1 ` +
    `WHEN ${col} = 'generate' OR ${col} LIKE 'generate:%' THEN 2 WHEN ${col} = 'assemble' THEN 3 ELSE 4 END, ` +
    `substring(${col} from '^generate:([0-9]+)$')::int NULLS FIRST, ${col}`
  );
}

export async function getJob(db: Db, id: string): Promise<Job | undefined> {
  const [row] = await db.select().from(automationQueue).where(eq(automationQueue.id, id));
  return row;
}

export async function getRecommendation(db: Db, id: string): Promise<Recommendation | undefined> {
  const [row] = await db.select().from(competitiveRecommendations).where(eq(competitiveRecommendations.id, id));
  return row;
}
