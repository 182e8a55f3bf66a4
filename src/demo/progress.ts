/** The demo's live view: one line per recommendation, its current job and each provider's slots. */
import { inArray } from 'drizzle-orm';
import type { Database } from '../db/client';
import { automationQueue, competitiveRecommendations } from '../db/schema';
import type { RecommendationService } from '../services/recommendations';
import { isFinalRecommendationStatus } from '../shared/statuses';

export async function renderProgress(database: Database, service: RecommendationService, ids: string[], uiUrl: string): Promise<boolean> {
  const recs = await database.db.select().from(competitiveRecommendations).where(inArray(competitiveRecommendations.id, ids));
  const jobs = await database.db.select().from(automationQueue).where(inArray(automationQueue.recommendationId, ids));
  const capacity = await service.capacity();
  const lines: string[] = [];
  lines.push(`Reelflow demo — Temporal Web UI: ${uiUrl}`);
  lines.push('');
  for (const rec of recs.sort((a, b) => a.priority.localeCompare(b.priority) || a.createdAt.getTime() - b.createdAt.getTime())) {
    const mine = jobs.filter((j) => j.recommendationId === rec.id);
    const active = mine.filter((j) => j.status === 'processing').map((j) => j.step);
    const waiting = mine.filter((j) => j.status === 'queued' && j.waitingSince).map((j) => j.step);
    const done = mine.filter((j) => j.status === 'completed').length;
    const detail = isFinalRecommendationStatus(rec.status)
      ? rec.error ?? ''
      : [active.length ? `running ${active.join(', ')}` : '', waiting.length ? `waiting for slot: ${waiting.join(', ')}` : '',
         rec.scheduleAfter && rec.scheduleAfter > new Date() ? `scheduled for ${rec.scheduleAfter.toISOString().slice(11, 19)}` : '']
          .filter(Boolean)
          .join('; ');
    lines.push(`${rec.priority}  ${rec.status.padEnd(13)} ${String(done).padStart(1)}/${mine.length} jobs  ${rec.title.slice(0, 52).padEnd(52)}  ${detail}`);
  }
  lines.push('');
  lines.push(
    'slots  ' + capacity.map((c) => `${c.provider} ${c.inUse}/${c.maxConcurrent}${c.waiting ? ` (+${c.waiting} waiting)` : ''}`).join('   '),
  );
  if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
  console.log(lines.join('\n'));
  return recs.length === ids.length && recs.every((r) => isFinalRecommendationStatus(r.status));
}
