/**
 * The demo's breaking-news idea is once a studio day: a second `npm start` follows the idea the first one enqueued
 * instead of enqueuing it again (a second paid render of the same idea). The next Madrid day gets its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueBreakingNews } from '../../src/demo/seed';
import { startHarness, type Harness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ workers: false });
});
afterAll(async () => h?.stop());

const breakingNews = async () =>
  (
    await h.db.database.pool.query<{ id: string }>(
      `SELECT id FROM competitive_recommendations WHERE recommendation_type = 'breaking_news' ORDER BY created_at`,
    )
  ).rows.map((r) => r.id);

describe('demo seed', () => {
  it('enqueues the breaking-news P0 once a Madrid day, and again the next day', async () => {
    // 23:30 UTC on the 18th is already the 19th in Madrid; 00:10 UTC on the 19th is the same Madrid day.
    const first = await enqueueBreakingNews(h.service, new Date('2025-10-18T23:30:00Z'));
    const restarted = await enqueueBreakingNews(h.service, new Date('2025-10-19T00:10:00Z'));
    expect(first.started).toBe(true);
    expect(restarted.started).toBe(false);
    expect(restarted.recommendation.id).toBe(first.recommendation.id);
    expect(await breakingNews()).toEqual([first.recommendation.id]);

    const nextDay = await enqueueBreakingNews(h.service, new Date('2025-10-19T23:30:00Z'));
    expect(nextDay.started).toBe(true);
    expect(await breakingNews()).toEqual([first.recommendation.id, nextDay.recommendation.id]);
  }, 60_000);
});
