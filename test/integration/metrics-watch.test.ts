/**
 * The metrics watch against real PostgreSQL: a published post whose series missed its latest reading (here, no read
 * was taken: its workflow stopped) is told to the team once, in one message with the others, at the next round when its
 * message could not start, and again only when it misses a later reading.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import type { BehindSeries } from '../../src/services/post-metrics';
import { recordPostMetrics } from '../../src/services/post-metrics';
import { behindKey, behindText, startMetricsWatch } from '../../src/workers/metrics-watch';
import type { Env } from '../../src/config/env';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { waitUntil } from '../helpers/wait';
import { quiet, toldAfterOneFailure } from '../helpers/told';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const HOUR = 3_600_000;

it('tells a post no longer measured once per missed reading, again at the next round when its message failed', async () => {
  const { pool } = t.database;
  const publishedAt = new Date(Date.now() - 48 * HOUR);
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO competitive_recommendations (priority, status, recommendation_type, title, published_at)
     VALUES ('P2', 'published', 'player_spotlight', 'Pedri, medido y olvidado', $1) RETURNING id`,
    [publishedAt],
  );
  const recommendationId = rows[0]!.id;
  const reading = (ageSeconds: number) =>
    recordPostMetrics(pool, {
      recommendationId,
      platform: 'instagram',
      postId: 'ig-forgotten',
      publishedAt: publishedAt.toISOString(),
      readAt: new Date(publishedAt.getTime() + ageSeconds * 1_000).toISOString(),
      ageSeconds,
      jobId: null,
      metrics: { views: 100, reach: null, likes: 1, comments: 0, shares: 0, saves: null, interactions: null },
    });
  await reading(3_600);
  // Read at +1 h; its +24 h read was due a day ago and none was taken. A healthy post beside it is not told, nor one
  // adopted just now two days after it went up (its series has had no time yet to take the reading due).
  await pool.query(
    `INSERT INTO post_metric_series (platform, post_id, recommendation_id, published_at, reads_seconds, hour_ms, created_at)
     VALUES ('instagram', 'ig-forgotten', $1, $2, '{3600,86400,259200}', 3600000, $2),
            ('tiktok', 'tt-young', $1, now() - interval '30 minutes', '{3600,86400}', 3600000, now() - interval '30 minutes'),
            ('youtube', 'yt-adopted', $1, $2, '{3600,86400}', 3600000, now())`,
    [recommendationId, publishedAt],
  );

  const { told, tell } = toldAfterOneFailure<BehindSeries[]>();
  const watch = startMetricsWatch(
    { database: t.database, log: pino({ level: 'silent' }), env: { REELFLOW_METRICS_READ_WAIT_SECONDS: 10 } as Env },
    {
      everyMs: 100,
      onBehind: tell,
    },
  );
  try {
    await waitUntil(() => told.length >= 1, { what: 'the post told', timeoutMs: 10_000 });
    await quiet();
    expect(told).toHaveLength(1);
    expect(told[0]!.map((s) => [s.platform, s.postId, s.missedSeconds])).toEqual([['instagram', 'ig-forgotten', 86_400]]);
    const text = behindText(told[0]!);
    expect(text.title).toBe('1 published post is no longer measured');
    expect(text.lines).toBe(
      'instagram post ig-forgotten (Pedri, medido y olvidado): no +24h reading: no +24h read was taken: its series stopped ' +
        '(temporal workflow describe --workflow-id post-metrics-instagram-ig-forgotten)',
    );
    expect(behindKey([...told[0]!].reverse())).toBe(behindKey(told[0]!));

    // Stopped, it misses its +3 d timer too: the same stop, not told again.
    await pool.query(`UPDATE post_metric_series SET published_at = published_at - interval '3 days' WHERE post_id = 'ig-forgotten'`);
    await quiet();
    expect(told).toHaveLength(1);
    // Read at +24 h after all (an operator's reset), then its +3 d read missed: a new stop, told.
    await reading(86_400);
    await waitUntil(() => told.length >= 2, { what: 'the later reading told', timeoutMs: 10_000 });
    await quiet();
    expect(told).toHaveLength(2);
    expect(told[1]!.map((s) => s.missedSeconds)).toEqual([259_200]);
  } finally {
    watch.stop();
  }
});
