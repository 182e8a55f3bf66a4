/** The demo's live view: one line per recommendation, its current job and each provider's slots. */
import { inArray } from 'drizzle-orm';
import type { Database } from '../db/client';
import { automationQueue, competitiveRecommendations } from '../db/schema';
import type { RecommendationService } from '../services/recommendations';
import { isFinalRecommendationStatus } from '../shared/statuses';
import { terminalSafe } from '../cli/format';
import { cutAtWord, type ScreenPrinter } from './screen';
import { ageLabel } from '../services/post-metrics';

export async function renderProgress(
  database: Database,
  service: RecommendationService,
  ids: string[],
  uiUrl: string,
  screen: ScreenPrinter,
  /** What the demo did on its own lately (live uploads, approvals), shown under the table. */
  events: readonly string[] = [],
): Promise<boolean> {
  const recs = await database.db.select().from(competitiveRecommendations).where(inArray(competitiveRecommendations.id, ids));
  const jobs = await database.db.select().from(automationQueue).where(inArray(automationQueue.recommendationId, ids));
  const capacity = await service.capacity();
  const lines: string[] = [];
  lines.push(`Reelflow demo — Temporal Web UI: ${uiUrl}`);
  lines.push(...(await competitorLines(database)));
  lines.push('');
  for (const rec of recs.sort((a, b) => a.priority.localeCompare(b.priority) || a.createdAt.getTime() - b.createdAt.getTime())) {
    const mine = jobs.filter((j) => j.recommendationId === rec.id);
    const done = mine.filter((j) => j.status === 'completed').length;
    const detail = progressDetail(rec, mine);
    lines.push(
      `${rec.priority}  ${rec.status.padEnd(13)} ${String(done).padStart(1)}/${mine.length} jobs  ` +
        `${cutAtWord(terminalSafe(rec.title), 52).padEnd(52)}  ${detail}`,
    );
  }
  lines.push('');
  lines.push(slotsLine(capacity));
  lines.push(await measuredLine(database, ids));
  if (events.length) lines.push('', ...events);
  screen.print(lines);
  return recs.length === ids.length && recs.every((r) => isFinalRecommendationStatus(r.status));
}

/**
 * Each provider's slots: VEO3's always (the paid renders), any other only while it has a job running or waiting.
 * All eleven at once ran to 250 characters, wrapped on a terminal and mostly said "0/2".
 */
export function slotsLine(capacity: ReadonlyArray<{ provider: string; inUse: number; maxConcurrent: number; waiting: number }>): string {
  const shown = capacity.filter((c) => c.provider === 'veo3' || c.inUse > 0 || c.waiting > 0);
  const idle = capacity.length - shown.length;
  const slots = shown.map((c) => `${c.provider} ${c.inUse}/${c.maxConcurrent}${c.waiting ? ` (+${c.waiting} waiting)` : ''}`);
  return `slots  ${[...slots, ...(idle ? [`${idle} other provider${idle === 1 ? '' : 's'} idle`] : [])].join('   ')}`;
}

type RecommendationRow = typeof competitiveRecommendations.$inferSelect;
type JobRow = typeof automationQueue.$inferSelect;

/**
 * What one recommendation is doing, for its line: its running and waiting jobs; between two of them (the workflow
 * deciding, or a job handed back when the demo stops) the step that comes next instead of a blank.
 */
export function progressDetail(rec: RecommendationRow, jobs: readonly JobRow[], now = new Date()): string {
  if (isFinalRecommendationStatus(rec.status)) return rec.error ?? '';
  const review = (rec.approval as { waiting?: { stage: string } | null } | null)?.waiting;
  if (review) return `waiting for approval (${review.stage === 'render' ? 'before the render' : 'before posting'})`;
  const steps = (keep: (j: JobRow) => boolean) => jobs.filter(keep).map((j) => j.step);
  const active = steps((j) => j.status === 'processing');
  const waiting = steps((j) => j.status === 'queued' && j.waitingSince !== null);
  const parts = [
    active.length ? `running ${active.join(', ')}` : '',
    waiting.length ? `waiting for slot: ${waiting.join(', ')}` : '',
    rec.scheduleAfter && rec.scheduleAfter > now ? `scheduled for ${rec.scheduleAfter.toISOString().slice(11, 19)}` : '',
  ].filter(Boolean);
  if (parts.length) return parts.join('; ');
  const next = jobs
    .filter((j) => j.status === 'queued')
    .map((j) => j.step)
    .sort((a, b) => pipelineRank(a) - pipelineRank(b) || a.localeCompare(b, 'en', { numeric: true }))
    .at(0);
  return next ? `next: ${next}` : '';
}

/** A step's place in the pipeline (analyze, generate[:N], assemble, publish:X): a plan is enqueued at once, no timestamp orders it. */
const PIPELINE = ['analyze', 'generate', 'assemble', 'publish'];
const pipelineRank = (step: string) => PIPELINE.indexOf(step.split(':')[0]!);

/** The watched channels and the competitor videos found so far: the front of the pipeline, live. */
async function competitorLines(database: Database): Promise<string[]> {
  const channels = await database.pool.query<{ display_name: string; videos_found: number; last_checked_at: Date | null }>(
    `SELECT display_name, videos_found, last_checked_at FROM competitor_channels WHERE active ORDER BY display_name`,
  );
  const videos = await database.pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM competitive_videos GROUP BY status ORDER BY status`,
  );
  const checked = (at: Date | null) => (at ? ` (checked ${at.toISOString().slice(11, 19)})` : '');
  const watched = channels.rows.map((c) => `${c.display_name} ${c.videos_found} found${checked(c.last_checked_at)}`).join(' · ');
  const counts = videos.rows.map((v) => `${v.n} ${v.status}`).join(', ');
  return [`channels: ${watched || 'none watched'}`, `competitor videos: ${counts || 'none yet'}`];
}

/** After publishing: the posts' metrics readings so far (the post-metrics workflows' timers, on the demo's clock). */
export async function measuredLine(database: Database, ids: readonly string[]): Promise<string> {
  const { rows } = await database.pool.query<{ posts: number; readings: number; oldest: number | null }>(
    `SELECT count(DISTINCT (platform, post_id))::int AS posts, count(*)::int AS readings, max(age_seconds) AS oldest
       FROM post_metrics WHERE recommendation_id = ANY($1::uuid[])`,
    [ids],
  );
  const { posts, readings, oldest } = rows[0]!;
  if (!readings) return 'after publishing: no post read yet';
  return (
    `after publishing: ${readings} reading${readings === 1 ? '' : 's'} of ${posts} post${posts === 1 ? '' : 's'}, ` +
    `oldest +${ageLabel(oldest!)} (Performance panel, \`npm run reelflow -- performance\`)`
  );
}

export interface RunOutcome {
  /** This run's recommendations by status. */
  recommendations: Record<string, number>;
  /** This run's failed jobs. */
  failedJobs: number;
  /**
   * This run's VEO3 renders: a clip's generate job, or each of a reel's segments (generate:N), completed; and those of
   * ideas enqueued by hand meanwhile, submitted in this run (done or under way).
   */
  renders: number;
  /** This run's finished videos: a clip rendered, or a reel assembled. */
  videos: number;
}

/**
 * What this run made and what failed, and nothing else: the ids this run
 * enqueued, created since it started (a second run used to report the
 * failures of the first), plus `resumed`: ideas an interrupted earlier run left
 * open, which this run finished (their jobs count when this run touched them).
 */
export async function runOutcome(
  database: Database,
  ids: readonly string[],
  since: Date,
  resumed: readonly string[] = [],
): Promise<RunOutcome> {
  const recs = await database.pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM competitive_recommendations
      WHERE id = ANY($1::uuid[]) AND (created_at >= $2 OR id = ANY($3::uuid[])) GROUP BY status ORDER BY status`,
    [ids, since, resumed],
  );
  const jobs = await database.pool.query<{ failed: number; renders: number; videos: number }>(
    `SELECT count(*) FILTER (WHERE j.status = 'failed')::int AS failed,
            count(*) FILTER (WHERE (j.step = 'generate' OR j.step LIKE 'generate:%') AND j.status = 'completed')::int AS renders,
            count(*) FILTER (WHERE j.step IN ('generate', 'assemble') AND j.status = 'completed')::int AS videos
       FROM automation_queue j JOIN competitive_recommendations r ON r.id = j.recommendation_id
      WHERE r.id = ANY($1::uuid[])
        AND ((r.created_at >= $2 AND j.created_at >= $2) OR (r.id = ANY($3::uuid[]) AND j.updated_at >= $2))`,
    [ids, since, resumed],
  );
  // Renders the operator asked for meanwhile (the demo suggests `reelflow enqueue` while its workers run) are paid
  // at the same simulator: without them its closing check read their submissions as renders paid twice.
  const others = await database.pool.query<{ renders: number }>(
    `SELECT count(*)::int AS renders FROM automation_queue
      WHERE api_provider = 'veo3' AND (step = 'generate' OR step LIKE 'generate:%') AND submit_attempted_at >= $2
        AND (status = 'completed' OR provider_task_id IS NOT NULL) AND NOT (recommendation_id = ANY($1::uuid[]))`,
    [ids, since],
  );
  return {
    recommendations: Object.fromEntries(recs.rows.map((r) => [r.status, r.n])),
    failedJobs: jobs.rows[0]!.failed,
    renders: jobs.rows[0]!.renders + others.rows[0]!.renders,
    videos: jobs.rows[0]!.videos,
  };
}
