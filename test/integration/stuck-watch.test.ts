/**
 * The stuck watch against real PostgreSQL: a job past 2x its estimate is marked and its notification started; one whose
 * notification could not be started (Temporal away) is marked again at the next round and told then, not never.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import { startStuckWatch, type StuckJob } from '../../src/workers/stuck-watch';
import { createTestDatabase, enqueueVeo3Job, type TestDatabase } from '../helpers/test-db';
import { waitUntil } from '../helpers/wait';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

it('a stuck job whose notification failed to start is told at the next round, once', async () => {
  const jobId = await enqueueVeo3Job(t.database.pool, 'wf-stuck-told');
  await t.database.pool.query(
    `UPDATE automation_queue SET status = 'processing', started_at = now() - interval '20 minutes', estimated_duration_seconds = 10
      WHERE id = $1`,
    [jobId],
  );
  const tries: StuckJob[] = [];
  const watch = startStuckWatch(
    { database: t.database, log: pino({ level: 'silent' }) },
    {
      everyMs: 200,
      onStuck: async (job) => {
        tries.push(job);
        if (tries.length === 1) throw new Error('14 UNAVAILABLE: Temporal is restarting');
      },
    },
  );
  try {
    await waitUntil(() => tries.length >= 2, { what: 'the notification tried again', timeoutMs: 10_000 });
    // Sent: marked for good, not told again.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(tries.map((j) => j.id)).toEqual([jobId, jobId]);
  } finally {
    watch.stop();
  }
});
