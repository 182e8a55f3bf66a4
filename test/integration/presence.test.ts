/**
 * The lost-worker watch hears of a peer's death when its session ends, not at its next look (src/gate/presence.ts,
 * PeerSentinels), against real PostgreSQL. The watch's regular look is set to ten minutes (but in the test of its
 * repeated looks for a gone peer): only a sentinel can make it look within a test. No Temporal involved: the failure it
 * would send is recorded.
 */
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LostWorkerWatch,
  PeerSentinels,
  PRESENCE_LOCK_CLASS,
  takePresence,
  type LostActivity,
  type LostWorkerWatchOptions,
} from '../../src/gate/presence';
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
async function peer(key: number, workflowId: string, identity = 'peer@test'): Promise<{ session: pg.Client; jobId: string }> {
  const session = new pg.Client({ connectionString: t.url, application_name: identity });
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

/**
 * A peer about to die, its attempt marked, beside a job in line with its activity started, whose attempt Temporal may
 * hand the peer's still open polls after the watch's first look (a retry, or a call-up). Earlier tests' jobs closed.
 */
async function peerBesideHotJob(key: number, name: string, identity: string): Promise<{ session: pg.Client }> {
  await t.database.pool.query(`UPDATE automation_queue SET status = 'completed'`);
  const dying = await peer(key, `wf-marked-${name}`, identity);
  const hot = await enqueueVeo3Job(t.database.pool, `wf-hot-${name}`);
  await t.database.pool.query(`UPDATE automation_queue SET waiting_since = now(), parked = false WHERE id = $1`, [hot]);
  return dying;
}

/** The peer's death as PostgreSQL sees a kill -9: its session ended by the server, which releases its locks. */
async function kill(session: pg.Client): Promise<void> {
  await t.database.pool.query(`SELECT pg_terminate_backend($1)`, [(session as unknown as { processID: number }).processID]);
  await session.end().catch(() => undefined);
}

/**
 * A watch as a worker process runs it, present for ages (no grace), its regular look every ten minutes unless the
 * test says otherwise: within a test only a sentinel makes it look.
 */
function watcher(fail: (lost: LostActivity) => Promise<'failed' | 'gone'>, options: Partial<LostWorkerWatchOptions> = {}) {
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  return new LostWorkerWatch(t.database.pool, log, fail, () => 0, {
    tickMs: 600_000,
    graceMs: 0,
    databaseUrl: t.url,
    ownKey: () => OWN_KEY,
    ...options,
  });
}

/** Sessions waiting for a presence key in shared mode in this test's database: the sentinels the server still serves. */
const waitingSentinels = async () =>
  (
    await t.database.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND classid = $1::oid AND mode = 'ShareLock'
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [PRESENCE_LOCK_CLASS],
    )
  ).rows[0]!.n;

describe('lost-worker watch sentinels', () => {
  it("fails a killed peer's attempt when its session ends, without waiting for the next look, and never a live peer's", async () => {
    const dying = await peer(2001, 'wf-dying');
    const living = await peer(2002, 'wf-living');
    const failed: Array<LostActivity & { at: number }> = [];
    const watch = watcher(
      async (lost) => {
        failed.push({ ...lost, at: Date.now() });
        return 'failed';
      },
      { sentinelWaitMs: WAIT_MS },
    );
    watch.start();
    try {
      // The first look (at start) names both peers; each gets a sentinel.
      await waitUntil(() => watch.watchedKeys().length === 2 && waitingSentinels().then((n) => n === 2), {
        what: 'a sentinel on each peer',
        timeoutMs: 5_000,
      });
      // Longer than a sentinel's wait: each has timed out and waits again. (Between its timeout and its next wait a
      // sentinel is briefly not waiting: a single count could land there, so the test waits for both.)
      await sleep(WAIT_MS * 3);
      expect(failed).toEqual([]);
      await waitUntil(async () => (await waitingSentinels()) === 2, {
        what: 'both sentinels waiting again',
        timeoutMs: 2_000,
        intervalMs: 20,
      });

      // kill -9 ends the session the same way: the server releases its locks.
      const killedAt = Date.now();
      await kill(dying.session);
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

  it('tells of a death it was still waiting for when no longer wanted: the regular look took the marked attempts first', async () => {
    // The watch drops a peer once its look has taken the peer's marked attempts (it is dead: nothing to wait for). When
    // that look comes between the death and the sentinel's grant, the sentinel, which alone knows the peer's name, must
    // still tell: the peer's unmarked attempts are looked for by that name, or only their heartbeat timeout ends them.
    const { session } = await peer(2701, 'wf-outrun', 'outrun-peer@test');
    const told: Array<{ key: number; identity: string | null }> = [];
    const sentinels = new PeerSentinels(t.url, pino({ level: 'silent' }), (key, identity) => told.push({ key, identity }), 10_000);
    try {
      sentinels.watch(new Set([2701]));
      await waitUntil(async () => (await waitingSentinels()) === 1, { what: 'the sentinel waiting', timeoutMs: 5_000 });
      sentinels.watch(new Set()); // the look took the attempts: no longer wanted, still waiting (10 s)
      await kill(session);
      await waitUntil(() => told.length > 0, { what: 'the death told', timeoutMs: 5_000, intervalMs: 20 });
      expect(told).toEqual([{ key: 2701, identity: 'outrun-peer@test' }]);
    } finally {
      sentinels.stop();
    }
  });

  it("asks Temporal, by the dead peer's name, for the attempts it never marked: jobs running or in line, activity started", async () => {
    // The test before left a job marked by a peer that has ended since: out of the way.
    await t.database.pool.query(`UPDATE automation_queue SET status = 'completed'`);
    const dying = await peer(2101, 'wf-marked', 'dying-peer@test');
    const job = async (workflowId: string, set: string) => {
      const id = await enqueueVeo3Job(t.database.pool, workflowId);
      await t.database.pool.query(`UPDATE automation_queue SET ${set} WHERE id = $1`, [id]);
    };
    await job('wf-hot', `waiting_since = now(), parked = false`);
    await job('wf-called-up', `waiting_since = now(), parked = true, called_up_at = now()`);
    await job('wf-running', `status = 'processing'`);
    await job('wf-parked', `waiting_since = now(), parked = true, called_up_at = NULL`);
    await job('wf-planned', `waiting_since = NULL, parked = false`);
    const asked: Array<{ identity: string; workflowIds: readonly string[] }> = [];
    const failedByToken: string[] = [];
    const watch = watcher(
      async (lost) => {
        failedByToken.push(lost.workflowId);
        return 'failed';
      },
      {
        failUnmarked: async (identity, workflowIds) => {
          asked.push({ identity, workflowIds });
          return 0;
        },
      },
    );
    watch.start();
    try {
      await waitUntil(() => watch.watchedKeys().includes(2101), { what: 'a sentinel on the peer', timeoutMs: 5_000 });
      await kill(dying.session);
      await waitUntil(() => asked.length > 0, { what: 'its unmarked attempts looked for', timeoutMs: 10_000, intervalMs: 20 });
      expect(failedByToken).toEqual(['wf-marked']);
      expect(asked).toHaveLength(1);
      expect(asked[0]!.identity).toBe('dying-peer@test');
      // The marked attempt was failed by its token; a parked job's workflow starts no activity before its call-up.
      expect(asked[0]!.workflowIds).toEqual(expect.arrayContaining(['wf-hot', 'wf-called-up', 'wf-running']));
      for (const never of ['wf-marked', 'wf-parked', 'wf-planned']) expect(asked[0]!.workflowIds).not.toContain(never);
    } finally {
      watch.stop();
    }
  });

  it('does not judge by name a process whose old session ended while it lives on a new key', async () => {
    await t.database.pool.query(`UPDATE automation_queue SET status = 'completed'`);
    // Its listener came back on a new key (its running attempts moved there) while the old session lived on.
    const old = await peer(2201, 'wf-moved', 'moved-peer@test');
    const renewed = new pg.Client({ connectionString: t.url, application_name: 'moved-peer@test' });
    await renewed.connect();
    await takePresence(renewed, 2202);
    const unmarked = await enqueueVeo3Job(t.database.pool, 'wf-unmarked');
    await t.database.pool.query(`UPDATE automation_queue SET waiting_since = now() WHERE id = $1`, [unmarked]);
    const asked: string[] = [];
    const watch = watcher(async () => 'failed', {
      failUnmarked: async (identity) => {
        asked.push(identity);
        return 0;
      },
    });
    watch.start();
    try {
      await waitUntil(() => watch.watchedKeys().includes(2201), { what: 'a sentinel on the old key', timeoutMs: 5_000 });
      await t.database.pool.query(`UPDATE automation_queue SET activity_worker = 2202 WHERE activity_worker = 2201`);
      const events = () => t.database.pool.query(`SELECT 1 FROM job_events WHERE event = 'worker_lost'`);
      const before = (await events()).rowCount ?? 0;
      await kill(old.session);
      // The sentinel on the old key fired and the watch looked (the old key is waited on no more).
      await waitUntil(() => !watch.watchedKeys().includes(2201), { what: 'the old key let go', timeoutMs: 5_000, intervalMs: 20 });
      await sleep(500);
      expect(asked).toEqual([]);
      expect((await events()).rowCount).toBe(before);
    } finally {
      watch.stop();
      await renewed.end();
    }
  });

  it("looks for a gone peer's unmarked attempts again at every round for goneLookMs, then no more", async () => {
    const dying = await peerBesideHotJob(2301, '2', 'lingering-peer@test');
    const asked: number[] = [];
    const watch = watcher(async () => 'failed', {
      tickMs: 100,
      goneLookMs: 1_000,
      failUnmarked: async (identity, workflowIds) => {
        expect([identity, workflowIds]).toEqual(['lingering-peer@test', ['wf-hot-2']]);
        asked.push(Date.now());
        return 0;
      },
    });
    watch.start();
    try {
      await waitUntil(() => watch.watchedKeys().includes(2301), { what: 'a sentinel on the peer', timeoutMs: 5_000 });
      const goneAt = Date.now();
      await kill(dying.session);
      await sleep(2_000);
      // Several looks (a round every 100 ms), the first right after the death, none after the second after it.
      expect(asked.length).toBeGreaterThanOrEqual(4);
      expect(asked[0]! - goneAt).toBeLessThan(1_000);
      // The window runs from the round's start; each ask is timed after that round's two reads, slower under load
      // than at the first look (CI: 1,004 ms).
      expect(Math.max(...asked) - asked[0]!).toBeLessThanOrEqual(1_000 + 300);
      const seen = asked.length;
      await sleep(500);
      expect(asked.length).toBe(seen);
    } finally {
      watch.stop();
    }
  });

  it("goes on looking for goneLookMs after its failures of the dead peer's attempts return, however long they took", async () => {
    const dying = await peerBesideHotJob(2501, '4', 'slow-fail-peer@test');
    // The failure of the marked attempt takes longer than goneLookMs, as Temporal's did under load (3.7 s against 10 s).
    let failedAt = 0;
    const asked: number[] = [];
    const watch = watcher(
      async () => {
        await sleep(1_200);
        failedAt = Date.now();
        return 'failed';
      },
      {
        tickMs: 100,
        goneLookMs: 1_000,
        failUnmarked: async () => {
          asked.push(Date.now());
          return 0;
        },
      },
    );
    watch.start();
    try {
      await waitUntil(() => watch.watchedKeys().includes(2501), { what: 'a sentinel on the peer', timeoutMs: 5_000 });
      await kill(dying.session);
      await waitUntil(() => failedAt > 0, { what: 'the failure sent', timeoutMs: 5_000, intervalMs: 20 });
      await sleep(2_500);
      // Looks after the failure returned (its retry may have gone to the dead peer's polls), until goneLookMs after it.
      const after = asked.filter((at) => at > failedAt);
      expect(after.length, `looks at ${asked.map((at) => at - failedAt).join(', ')} ms from the failure`).toBeGreaterThanOrEqual(3);
      expect(Math.max(...after) - failedAt).toBeGreaterThan(500);
      // And then no more (a look's own queries may end it a little after the window).
      expect(Math.max(...after) - failedAt).toBeLessThanOrEqual(1_800);
    } finally {
      watch.stop();
    }
  });

  it("lets one watcher at a time ask Temporal about a gone peer's unmarked attempts (they are failed by ids)", async () => {
    const dying = await peerBesideHotJob(2401, '3', 'shared-peer@test');
    // Each look takes a while, as Temporal's describes and failures do under load.
    const looks: Array<{ watcher: number; start: number; end: number }> = [];
    const watches = [1, 2].map((n) =>
      watcher(async () => 'failed', {
        tickMs: 100,
        goneLookMs: 1_500,
        failUnmarked: async () => {
          const start = Date.now();
          await sleep(300);
          looks.push({ watcher: n, start, end: Date.now() });
          return 0;
        },
      }),
    );
    for (const w of watches) w.start();
    try {
      await waitUntil(() => watches.every((w) => w.watchedKeys().includes(2401)), { what: 'both sentinels on the peer', timeoutMs: 5_000 });
      await kill(dying.session);
      await sleep(2_500);
      // Looks every round for goneLookMs (a refused watcher tries again at its next), never two at the same time.
      expect(looks.length).toBeGreaterThanOrEqual(3);
      const inOrder = [...looks].sort((a, b) => a.start - b.start);
      for (let i = 1; i < inOrder.length; i++) expect(inOrder[i]!.start).toBeGreaterThanOrEqual(inOrder[i - 1]!.end);
    } finally {
      for (const w of watches) w.stop();
    }
  });
});
