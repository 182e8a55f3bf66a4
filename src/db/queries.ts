/** Reads shared by activities, services and the CLI. */
import { eq } from 'drizzle-orm';
import type { Db } from './client';
import { automationQueue, competitiveRecommendations, type Job, type Recommendation } from './schema';

export async function getJob(db: Db, id: string): Promise<Job | undefined> {
  const [row] = await db.select().from(automationQueue).where(eq(automationQueue.id, id));
  return row;
}

export async function getRecommendation(db: Db, id: string): Promise<Recommendation | undefined> {
  const [row] = await db.select().from(competitiveRecommendations).where(eq(competitiveRecommendations.id, id));
  return row;
}
