/**
 * Durability under real faults: kill -9 and SIGSTOP of worker processes, a
 * Temporal server restart, PostgreSQL going away. Each proves pay-once and
 * no lost or duplicated work, with real processes that are cleaned up.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startTemporalServer } from '../../src/dev/temporal-server';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { spawnWorker, type WorkerProcess } from '../helpers/processes';
import { startTcpProxy, type CuttableProxy } from '../helpers/tcp-proxy';
import { waitUntil } from '../helpers/wait';
import { activityStarts } from '../helpers/history';
import { sleep } from '../../src/shared/sleep';
import { ACTIVITY_STARTED } from '../../src/temporal/client';
import pg from 'pg';
import pino from 'pino';
import { effectiveLimits } from '../../src/config/env';
import { SlotGate } from '../../src/gate/slot-gate';
import { PRESENCE_GRACE_MS, PRESENCE_LOCK_CLASS } from '../../src/gate/presence';
import { HEARTBEAT_TIMEOUT_MS } from '../../src/config/providers';
import { createTestDatabase, enqueueVeo3Job } from '../helpers/test-db';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function harness(opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness({ workers: false, ...opts });
  cleanups.push(() => h.stop());
  return h;
}
async function worker(h: Harness, queues: string[] = []): Promise<WorkerProcess> {
  const w = await spawnWorker(h.childEnv, queues);
  cleanups.push(() => w.kill('SIGKILL'));
  return w;
}
/** The same PostgreSQL reached through a proxy the test can cut; closed after the test. */
async function cuttable(databaseUrl: string): Promise<{ proxy: CuttableProxy; url: string }> {
  const u = new URL(databaseUrl);
  const proxy = await startTcpProxy(Number(u.port || 5432), u.hostname);
  cleanups.push(() => proxy.close());
  u.port = String(proxy.port);
  return { proxy, url: u.toString() };
}
/** Workers reach PostgreSQL through a cuttable proxy; the test's own queries do not, so it can watch the outage. */
async function harnessWithCuttableDatabase(): Promise<{ h: Harness; proxy: CuttableProxy }> {
  let proxy!: CuttableProxy;
  const h = await harness({
    workerDatabaseUrl: async (databaseUrl) => {
      const c = await cuttable(databaseUrl);
      proxy = c.proxy;
      return c.url;
    },
  });
  return { h, proxy };
}
const q = async (h: Harness, text: string, params: unknown[] = []) => (await h.db.database.pool.query(text, params)).rows;
const videoJob = async (h: Harness, recId: string) =>
  (await q(h, `SELECT * FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate'`, [recId]))[0]!;
/**
 * The workflows' results; when they are not all in within `ms`, fails with what each still waits on (pending
 * activities and children, attempts, last failures), the queue's rows and the worker's last lines. A bare timeout
 * said nothing the one time the outage test below timed out in CI.
 */
async function resultsOrWhy(h: Harness, w: WorkerProcess, workflowIds: string[], ms: number) {
  const all = Promise.all(workflowIds.map((id) => h.client.workflow.getHandle(id).result()));
  all.catch(() => undefined);
  // The timer ends with the results: a passing test leaves no 150 s timer behind.
  const done = new AbortController();
  const timedOut = sleep(ms, done.signal).then(
    () => null,
    () => null,
  );
  const results = await Promise.race([all, timedOut]).finally(() => done.abort());
  if (results) return results;
  const workflows = await Promise.all(
    workflowIds.map(async (id) => {
      const d = await h.client.workflow.getHandle(id).describe();
      return {
        id,
        status: d.status.name,
        children: (d.raw.pendingChildren ?? []).map((c) => c.workflowId),
        activities: (d.raw.pendingActivities ?? []).map((a) => ({
          type: a.activityType?.name,
          state: a.state,
          attempt: a.attempt,
          lastFailure: a.lastFailure?.message,
          lastWorker: a.lastWorkerIdentity,
        })),
      };
    }),
  );
  const jobs = await q(
    h,
    `SELECT workflow_id, step, status, attempts, provider_task_id, last_heartbeat_at, error FROM automation_queue ORDER BY created_at`,
  );
  throw new Error(
    `workflows not done after ${ms} ms:\n${JSON.stringify(workflows, null, 1)}\njobs:\n${JSON.stringify(jobs, null, 1)}\n` +
      `worker's last lines:\n${w.lines.slice(-80).join('\n')}`,
  );
}
const onlyInstagram = (o: Record<string, unknown> = {}) => recommendationInput({ jobConfig: { platforms: ['instagram'] }, ...o });

/**
 * A watcher process and a VEO3 victim rendering one idea (15 s renders), its attempt marked, past the watch's grace:
 * the start of the tests where the victim dies with attempts Temporal gave it.
 */
async function renderOnVictim(maxConcurrent: number) {
  const h = await harness({ limits: { veo3: { pollIntervalMs: 100, maxConcurrent } } });
  h.sims.veo3.setFaults({ taskDurationMs: 15_000 });
  await worker(h, ['base', 'openai', 'assembly', 'instagram']); // the watcher
  const victim = await worker(h, ['veo3']);
  const rec = await h.service.enqueue(onlyInstagram());
  await waitUntil(async () => (await videoJob(h, rec.recommendation.id)).provider_task_id, { what: 'the first render submitted' });
  await sleep(PRESENCE_GRACE_MS);
  return { h, victim, rec, victimIdentity: `${victim.child.pid}@${os.hostname()}` };
}
/** Until Temporal shows the workflow's render attempt (`minAttempt` or later) started by `identity`. */
async function renderStartedBy(h: Harness, workflowId: string, identity: string, what: string, minAttempt = 1) {
  await waitUntil(
    async () =>
      (await h.client.workflow.getHandle(workflowId).describe()).raw.pendingActivities?.some(
        (a) =>
          a.activityType?.name === 'generateVideo' &&
          (a.attempt ?? 1) >= minAttempt &&
          a.state === ACTIVITY_STARTED &&
          a.lastWorkerIdentity === identity,
      ),
    { what, timeoutMs: 30_000, intervalMs: 20 },
  );
}

// Each test starts and kills worker processes (a workflow bundle each, seconds on a busy host): one took 40 s on the
// landing CI, 62 s on a clean clone and over 90 s with a bench beside it. The waits inside bound the behaviour.
describe('worker death during VEO3 polling', { timeout: 150_000 }, () => {
  it('kill -9: a replacement worker resumes the same task within 15 s of starting and the provider saw one submission', async () => {
    const h = await harness({ limits: { veo3: { pollIntervalMs: 100 } } });
    h.sims.veo3.setFaults({ taskDurationMs: 12_000 });
    const doomed = await worker(h);
    const { recommendation, workflowId } = await h.service.enqueue(onlyInstagram());
    await waitUntil(async () => (await videoJob(h, recommendation.id)).provider_task_id, { what: 'VEO3 submitted' });
    await sleep(500); // mid-polling
    await doomed.kill('SIGKILL');
    const killedAt = Date.now();
    await worker(h);
    // From the replacement being up: its start-up (seconds on two busy cores beside a Temporal cluster) is not the
    // wait under test, which is the attempt's heartbeat timeout (10 s), not the activity's start-to-close (days).
    const upAt = Date.now();
    await waitUntil(
      async () =>
        (await q(h, `SELECT 1 FROM job_events WHERE event = 'resumed' AND job_id = $1`, [(await videoJob(h, recommendation.id)).id]))
          .length,
      { timeoutMs: 30_000, what: 'resumed on the second worker' },
    );
    const resumedAt = Date.now();
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    expect(h.sims.veo3.stats().submissions).toBe(1);
    expect(
      resumedAt - upAt,
      `resumed ${resumedAt - killedAt} ms after the kill, ${resumedAt - upAt} ms after the replacement was up`,
    ).toBeLessThanOrEqual(15_000);
    const job = await videoJob(h, recommendation.id);
    expect(job).toMatchObject({ status: 'completed', attempts: 2 });
  });

  it('kill -9, a second worker up: its session ends, the attempt fails as WorkerLost before the heartbeat timeout, paid once', async () => {
    const h = await harness({ limits: { veo3: { pollIntervalMs: 100 } } });
    h.sims.veo3.setFaults({ taskDurationMs: 15_000 });
    const a = await worker(h);
    const b = await worker(h);
    // A watcher judges others only once its own presence is older than the grace.
    await sleep(PRESENCE_GRACE_MS);
    const { recommendation, workflowId } = await h.service.enqueue(onlyInstagram());
    await waitUntil(async () => (await videoJob(h, recommendation.id)).provider_task_id, { what: 'VEO3 submitted' });
    const jobId = (await videoJob(h, recommendation.id)).id as string;
    const pending = (await h.client.workflow.getHandle(workflowId).describe()).raw.pendingActivities?.find(
      (p) => p.activityType?.name === 'generateVideo',
    );
    const victim = [a, b].find((w) => `${w.child.pid}@${os.hostname()}` === pending?.lastWorkerIdentity);
    expect(victim, `the worker running generateVideo (${pending?.lastWorkerIdentity})`).toBeDefined();
    await sleep(500); // mid-polling
    await victim!.kill('SIGKILL');
    const killedAt = Date.now();
    const event = async (name: string) =>
      (await q(h, `SELECT created_at FROM job_events WHERE event = $1 AND job_id = $2`, [name, jobId]))[0]?.created_at as Date | undefined;
    const resumed = await waitUntil(() => event('resumed'), { timeoutMs: 30_000, what: 'resumed on the other worker' });
    const lost = await event('worker_lost');
    expect(lost, 'the lost-worker watch took the attempt').toBeDefined();
    // Not the heartbeat timeout's doing: the job ran again before that timeout could have passed.
    expect(resumed.getTime() - killedAt).toBeLessThan(HEARTBEAT_TIMEOUT_MS);
    expect(resumed.getTime()).toBeGreaterThan(lost!.getTime());
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    expect(h.sims.veo3.stats().submissions).toBe(1);
    expect(await videoJob(h, recommendation.id)).toMatchObject({ status: 'completed', attempts: 2 });
  });

  it('kill -9 of the only process running workflows: a VEO3-only process fails the lost attempt and resumes it, paid once', async () => {
    const h = await harness({ limits: { veo3: { pollIntervalMs: 100 } } });
    h.sims.veo3.setFaults({ taskDurationMs: 30_000 });
    const doomed = await worker(h);
    const { recommendation, workflowId } = await h.service.enqueue(onlyInstagram());
    await waitUntil(async () => (await videoJob(h, recommendation.id)).provider_task_id, { what: 'VEO3 submitted' });
    // Started after the submit, so the render runs on the doomed process; the survivor judges others after the grace.
    await worker(h, ['veo3']);
    await sleep(PRESENCE_GRACE_MS);
    await doomed.kill('SIGKILL');
    const killedAt = Date.now();
    const jobId = (await videoJob(h, recommendation.id)).id as string;
    const event = async (name: string) =>
      (await q(h, `SELECT created_at FROM job_events WHERE event = $1 AND job_id = $2`, [name, jobId]))[0]?.created_at as Date | undefined;
    const resumed = await waitUntil(() => event('resumed'), { timeoutMs: 30_000, what: 'resumed on the VEO3 process' });
    expect(await event('worker_lost'), 'the VEO3 process took the lost attempt').toBeDefined();
    // Before the heartbeat timeout: the survivor's watch failed the attempt, not Temporal's timeout.
    expect(resumed.getTime() - killedAt).toBeLessThan(HEARTBEAT_TIMEOUT_MS);
    // The rest of the workflow needs a process that runs workflows again.
    await worker(h);
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('published');
    expect(h.sims.veo3.stats().submissions).toBe(1);
  });

  it('kill -9 of a worker Temporal had given an attempt it never ran: found by who started it, not the heartbeat timeout', async () => {
    // A render on the victim: its marked attempt has the watcher waiting on the victim's presence key.
    const { h, victim, rec: first, victimIdentity } = await renderOnVictim(2);
    // Frozen, the victim's open polls still take tasks: the second render's attempt is given to it and never runs,
    // as when a process dies between Temporal's dispatch and its first read of the job.
    victim.child.kill('SIGSTOP');
    cleanups.push(async () => victim.child.kill('SIGCONT'));
    const second = await h.service.enqueue(onlyInstagram());
    await renderStartedBy(h, second.workflowId, victimIdentity, "the second render's attempt given to the frozen victim");
    expect((await videoJob(h, second.recommendation.id)).activity_token, 'never marked').toBeNull();
    await victim.kill('SIGKILL');
    await worker(h, ['veo3']); // where both renders resume
    const results = await Promise.all([first, second].map((r) => h.client.workflow.getHandle(r.workflowId).result()));
    expect(results.map((r) => r.status)).toEqual(['published', 'published']);
    // The second render's retry started after a WorkerLost failure: the watch failed the attempt it found at Temporal
    // (started by the victim), before the heartbeat timeout (which would have ended it as a timeout).
    const started = await activityStarts(h.client, second.workflowId, 'generateVideo');
    expect(started.map((a) => a.attempt)).toEqual([2]);
    expect(started[0]!.lastFailure?.applicationFailureInfo?.type, started[0]!.lastFailure?.message ?? '').toBe('WorkerLost');
    // The first render resumed its task; the second, never submitted by the victim, was submitted once.
    expect(h.sims.veo3.stats().submissions).toBe(2);
  });

  it("a retry Temporal hands a dead worker's still open poll after the watch's first look: found by a later look, paid once", async () => {
    const { h, victim, rec, victimIdentity } = await renderOnVictim(1);
    // Dead to PostgreSQL (its sessions ended) while its polls stay open at Temporal, as when the server has not yet
    // heard a killed process's connection close: the watch fails the marked attempt, and its retry goes to the only
    // VEO3 polls there are, the victim's.
    victim.child.kill('SIGSTOP');
    cleanups.push(async () => victim.child.kill('SIGCONT'));
    await q(h, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [victimIdentity]);
    await renderStartedBy(h, rec.workflowId, victimIdentity, 'the retry handed to the dead worker', 2);
    await victim.kill('SIGKILL');
    await worker(h, ['veo3']); // where the render resumes
    const [result] = await resultsOrWhy(h, victim, [rec.workflowId], 60_000);
    expect(result!.status).toBe('published');
    // The retry the victim got ended as WorkerLost (a later look found it started by the victim), not at the heartbeat
    // timeout: the attempt that ran says what ended the one before it.
    const started = await activityStarts(h.client, rec.workflowId, 'generateVideo');
    expect(started).toHaveLength(1);
    expect(started[0]!.attempt).toBeGreaterThanOrEqual(3);
    expect(started[0]!.lastFailure?.applicationFailureInfo?.type, started[0]!.lastFailure?.message ?? '').toBe('WorkerLost');
    // Every attempt polled the one task the victim submitted.
    expect(h.sims.veo3.stats().submissions).toBe(1);
  });

  it('three SIGTERM deploys in one render: each hands it on at once, paid once; neither it nor the job behind it fails', async () => {
    const h = await harness({ limits: { veo3: { pollIntervalMs: 100, maxConcurrent: 1 } } });
    h.sims.veo3.setFaults({ taskDurationMs: 30_000 });
    await worker(h, ['base', 'openai', 'assembly', 'instagram']);
    // VEO3-only workers start fast (no workflow bundle): the deploys fit in one render.
    let current = await worker(h, ['veo3']);
    const { recommendation, workflowId } = await h.service.enqueue(onlyInstagram());
    await waitUntil(async () => (await videoJob(h, recommendation.id)).provider_task_id, { what: 'VEO3 submitted' });
    const jobId = (await videoJob(h, recommendation.id)).id;
    // A second video waits in VEO3's line (cap 1) through the same deploys.
    const behind = await h.service.enqueue(onlyInstagram({ title: 'Waiting through the deploys' }));
    await waitUntil(async () => (await videoJob(h, behind.recommendation.id))?.waiting_since, { what: 'second job in line' });
    const resumed = async () => (await q(h, `SELECT 1 FROM job_events WHERE event = 'resumed' AND job_id = $1`, [jobId])).length;
    // Three shutdowns use up the activity's 3 attempts; none of them is the job's fault.
    for (let deploy = 1; deploy <= 3; deploy++) {
      const next = await worker(h, ['veo3']);
      const stoppedAt = Date.now();
      await current.kill('SIGTERM');
      await waitUntil(async () => (await resumed()) >= deploy, { timeoutMs: 20_000, what: `resumed after deploy ${deploy}` });
      // Handed on by the stopping worker at once: not after the SDK's grace time (5 s), nor found by a heartbeat timeout (10 s).
      expect(Date.now() - stoppedAt).toBeLessThan(4_000);
      current = next;
    }
    expect((await videoJob(h, recommendation.id)).status).toBe('processing');
    expect((await videoJob(h, behind.recommendation.id)).status).toBe('queued');
    h.sims.veo3.setFaults({ taskDurationMs: 500 }); // the second render, submitted later, is short
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    expect((await h.client.workflow.getHandle(behind.workflowId).result()).status).toBe('published');
    expect(h.sims.veo3.stats()).toMatchObject({ submissions: 2, maxInFlight: 1 });
    expect(await videoJob(h, recommendation.id)).toMatchObject({ status: 'completed', error: null });
    expect(await videoJob(h, behind.recommendation.id)).toMatchObject({ status: 'completed', error: null });
  });

  it('a SIGTERM stop leaves no attempt marked as its own: no other process takes its hand-back for a lost worker', async () => {
    // The demo's restart after a Ctrl-C warned "worker process lost: its job resumes elsewhere (outcome=gone)" for
    // jobs the stopped process had handed back: their rows still named its presence key and task tokens.
    const h = await harness({ limits: { veo3: { pollIntervalMs: 100 } } });
    h.sims.veo3.setFaults({ taskDurationMs: 10_000 });
    // Its watch hears of the VEO3 process's session ending at once (a sentinel on its key), and looks.
    await worker(h, ['base', 'openai', 'assembly', 'instagram']);
    const first = await worker(h, ['veo3']);
    const { recommendation, workflowId } = await h.service.enqueue(onlyInstagram());
    await waitUntil(async () => (await videoJob(h, recommendation.id)).provider_task_id, { what: 'VEO3 submitted' });
    const job = await videoJob(h, recommendation.id);
    expect(job.activity_token).not.toBeNull();
    await first.kill('SIGTERM');
    // No VEO3 process serves the retry yet: the row is as the stopped process left it.
    expect(await videoJob(h, recommendation.id)).toMatchObject({ status: 'processing', activity_token: null });
    await sleep(3_000);
    expect(await q(h, `SELECT 1 FROM job_events WHERE event = 'worker_lost' AND job_id = $1`, [job.id])).toHaveLength(0);
    await worker(h, ['veo3']);
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('published');
    expect(h.sims.veo3.stats().submissions).toBe(1);
  });

  // Each poll the frozen process swallows costs a heartbeat timeout (10 s): 75 s is usual on a loaded machine.
  it(
    'a hung (SIGSTOP) worker is detected by the heartbeat timeout and its job finishes elsewhere, paid once',
    { timeout: 180_000 },
    async () => {
      const h = await harness({ limits: { veo3: { pollIntervalMs: 100 } } });
      h.sims.veo3.setFaults({ taskDurationMs: 12_000 });
      const frozen = await worker(h, ['veo3']);
      await worker(h, ['base', 'openai', 'assembly', 'instagram']);
      const { recommendation, workflowId } = await h.service.enqueue(onlyInstagram());
      await waitUntil(async () => (await videoJob(h, recommendation.id)).provider_task_id, { what: 'VEO3 submitted' });
      frozen.child.kill('SIGSTOP');
      cleanups.push(async () => frozen.child.kill('SIGCONT'));
      await worker(h, ['veo3']);
      // The frozen process still holds open polls that may swallow the retries: each
      // such loss ends in another heartbeat timeout, and the workflow runs the job again.
      const result = await h.client.workflow.getHandle(workflowId).result();
      expect(result.status).toBe('published');
      expect(h.sims.veo3.stats().submissions).toBe(1);
      const events = await q(h, `SELECT event FROM job_events WHERE job_id = $1`, [(await videoJob(h, recommendation.id)).id]);
      expect(events.map((e) => e.event)).toContain('resumed');
    },
  );
});

describe('stuck detection', () => {
  it('flags a job running past 2x its estimate in queue_processing and raises one stuck event', async () => {
    const h = await harness();
    // OpenAI's estimate is 10 s: an answer that takes 32 s is stuck from 20 s on.
    h.sims.openai.setFaults({ latencyMs: 32_000 });
    await worker(h);
    const { recommendation, workflowId } = await h.service.enqueue(onlyInstagram());
    const analyze = async () =>
      (await q(h, `SELECT * FROM queue_processing WHERE recommendation_id = $1 AND step = 'analyze'`, [recommendation.id]))[0];
    await waitUntil(async () => (await analyze())?.is_stuck === true, { timeoutMs: 40_000, what: 'is_stuck' });
    await waitUntil(
      async () => (await q(h, `SELECT 1 FROM job_events WHERE event = 'stuck' AND recommendation_id = $1`, [recommendation.id])).length,
      { timeoutMs: 15_000, what: 'stuck event' },
    );
    h.sims.openai.setFaults({ latencyMs: 0 });
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('published');
  });
});

describe('infrastructure outages', () => {
  it('restarting the Temporal server mid-run loses and duplicates nothing', async () => {
    const dbFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reelflow-restart-')), 'temporal.sqlite');
    const opts = { port: 7933, uiPort: 8933, dbFile, logFile: `${dbFile}.log` };
    let server = await startTemporalServer(opts);
    cleanups.push(() => server.stop());
    const h = await harness({ temporalAddress: server.address });
    h.sims.veo3.setFaults({ taskDurationMs: 3_000 });
    await worker(h);
    const recs = [];
    for (let i = 0; i < 4; i++) recs.push(await h.service.enqueue(onlyInstagram({ title: `restart ${i}` })));
    await waitUntil(
      async () => (await q(h, `SELECT 1 FROM automation_queue WHERE step = 'generate' AND provider_task_id IS NOT NULL`)).length >= 1,
      {
        what: 'some VEO3 work under way',
      },
    );
    await server.stop();
    await sleep(2_000);
    server = await startTemporalServer(opts);
    const results = await Promise.all(recs.map((r) => h.client.workflow.getHandle(r.workflowId).result()));
    expect(results.map((r) => r.status)).toEqual(['published', 'published', 'published', 'published']);
    expect(h.sims.veo3.stats().submissions).toBe(4);
    const recRows = await q(h, `SELECT status FROM competitive_recommendations`);
    expect(recRows.every((r) => r.status === 'published')).toBe(true);
    for (const r of recs) {
      const runs = [];
      for await (const wf of h.client.workflow.list({ query: `WorkflowId = '${r.workflowId}'` })) runs.push(wf);
      expect(runs).toHaveLength(1);
    }
  });

  // Generous timeout: after the outage, backoffs of up to a minute may have to run out on a loaded 2-core machine.
  it('PostgreSQL briefly unavailable: sync activities retry and the tables end up matching Temporal', { timeout: 180_000 }, async () => {
    const { h, proxy } = await harnessWithCuttableDatabase();
    h.sims.veo3.setFaults({ taskDurationMs: 1_500 });
    const w = await worker(h);
    const recs = [];
    for (let i = 0; i < 3; i++) recs.push(await h.service.enqueue(onlyInstagram({ title: `db outage ${i}` })));
    await waitUntil(async () => (await q(h, `SELECT 1 FROM automation_queue WHERE status = 'processing'`)).length >= 1, {
      what: 'work under way',
    });
    await proxy.cut();
    await sleep(4_000);
    await proxy.restore();
    const results = await resultsOrWhy(
      h,
      w,
      recs.map((r) => r.workflowId),
      150_000,
    );
    expect(results.every((r) => r.status === 'published')).toBe(true);
    const jobs = await q(h, `SELECT status, count(*)::int AS n FROM automation_queue GROUP BY status`);
    expect(jobs).toEqual([{ status: 'completed', n: 9 }]);
    const recRows = await q(h, `SELECT status FROM competitive_recommendations`);
    expect(recRows.every((r) => r.status === 'published')).toBe(true);
    expect(h.sims.veo3.stats().submissions).toBe(3);
  });
});

describe('worker shutdown after a lost database connection', () => {
  it('a join whose earlier try lost its connection in line resumes the slot another process granted meanwhile', async () => {
    const t = await createTestDatabase(effectiveLimits({}));
    cleanups.push(() => t.drop());
    const pool = t.database.pool;
    const jobId = await enqueueVeo3Job(pool, 'wf-join-race');
    // The earlier try joined the line, then lost its connection before it could leave it: the row is still in line.
    await pool.query('SELECT wait_for_slot($1, 1)', [jobId]);
    // Another process's grant lands between this try's requeue and its join.
    let raced = false;
    const racing = {
      async query(text: string, params?: unknown[]) {
        const result = await pool.query(text, params);
        if (text.startsWith('SELECT requeue_job') && !raced) {
          raced = true;
          await pool.query(`SELECT grant_slots('veo3')`);
        }
        return result;
      },
    } as unknown as typeof pool;
    const gate = new SlotGate(racing, t.url, pino({ level: 'silent' }));
    await expect(gate.acquire(jobId, 'veo3', { attempt: 1 })).resolves.toEqual({ resumed: true });
    expect(raced).toBe(true);
    const [row] = (await pool.query(`SELECT status FROM automation_queue WHERE id = $1`, [jobId])).rows;
    expect(row.status).toBe('processing');
    expect((await pool.query(`SELECT 1 FROM provider_slots WHERE job_id = $1`, [jobId])).rowCount).toBe(1);
    await gate.stop();
  });

  it('the slot gate keeps one LISTEN connection through repeated outages and closes it on stop', async () => {
    const t = await createTestDatabase(effectiveLimits({}));
    cleanups.push(() => t.drop());
    const { proxy, url } = await cuttable(t.url);
    const gate = new SlotGate(t.database.pool, url, pino({ level: 'silent' }));
    await gate.start();
    const listeners = async () =>
      (
        await t.database.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`,
        )
      ).rows[0]!.n;
    expect(await listeners()).toBe(1);
    // Outages of different lengths, some landing while the listener is reconnecting.
    for (const [down, up] of [
      [200, 1_050],
      [1_500, 1_000],
      [50, 1_020],
      [2_200, 2_500],
    ]) {
      await proxy.cut();
      await sleep(down!);
      await proxy.restore();
      await sleep(up!);
    }
    await waitUntil(async () => (await listeners()) >= 1, { what: 'listener back' });
    await sleep(2_500);
    expect(await listeners()).toBe(1);
    // Its presence lock was taken again on the new session (src/gate/presence.ts): held once, and gone with it.
    const presence = async () =>
      (
        await t.database.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
            WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid`,
          [PRESENCE_LOCK_CLASS],
        )
      ).rows[0]!.n;
    expect(await presence()).toBe(1);
    await gate.stop();
    // Both: its stop runs one UPDATE on the listener's session before closing it, so the session stops reading as a
    // LISTEN before it ends, and the server lets its locks go as the backend exits, a moment after the socket closed.
    await waitUntil(async () => (await listeners()) === 0 && (await presence()) === 0, {
      timeoutMs: 3_000,
      what: 'no listener and no presence left after stop',
    });
  });

  it('a listener back while its old session still holds the presence key takes a new key, and its running attempts with it', async () => {
    const t = await createTestDatabase(effectiveLimits({}));
    cleanups.push(() => t.drop());
    const pool = t.database.pool;
    // One attempt's mark is held back until the key has changed: sent with the old key, it lands after the move.
    let heldJob: string | null = null;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holding = {
      query: async (text: string, params?: unknown[]) => {
        if (heldJob && params?.[0] === heldJob && text.includes('activity_token = $3')) await held;
        return pool.query(text, params);
      },
    } as unknown as pg.Pool;
    const gate = new SlotGate(holding, t.url, pino({ level: 'silent' }));
    await gate.start();
    cleanups.push(() => gate.stop());
    const enqueue = (wf: string) => enqueueVeo3Job(pool, wf);
    const workerOf = async (id: string) =>
      (await pool.query<{ w: number }>('SELECT activity_worker AS w FROM automation_queue WHERE id = $1', [id])).rows[0]!.w;
    const running = await enqueue('wf-running');
    await gate.markActivity(running, new Uint8Array([1, 2, 3]));
    const oldKey = await workerOf(running);
    heldJob = await enqueue('wf-marking');
    const marking = gate.markActivity(heldJob, new Uint8Array([7, 8, 9]));

    // The listener's connection breaks; its old session lingers on the server (a network cut: open until TCP
    // gives up), played by a session that takes the key before the listener is back.
    const zombie = new pg.Client({ connectionString: t.url });
    await zombie.connect();
    cleanups.push(() => zombie.end());
    const [listener] = (
      await pool.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`)
    ).rows;
    // And the first move after the reconnection fails (its connection lost in turn): the next connection makes it.
    await pool.query(`CREATE SEQUENCE move_tries;
      CREATE FUNCTION fail_first_move() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.activity_worker IS DISTINCT FROM NEW.activity_worker AND nextval('move_tries') = 1 THEN
          RAISE EXCEPTION 'connection lost during the move';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER fail_first_move BEFORE UPDATE ON automation_queue FOR EACH ROW EXECUTE FUNCTION fail_first_move();`);
    await pool.query('SELECT pg_terminate_backend($1)', [listener!.pid]);
    await waitUntil(
      async () => (await zombie.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [PRESENCE_LOCK_CLASS, oldKey])).rows[0].ok,
      { timeoutMs: 900, intervalMs: 5, what: 'the old key taken before the listener reconnects' },
    );
    await waitUntil(async () => (await workerOf(running)) !== oldKey, { timeoutMs: 10_000, what: 'the attempt moved to a new key' });
    expect(Number((await pool.query(`SELECT last_value FROM move_tries`)).rows[0].last_value)).toBeGreaterThanOrEqual(2);
    const later = await enqueue('wf-later');
    await gate.markActivity(later, new Uint8Array([4, 5, 6]));
    expect(await workerOf(later)).toBe(await workerOf(running));
    release();
    await marking;
    expect(await workerOf(heldJob)).toBe(await workerOf(running));

    // The old session ends at last: nothing of this live process is lost.
    await zombie.end();
    cleanups.pop();
    const lost = await pool.query(`SELECT job_id FROM take_lost_activities($1)`, [PRESENCE_LOCK_CLASS]);
    expect(lost.rows).toEqual([]);
  });

  it('with its listener cut, a waiting job gets its slot from the sweep: its own grant, or one whose NOTIFY was lost', async () => {
    const t = await createTestDatabase(effectiveLimits({}));
    cleanups.push(() => t.drop());
    const pool = t.database.pool;
    const { proxy, url } = await cuttable(t.url);
    // Queries go straight to PostgreSQL; only the LISTEN connection goes through the proxy.
    const gate = new SlotGate(pool, url, pino({ level: 'silent' }));
    await gate.start();
    cleanups.push(() => gate.stop());
    await proxy.cut();
    const enqueue = (wf: string) => enqueueVeo3Job(pool, wf);
    const holds = (id: string) => pool.query('SELECT 1 FROM provider_slots WHERE job_id = $1', [id]).then((r) => r.rowCount === 1);
    const joined = (id: string, what: string) =>
      waitUntil(
        () => pool.query(`SELECT 1 FROM automation_queue WHERE id = $1 AND waiting_since IS NOT NULL`, [id]).then((r) => r.rowCount),
        { what },
      );

    // 1. Nobody grants but the sweep: the capacity comes back with no release and no NOTIFY.
    await pool.query(`UPDATE provider_limits SET max_concurrent = 0 WHERE provider = 'veo3'`);
    const first = await enqueue('wf-sweep-grants');
    const firstTook = gate.acquire(first, 'veo3', { attempt: 1 });
    await joined(first, 'the first job in line');
    await sleep(300); // its own grant, right after joining, has found no room
    await pool.query(`UPDATE provider_limits SET max_concurrent = 1 WHERE provider = 'veo3'`);
    await expect(Promise.race([firstTook, sleep(5_000).then(() => 'not woken')])).resolves.toEqual({ resumed: false });
    expect(await holds(first)).toBe(true);

    // 2. Another process granted it, and its NOTIFY never reached this one: the slot row wakes the job.
    const second = await enqueue('wf-notify-lost');
    const secondTook = gate.acquire(second, 'veo3', { attempt: 1 });
    await joined(second, 'the second job in line');
    await sleep(300);
    // Room and the grant in one transaction: the sweep's own grant cannot take it first (it waits on the limits row).
    await pool.query(`BEGIN; UPDATE provider_limits SET max_concurrent = 2 WHERE provider = 'veo3'; SELECT grant_slots('veo3'); COMMIT`);
    expect(await holds(second)).toBe(true);
    await expect(Promise.race([secondTook, sleep(5_000).then(() => 'not woken')])).resolves.toEqual({ resumed: false });
    await proxy.restore();
  });

  it('stops cleanly on the first SIGTERM once its PostgreSQL connection was cut and restored (a second SIGTERM is a no-op)', async () => {
    const { h, proxy } = await harnessWithCuttableDatabase();
    h.sims.veo3.setFaults({ taskDurationMs: 60_000 });
    const w = await worker(h);
    // A render in flight and a second job in line: the outage hits the gate's heartbeats, sweeps and listener.
    const { recommendation } = await h.service.enqueue(onlyInstagram());
    await waitUntil(async () => (await videoJob(h, recommendation.id)).provider_task_id, { what: 'VEO3 submitted' });
    await proxy.cut();
    await new Promise((r) => setTimeout(r, 3_000));
    await proxy.restore();
    // The slot listener reconnects (1 s retries) and the pool reconnects on its next query.
    await waitUntil(async () => w.lines.some((l) => l.includes('slot listener lost its connection')), { what: 'listener lost' });
    await new Promise((r) => setTimeout(r, 3_000));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      w.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const stoppedAt = Date.now();
    w.child.kill('SIGTERM');
    // An impatient operator's second signal while it drains must not crash it either.
    await sleep(300);
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    const outcome = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 8_000))]);
    expect(outcome, w.lines.slice(-10).join('\n')).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(8_000);
    expect(w.lines.filter((l) => /IllegalStateError|Not running/.test(l))).toEqual([]);
    expect(w.lines.some((l) => l.includes('workers stopped'))).toBe(true);
  });
});
