/**
 * The lost-worker watch hears of a peer's death when its session ends, not at its next look (src/gate/presence.ts,
 * PeerSentinels), against real PostgreSQL. The watch's regular look is set to ten minutes: only a sentinel can make
 * it look within the test. No Temporal involved: the failure it would send is recorded.
 */
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LostWorkerWatch, PRESENCE_LOCK_CLASS, takePresence, type LostActivity } from '../../src/gate/presence';
import { sleep } from '../../src/shared/sleep';
import { createTestDatabase, enqueueVeo3Job, type TestDatabase } from '../helpers/test-db';
import { waitUntil } from '../helpers/wait';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const OWN_KEY = 1;
/** Short, so the test sees a sentinel wait time out and start again before its peer dies. */
const WAIT_MS = 300;

/** A worker process as PostgreSQL sees it: a session holding its presence key, and an attempt marked with it. */
async function peer(key: number, workflowId: string): Promise<{ session: pg.Client; jobId: string }> {
  const session = new pg.Client({ connectionString: t.url });
  session.on('error', () => undefined); // the test ends it with pg_terminate_backend
  await session.connect();
  expect(await takePresence(session, key)).toBe(key);
  const jobId = await enqueueVeo3Job(t.database.pool, workflowId);
  await t.database.pool.query(`UPDATE automation_queue SET activity_worker = $2, activity_token = $3 WHERE id = $1`, [
    jobId,
    key,
    Buffer.from(workflowId).toString('base64'),
  ]);
  return { session, jobId };
}

/** Sessions waiting for a presence key in shared mode: the sentinels the server still serves. */
const waitingSentinels = async () =>
  (
    await t.database.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND mode = 'ShareLock'`,
      [PRESENCE_LOCK_CLASS],
    )
  ).rows[0]!.n;

describe('lost-worker watch sentinels', () => {
  it("fails a killed peer's attempt when its session ends, without waiting for the next look, and never a live peer's", async () => {
    const dying = await peer(2001, 'wf-dying');
    const living = await peer(2002, 'wf-living');
    const failed: Array<LostActivity & { at: number }> = [];
    const watch = new LostWorkerWatch(
      t.database.pool,
      pino({ level: 'silent' }),
      async (lost) => {
        failed.push({ ...lost, at: Date.now() });
        return 'failed';
      },
      () => 0, // present for ages: no grace
      { tickMs: 600_000, graceMs: 0, databaseUrl: t.url, ownKey: () => OWN_KEY, sentinelWaitMs: WAIT_MS },
    );
    watch.start();
    try {
      // The first look (at start) names both peers; each gets a sentinel.
      await waitUntil(() => watch.watchedKeys().length === 2 && waitingSentinels().then((n) => n === 2), {
        what: 'a sentinel on each peer',
        timeoutMs: 5_000,
      });
      // Longer than a sentinel's wait: each has timed out and waits again.
      await sleep(WAIT_MS * 3);
      expect(failed).toEqual([]);
      expect(await waitingSentinels()).toBe(2);

      // kill -9 ends the session the same way: the server releases its locks.
      const killedAt = Date.now();
      const pid = (dying.session as unknown as { processID: number }).processID;
      await t.database.pool.query(`SELECT pg_terminate_backend($1)`, [pid]);
      await dying.session.end().catch(() => undefined);
      await waitUntil(() => failed.length > 0, { what: "the dying peer's attempt failed", timeoutMs: 10_000, intervalMs: 20 });
      expect(failed.map((f) => f.jobId)).toEqual([dying.jobId]);
      // Its next regular look was ten minutes away.
      expect(failed[0]!.at - killedAt).toBeLessThan(5_000);

      // The dead peer is no longer waited on; the living one still is, and its attempt was left alone.
      await waitUntil(async () => (await waitingSentinels()) === 1, { what: 'one sentinel left', timeoutMs: 5_000 });
      expect(watch.watchedKeys()).toEqual([2002]);
      const { rows } = await t.database.pool.query<{ activity_token: string | null }>(
        `SELECT activity_token FROM automation_queue WHERE id = $1`,
        [living.jobId],
      );
      expect(rows[0]!.activity_token).not.toBeNull();
    } finally {
      watch.stop();
      await living.session.end();
    }
    // stop() closed the sentinel sessions: nothing is left waiting on the server.
    await waitUntil(async () => (await waitingSentinels()) === 0, { what: 'no sentinel left', timeoutMs: 5_000 });
  });
});
