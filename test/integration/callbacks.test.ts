/**
 * KIE callbacks: with KIE_CALLBACK_URL set, a finished render frees its slot
 * for the next render in the API's hook, and is read at once instead of at the
 * next poll (here 30 s away), through a NOTIFY and the slot gate's listener.
 * The hook refuses wrong secrets and anything that is not a callback.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../src/api/server';
import { createLogger } from '../../src/logger';
import { TEST_ENV } from '../api/support';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import type { SimFaults } from '../../src/simulators/server';
import { freePort, spawnWorker, type WorkerProcess } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';

const SECRET = 'callback-secret-0123456789abcdef0123456789';
const POLL_MS = 30_000;

let h: Harness;
let api: FastifyInstance;
beforeAll(async () => {
  const port = await freePort();
  h = await startHarness({
    env: { KIE_CALLBACK_URL: `http://127.0.0.1:${port}/hooks/kie/${SECRET}`, KIE_CALLBACK_SECRET: SECRET },
    limits: { veo3: { pollIntervalMs: POLL_MS, maxConcurrent: 1 } },
    taskDurationMs: 300,
  });
  api = await buildApiServer({
    database: h.db.database,
    service: h.service,
    env: { ...TEST_ENV, KIE_CALLBACK_SECRET: SECRET },
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'test-api'),
  });
  await api.listen({ host: '127.0.0.1', port });
});
afterAll(async () => {
  await api?.close();
  await h?.stop();
});

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await h.db.database.pool.query(text, params)).rows as T[];

describe('KIE callbacks', () => {
  it('reads a finished render at once instead of at the next poll', async () => {
    const rec = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['instagram'] } }));
    await h.client.workflow.getHandle(rec.workflowId).result();

    const [job] = await q(`SELECT id, provider_task_id FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate'`, [
      rec.recommendation.id,
    ]);
    const events = await q<{ event: string; at: Date; detail: Record<string, unknown> }>(
      `SELECT event, created_at AS at, detail FROM job_events WHERE job_id = $1 ORDER BY id`,
      [job!.id],
    );
    const at = (name: string) => events.find((e) => e.event === name)?.at.getTime();
    expect(events.find((e) => e.event === 'callback')?.detail).toMatchObject({ code: 200 });
    // The first status read (right after the submit) said "generating"; only the callback can
    // have brought the next read forward from POLL_MS.
    expect(at('completed')! - at('submitted')!).toBeLessThan(POLL_MS / 2);
    expect(h.sims.veo3.callbacks).toMatchObject({ sent: 1, delivered: 1 });
    expect(h.sims.veo3.stats().submissions).toBe(1);
  });

  it("gives a finished render's slot to the next render in the callback, before its own poller completes it", async () => {
    const paidBefore = h.sims.veo3.stats().submissions;
    // Renders long enough for the second idea's analysis to end and its render to wait in line, armed, before the
    // first's callback: at 300 ms a loaded machine (CI at d5aa1d9) analysed it after the slot was free, and it took
    // the slot by itself (no start claimed in a grant).
    h.sims.veo3.setFaults({ taskDurationMs: 2_000 });
    const recs = [
      await h.service.enqueue(recommendationInput({ title: 'slot by callback 1', jobConfig: { platforms: ['instagram'] } })),
      await h.service.enqueue(recommendationInput({ title: 'slot by callback 2', jobConfig: { platforms: ['instagram'] } })),
    ];
    await Promise.all(recs.map((r) => h.client.workflow.getHandle(r.workflowId).result())).finally(() =>
      h.sims.veo3.setFaults({ taskDurationMs: 300 }),
    );
    const jobs = await q<{ id: string }>(
      `SELECT q.id FROM automation_queue q JOIN job_events e ON e.job_id = q.id AND e.event = 'provider_call'
        WHERE q.recommendation_id = ANY($1::uuid[]) AND q.step = 'generate' ORDER BY e.created_at`,
      [recs.map((r) => r.recommendation.id)],
    );
    expect(jobs).toHaveLength(2);
    const at = async (jobId: string, event: string) =>
      (
        await q<{ at: Date }>(`SELECT created_at AS at FROM job_events WHERE job_id = $1 AND event = $2 ORDER BY id LIMIT 1`, [
          jobId,
          event,
        ])
      )[0]?.at;
    const [first, second] = [jobs[0]!.id, jobs[1]!.id];
    // One slot (cap 1): the second render was granted it in the hook's transaction ('task_end_heard'), which comes
    // before the first render's poller had read its status and recorded 'completed'.
    expect(await at(first, 'task_end_heard')).toBeDefined();
    expect((await at(second, 'started'))!.getTime()).toBeLessThan((await at(first, 'completed'))!.getTime());
    expect(h.sims.veo3.stats().maxInFlight).toBe(1);
    expect(h.sims.veo3.stats().submissions - paidBefore).toBe(2);
    // The second render's worker waited hot with its submit armed: the grant claimed its start (drizzle/0033), and
    // the submit left on the NOTIFY, with the key that start recorded.
    const [call] = await q<{ detail: Record<string, unknown> }>(
      `SELECT detail FROM job_events WHERE job_id = $1 AND event = 'provider_call'`,
      [second],
    );
    expect(call!.detail).toEqual({ inGrant: true });
    // Its callback freed its slot, which the hook does only for the task of the job's latest recorded key.
    expect(await at(second, 'task_end_heard')).toBeDefined();
  });

  it('a submit whose answer a gateway lost (504) after KIE created the task resumes that task from its callback: paid once', async () => {
    const before = h.sims.veo3.stats().submissions;
    h.sims.veo3.answerLostNext = 1;
    const rec = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['instagram'] } }));
    expect((await h.client.workflow.getHandle(rec.workflowId).result()).status).toBe('published');
    // The 504 cleared the submit's mark as "nothing created", and the retry paid for a second render.
    expect(h.sims.veo3.stats().submissions - before).toBe(1);
    const [job] = await q<{ provider_task_id: string }>(
      `SELECT provider_task_id FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate'`,
      [rec.recommendation.id],
    );
    expect(h.sims.veo3.taskIds()).toContain(job!.provider_task_id);
  });

  /** A render's job row: what the gate and the hook wrote. */
  const generate = async (recId: string) =>
    (
      await q<{ status: string; provider_task_id: string | null; submit_attempted_at: Date | null; waiting_since: Date | null }>(
        `SELECT status, provider_task_id, submit_attempted_at, waiting_since FROM automation_queue
          WHERE recommendation_id = $1 AND step = 'generate'`,
        [recId],
      )
    )[0];

  /**
   * Two ideas waiting in VEO3's line (no slot yet), the P1 first, then one slot: the first render is made (6 s long) and
   * `act` runs while its answer is out; then the second render's submit comes. Both submit times, as KIE saw them.
   */
  async function firstThenNext(faults: Partial<SimFaults>, act: (first: { id: string; workflowId: string }) => Promise<void>) {
    const paidBefore = h.sims.veo3.stats().submissions;
    await q(`UPDATE provider_limits SET max_concurrent = 0 WHERE provider = 'veo3'`);
    h.sims.veo3.setFaults({ taskDurationMs: 6_000, ...faults });
    try {
      const input = (title: string, priority: 'P1' | 'P2') =>
        recommendationInput({ title, priority, jobConfig: { platforms: ['instagram'] } });
      const [first, second] = [await h.service.enqueue(input('first in line', 'P1')), await h.service.enqueue(input('next in line', 'P2'))];
      for (const rec of [first, second]) {
        await waitUntil(async () => (await generate(rec.recommendation.id))?.waiting_since, { what: `${rec.recommendation.id} in line` });
      }
      await q(`UPDATE provider_limits SET max_concurrent = 1 WHERE provider = 'veo3'`);
      await q(`SELECT grant_slots('veo3')`);
      await waitUntil(async () => h.sims.veo3.stats().submissions > paidBefore, { what: 'the first render made' });
      await act({ id: first.recommendation.id, workflowId: first.workflowId });
      await waitUntil(async () => h.sims.veo3.stats().submissions > paidBefore + 1, { timeoutMs: 30_000, what: 'the next render made' });
      const [made, next] = h.sims.veo3.stats().submitTimes.slice(paidBefore);
      expect((await h.client.workflow.getHandle(second.workflowId).result()).status).toBe('published');
      return { first: { id: first.recommendation.id, workflowId: first.workflowId }, made: made!, next: next! };
    } finally {
      await q(`UPDATE provider_limits SET max_concurrent = 1 WHERE provider = 'veo3'`);
      h.sims.veo3.setFaults({ taskDurationMs: 300, answerDelayMs: 0 });
      h.sims.veo3.answerLostNext = 0;
    }
  }

  it('a render cancelled while its submit request was out keeps its slot until it ends (its callback names it): cap kept', async () => {
    // KIE makes the render at once and answers 3 s later, with a gateway's 504: the cancel lands while the request is
    // out, and only the render's callback can name its task.
    h.sims.veo3.answerLostNext = 1;
    const { first, made, next } = await firstThenNext({ answerDelayMs: 3_000 }, async (rec) => {
      expect(await generate(rec.id)).toMatchObject({ provider_task_id: null, submit_attempted_at: expect.any(Date) });
      await h.service.cancel(rec.workflowId);
    });
    // Not beside the cancelled render (given its slot at the cancel, it was made within a second or two of it)...
    expect(next - made).toBeGreaterThanOrEqual(6_000 - 100);
    // ...and not held for twice the render's estimate either: the callback freed the slot at the render's end.
    expect(next - made).toBeLessThan(6_000 + 5_000);
    const job = await generate(first.id);
    expect(job).toMatchObject({ status: 'cancelled', provider_task_id: expect.any(String) });
    expect(h.sims.veo3.taskIds()).toContain(job!.provider_task_id);
    const events = await q<{ event: string }>(
      `SELECT e.event FROM job_events e JOIN automation_queue j ON j.id = e.job_id
        WHERE j.recommendation_id = $1 AND j.step = 'generate' AND e.event IN ('task_from_callback', 'task_end_heard') ORDER BY e.id`,
      [first.id],
    );
    expect(events.map((e) => e.event)).toEqual(['task_from_callback', 'task_end_heard']);
  }, 90_000);

  it('a render whose submit answer a gateway lost (504) keeps its slot for the retry that learns its task: cap kept', async () => {
    h.sims.veo3.answerLostNext = 1;
    const { first, made, next } = await firstThenNext({}, async () => {});
    // The attempt failed on the 504 with the render running at KIE: its slot went to the next render at once.
    expect(next - made).toBeGreaterThanOrEqual(6_000 - 100);
    expect(next - made).toBeLessThan(6_000 + 5_000);
    expect((await h.client.workflow.getHandle(first.workflowId).result()).status).toBe('published');
    expect(h.sims.veo3.taskIds()).toContain((await generate(first.id))!.provider_task_id);
  }, 90_000);

  it('refuses a wrong secret and a body that is not a callback, and takes a duplicate in its stride', async () => {
    const post = (secret: string, payload: unknown) =>
      api.inject({ method: 'POST', url: `/hooks/kie/${secret}`, payload: payload as object });
    expect((await post('wrong-secret-0123456789ab', { code: 200, data: { taskId: 'x' } })).statusCode).toBe(404);
    const bad = await post(SECRET, { code: 200, data: {} });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/taskId/);
    const [job] = await q(
      `SELECT provider_task_id FROM automation_queue WHERE api_provider = 'veo3' AND provider_task_id IS NOT NULL LIMIT 1`,
    );
    const again = await post(SECRET, { code: 200, msg: 'success', data: { taskId: job!.provider_task_id, info: { resultUrls: [] } } });
    expect(again.json()).toMatchObject({ ok: true, data: { taskId: job!.provider_task_id, jobs: 1 } });
    // A callback for a task we never submitted names no job and changes nothing.
    expect((await post(SECRET, { code: 501, data: { taskId: 'veo_task_unknown' } })).json().data.jobs).toBe(0);
  });

  it('has no hook when no secret is configured', async () => {
    const off = await buildApiServer({
      database: h.db.database,
      service: h.service,
      env: TEST_ENV,
      log: createLogger('silent', 'test-api'),
    });
    const res = await off.inject({ method: 'POST', url: `/hooks/kie/${SECRET}`, payload: { code: 200, data: { taskId: 'x' } } });
    expect(res.statusCode).toBe(404);
    await off.close();
  });
});

describe('a worker killed inside the paid submit (KIE accepted it; the answer never came back)', () => {
  const started: Array<{ stop(): Promise<unknown> }> = [];
  afterEach(async () => {
    while (started.length)
      await started
        .pop()!
        .stop()
        .catch(() => undefined);
  });

  /**
   * Workers as processes (one killable for VEO3) and the API receiving KIE's callbacks; KIE creates the task,
   * then the VEO3 worker dies before the answer reaches it, and a new one takes over.
   */
  async function killInsideSubmit(faults: Partial<SimFaults>, estimateSeconds?: number) {
    const port = await freePort();
    const h = await startHarness({
      workers: false,
      env: { KIE_CALLBACK_URL: `http://127.0.0.1:${port}/hooks/kie/${SECRET}`, KIE_CALLBACK_SECRET: SECRET },
      limits: { veo3: { pollIntervalMs: 1_000, minStartIntervalMs: 0 } },
    });
    started.push(h);
    const hook = await buildApiServer({
      database: h.db.database,
      service: h.service,
      env: { ...TEST_ENV, KIE_CALLBACK_SECRET: SECRET },
      log: createLogger('silent', 'test-api'),
    });
    await hook.listen({ host: '127.0.0.1', port });
    started.push({ stop: () => hook.close() });
    const worker = async (queues: string[]): Promise<WorkerProcess> => {
      const w = await spawnWorker(h.childEnv, queues);
      started.push({ stop: () => w.kill('SIGKILL') });
      return w;
    };
    await worker(['base', 'openai', 'assembly', 'instagram']);
    const doomed = await worker(['veo3']);
    h.sims.veo3.setFaults({ ...faults, answerDelayMs: 60_000 });
    const rec = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['instagram'] } }));
    await waitUntil(async () => h.sims.veo3.stats().submissions === 1, { timeoutMs: 60_000, what: 'the submit reached KIE' });
    await doomed.kill('SIGKILL');
    h.sims.veo3.setFaults({ answerDelayMs: 0 });
    if (estimateSeconds !== undefined) {
      await h.db.database.pool.query(
        `UPDATE automation_queue SET estimated_duration_seconds = $2 WHERE recommendation_id = $1 AND step = 'generate'`,
        [rec.recommendation.id, estimateSeconds],
      );
    }
    await worker(['veo3']);
    const job = async () =>
      (
        await h.db.database.pool.query<{ id: string; status: string; provider_task_id: string | null }>(
          `SELECT id, status, provider_task_id FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate'`,
          [rec.recommendation.id],
        )
      ).rows[0]!;
    const events = async () =>
      (
        await h.db.database.pool.query<{ event: string }>(`SELECT event FROM job_events WHERE job_id = $1 ORDER BY id`, [(await job()).id])
      ).rows.map((e) => e.event);
    return { h, rec, job, events };
  }

  it(
    'the next attempt learns the task from the callback naming its submit and resumes it: one render, published',
    { timeout: 150_000 },
    async () => {
      // The render outlasts the dead worker's detection (10 s heartbeat timeout), so the new attempt waits for the callback.
      const { h, rec, job, events } = await killInsideSubmit({ taskDurationMs: 20_000 });
      const result = await h.client.workflow.getHandle(rec.workflowId).result();
      expect(result.status).toBe('published');
      expect(h.sims.veo3.stats().submissions).toBe(1);
      const names = await events();
      expect(names).toContain('awaiting_callback');
      expect(names.indexOf('task_from_callback')).toBeGreaterThan(names.indexOf('awaiting_callback'));
      expect((await job()).status).toBe('completed');
      expect(result.videoUrl).toBeTruthy();
    },
  );

  it(
    "with no callback by the render's expected end, the job fails as an unknown outcome, submits nothing again; a retry adopts its task",
    { timeout: 150_000 },
    async () => {
      // The task never ends at KIE, so no callback comes; a 5 s estimate bounds the wait at 10 s after the submit.
      const { h, rec, job, events } = await killInsideSubmit({ neverFinish: true }, 5);
      const failure = await h.client.workflow
        .getHandle(rec.workflowId)
        .result()
        .then(
          () => null,
          (err: unknown) => err,
        );
      const messages = (e: unknown): string => (e instanceof Error ? `${e.message} / ${messages((e as { cause?: unknown }).cause)}` : '');
      expect(messages(failure)).toMatch(/no callback named a task/);
      expect(h.sims.veo3.stats().submissions).toBe(1);
      expect(await events()).toContain('awaiting_callback');
      expect((await job()).provider_task_id).toBeNull();

      // The operator finds the task on KIE's dashboard and adopts it: followed to its video, still one submission.
      h.sims.veo3.setFaults({ neverFinish: false });
      const [made] = h.sims.veo3.taskIds();
      const started = await h.service.retry(rec.recommendation.id, { by: 'test', task: made! });
      // KIE's record of it names this job's submit in its callback URL: matched by key.
      expect(started.steps.find((s) => s.action === 'adopts')).toMatchObject({ taskId: made, matchedBy: 'callback key' });
      expect((await h.client.workflow.getHandle(rec.workflowId, started.runId).result()).status).toBe('published');
      expect(h.sims.veo3.stats().submissions).toBe(1);
      expect(await job()).toMatchObject({ status: 'completed', provider_task_id: made });
    },
  );

  it(
    'a callback that comes after the job failed as an unknown outcome gives it its task: a retry alone follows it, unpaid',
    { timeout: 150_000 },
    async () => {
      const { h, rec, job, events } = await killInsideSubmit({ neverFinish: true }, 5);
      await h.client.workflow
        .getHandle(rec.workflowId)
        .result()
        .catch(() => undefined);
      expect(await job()).toMatchObject({ status: 'failed', provider_task_id: null });
      // The render ends at KIE after the job gave up on it: its callback names the dead attempt's submit.
      h.sims.veo3.setFaults({ neverFinish: false });
      const [made] = h.sims.veo3.taskIds();
      await waitUntil(async () => (await job()).provider_task_id, { what: 'the late callback recorded', timeoutMs: 20_000 });
      expect(await job()).toMatchObject({ status: 'failed', provider_task_id: made });
      expect(await events()).toContain('task_from_callback');
      // Over at KIE: its retry reads it without taking a slot (past the cap) as if it still ran.
      const [ended] = (
        await h.db.database.pool.query<{ ended: boolean }>(
          `SELECT task_ended_at IS NOT NULL AS ended FROM automation_queue WHERE id = $1`,
          [(await job()).id],
        )
      ).rows;
      expect(ended).toEqual({ ended: true });
      // No --task and no --resubmit: the recorded task is followed.
      const started = await h.service.retry(rec.recommendation.id, { by: 'test' });
      expect(started.steps.find((s) => s.step === 'generate')).toMatchObject({ action: 'resumes', taskId: made });
      expect((await h.client.workflow.getHandle(rec.workflowId, started.runId).result()).status).toBe('published');
      expect(h.sims.veo3.stats().submissions).toBe(1);
    },
  );
});
