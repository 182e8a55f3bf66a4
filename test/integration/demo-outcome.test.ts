/** The demo's closing report counts this run only, and its live view's after-publishing line, against the real database. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measuredLine, runOutcome } from '../../src/demo/progress';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const q = (text: string, params: unknown[] = []) => t.database.pool.query(text, params);

async function recommendation(status: string, createdAt: Date, jobs: Array<[step: string, status: string]>): Promise<string> {
  const id = randomUUID();
  await q(
    `INSERT INTO competitive_recommendations (id, priority, recommendation_type, title, status, created_at)
     VALUES ($1, 'P1', 'player_spotlight', 'demo', $2, $3)`,
    [id, status, createdAt],
  );
  for (const [step, jobStatus] of jobs) {
    await q(
      `INSERT INTO automation_queue
         (recommendation_id, priority, job_type, api_provider, estimated_duration_seconds, workflow_id, step, status, created_at)
       VALUES ($1, 'P1', $2, $3, 60, $4, $5, $6, $7)`,
      [
        id,
        step.startsWith('publish') ? 'publish' : step,
        step.startsWith('generate') ? 'veo3' : step === 'analyze' ? 'openai' : step === 'assemble' ? 'assembly' : 'instagram',
        `recommendation-${id}`,
        step,
        jobStatus,
        createdAt,
      ],
    );
  }
  return id;
}

describe('runOutcome', () => {
  it('counts only the recommendations and jobs this run made, not failures left from an earlier run', async () => {
    const earlier = new Date(Date.now() - 3_600_000);
    const runStart = new Date(Date.now() - 60_000);
    const now = new Date();
    const old = await recommendation('failed', earlier, [
      ['analyze', 'completed'],
      ['generate', 'failed'],
    ]);
    const published = await recommendation('published', now, [
      ['analyze', 'completed'],
      ['generate', 'completed'],
      ['publish:instagram', 'completed'],
    ]);
    const failed = await recommendation('failed', now, [
      ['analyze', 'completed'],
      ['generate', 'completed'],
      ['publish:instagram', 'failed'],
    ]);
    // The earlier run's id among this run's (a re-enqueued idea) still does not count: it was not made now.
    const outcome = await runOutcome(t.database, [old, published, failed], runStart);
    expect(outcome).toEqual({ recommendations: { failed: 1, published: 1 }, failedJobs: 1, renders: 2, videos: 2 });
    expect(await runOutcome(t.database, [old], earlier)).toEqual({ recommendations: { failed: 1 }, failedJobs: 1, renders: 0, videos: 0 });
    // An idea an interrupted earlier run left open, finished by this one: it counts, with the render it completed now.
    const resumed = await recommendation('published', earlier, [
      ['analyze', 'completed'],
      ['generate', 'completed'],
    ]);
    const withResumed = await runOutcome(t.database, [published, resumed], runStart, [resumed]);
    expect(withResumed).toEqual({ recommendations: { published: 2 }, failedJobs: 0, renders: 2, videos: 2 });
    // A reel: a render per segment, one video once assembled.
    const reel = await recommendation('published', now, [
      ['analyze', 'completed'],
      ['generate:1', 'completed'],
      ['generate:2', 'completed'],
      ['generate:3', 'completed'],
      ['assemble', 'completed'],
      ['publish:instagram', 'completed'],
    ]);
    expect(await runOutcome(t.database, [reel], runStart)).toEqual({
      recommendations: { published: 1 },
      failedJobs: 0,
      renders: 3,
      videos: 1,
    });
  });

  it('counts the renders of ideas enqueued by hand meanwhile, paid at the same simulator (not a render paid twice)', async () => {
    const runStart = new Date(Date.now() - 60_000);
    const mine = await recommendation('published', new Date(), [['generate', 'completed']]);
    const byHand = await recommendation('in_production', new Date(), [['generate', 'processing']]);
    const before = await recommendation('published', new Date(runStart.getTime() - 60_000), [['generate', 'completed']]);
    const submitted = (id: string, at: Date, task: string | null) =>
      q(`UPDATE automation_queue SET submit_attempted_at = $2, provider_task_id = $3 WHERE recommendation_id = $1`, [id, at, task]);
    await submitted(byHand, new Date(), 'veo_task_by_hand'); // under way: its task recorded
    await submitted(before, new Date(runStart.getTime() - 30_000), 'veo_task_before'); // paid in an earlier run
    expect((await runOutcome(t.database, [mine], runStart)).renders).toBe(2);
    // Asked for and refused before any task (nothing paid): not a render.
    await submitted(byHand, new Date(), null);
    expect((await runOutcome(t.database, [mine], runStart)).renders).toBe(1);
  });
});

describe('measuredLine', () => {
  it("counts this run's posts and readings and names the oldest reading's age", async () => {
    const mine = await recommendation('published', new Date(), [['publish:instagram', 'completed']]);
    const other = await recommendation('published', new Date(), [['publish:instagram', 'completed']]);
    expect(await measuredLine(t.database, [mine])).toBe('after publishing: no post read yet');
    const reading = (id: string, platform: string, postId: string, age: number) =>
      q(
        `INSERT INTO post_metrics (recommendation_id, platform, post_id, published_at, read_at, age_seconds, age_bucket, views)
         VALUES ($1, $2, $3, now(), now(), $4, 'x', 10)`,
        [id, platform, postId, age],
      );
    await reading(mine, 'instagram', 'p1', 3_600);
    await reading(mine, 'instagram', 'p1', 86_400);
    await reading(mine, 'tiktok', 'p2', 3_600);
    await reading(other, 'youtube', 'p3', 604_800);
    expect(await measuredLine(t.database, [mine])).toBe(
      'after publishing: 3 readings of 2 posts, oldest +24h (Performance panel, `npm run reelflow -- performance`)',
    );
  });
});
