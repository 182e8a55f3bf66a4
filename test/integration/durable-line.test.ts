/**
 * The durable line (issue 18): a backlog waits in its workflows, with no activity running, and the line
 * courier calls each job up in order. Real Temporal server, real PostgreSQL, in-process workers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { waitUntil } from '../helpers/wait';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    limits: { veo3: { maxConcurrent: 1, minStartIntervalMs: 0, pollIntervalMs: 25 } },
    env: { REELFLOW_LINE: 'parked' },
  });
});
afterAll(async () => h?.stop());

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await h.db.database.pool.query(text, params)).rows as T[];
const generateJob = async (recId: string) =>
  (
    await q<{ id: string; status: string; parked: boolean; waiting_since: Date | null; provider_task_id: string | null }>(
      `SELECT * FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate'`,
      [recId],
    )
  )[0];
const instagramOnly = (title: string, priority = 'P3') => recommendationInput({ title, priority, jobConfig: { platforms: ['instagram'] } });
type Enqueued = Awaited<ReturnType<typeof h.service.enqueue>>;

/** A blocker rendering on VEO3's only slot (its render never ends until the test says), then `n` ideas in its line. */
async function blockedLine(name: string, n: number): Promise<{ blocker: Enqueued; line: Enqueued[] }> {
  h.sims.veo3.setFaults({ neverFinish: true });
  const blocker = await h.service.enqueue(instagramOnly(`${name} blocker`));
  await waitUntil(async () => (await generateJob(blocker.recommendation.id))?.provider_task_id, { what: 'the blocker rendering' });
  const line: Enqueued[] = [];
  for (let i = 0; i < n; i++) line.push(await h.service.enqueue(instagramOnly(`${name} ${i}`)));
  return { blocker, line };
}

/** The ideas' recommendation ids in the order their renders started. */
const renderOrder = async (recs: readonly Enqueued[]) =>
  (
    await q<{ recommendation_id: string }>(
      `SELECT j.recommendation_id FROM job_events e JOIN automation_queue j ON j.id = e.job_id
        WHERE e.event = 'started' AND j.step = 'generate' AND j.recommendation_id = ANY($1) ORDER BY e.id`,
      [recs.map((r) => r.recommendation.id)],
    )
  ).map((r) => r.recommendation_id);

const pendingActivities = async (workflowId: string) =>
  (await h.client.workflow.getHandle(workflowId).describe()).raw.pendingActivities?.length ?? 0;

describe('a backlog in the durable line', () => {
  it('waits in its workflows with no activity running, keeps strict priority, and pays each render once', async () => {
    // veo3 cap 1: its hot line is the first 4 jobs (hot_line_size), the rest wait parked.
    const { line: backlog } = await blockedLine('backlog', 12);
    // A job joining with 4 or more ahead of it parks; one that joined sooner and was then passed by more than two
    // goes back to its workflow (analyses finish in any order, so which ones varies). Settled, the first 4 of the
    // line wait hot and at most 2 more: each hot one in its activity, the parked ones running nothing at all.
    const settled = await waitUntil(
      async () => {
        const rows = await Promise.all(
          backlog.map(async (r) => ({ r, job: await generateJob(r.recommendation.id), pending: await pendingActivities(r.workflowId) })),
        );
        const consistent = rows.every(({ job, pending }) => job?.waiting_since && pending === (job.parked ? 0 : 1));
        return consistent && rows.filter((x) => x.job!.parked).length >= 6 ? rows : null;
      },
      { what: 'the backlog in the VEO3 line, parked or waiting hot', timeoutMs: 60_000 },
    );
    const parked = settled.filter((x) => x.job!.parked).map((x) => x.r);
    expect(parked.length).toBeLessThanOrEqual(8);
    // Their phase still says waiting, as before.
    expect((await h.client.workflow.getHandle(parked[0]!.workflowId).query<{ phase: string }>('state')).phase).toBe('waiting');

    // A P0 arriving behind the backlog goes straight to the hot line and is granted first.
    const p0 = await h.service.enqueue(instagramOnly('P0 behind the backlog', 'P0'));
    await waitUntil(async () => (await generateJob(p0.recommendation.id))?.waiting_since, { what: 'the P0 in line' });
    expect((await generateJob(p0.recommendation.id))!.parked).toBe(false);

    // A parked workflow cancelled: gone from the line at once, no activity ever ran for it.
    const cancelledOne = parked.at(-1)!;
    await h.client.workflow.getHandle(cancelledOne.workflowId).cancel();
    await waitUntil(async () => (await generateJob(cancelledOne.recommendation.id))?.status === 'cancelled', {
      what: 'the parked job cancelled',
      timeoutMs: 10_000,
    });
    // A parked workflow terminated (nobody will ever take its slot): the courier cancels its job when it is called up.
    const terminated = parked[0]!;
    await h.client.workflow.getHandle(terminated.workflowId).terminate('test: a workflow that ends without its cleanup');

    h.sims.veo3.setFaults({ neverFinish: false, taskDurationMs: 50 });
    const rest = [p0, ...backlog.filter((r) => r !== cancelledOne && r !== terminated)];
    await Promise.all(rest.map((r) => h.client.workflow.getHandle(r.workflowId).result()));
    await waitUntil(async () => (await generateJob(terminated.recommendation.id))?.status === 'cancelled', {
      what: "the terminated workflow's job cancelled by the courier",
      timeoutMs: 30_000,
    });

    const order = await renderOrder(rest);
    // The line's order: priority, then the job's age (its row, written when its workflow planned it).
    const lineOrder = (
      await q<{ recommendation_id: string }>(
        `SELECT recommendation_id FROM automation_queue WHERE step = 'generate' AND recommendation_id = ANY($1)
          ORDER BY priority, created_at, id`,
        [rest.map((r) => r.recommendation.id)],
      )
    ).map((r) => r.recommendation_id);
    expect(order).toEqual(lineOrder);
    expect(order[0]).toBe(p0.recommendation.id);
    // One paid render per published video, plus the blocker's.
    expect(h.sims.veo3.stats().submissions).toBe(rest.length + 1);
  });
});

describe('a hot job passed in its line', () => {
  it("goes back to its workflow, parked, and still runs in the line's order, paid once", async () => {
    // veo3 cap 1: the hot line is 4, so a waiting activity goes back once 6 jobs rank ahead of it.
    const { line: p3 } = await blockedLine('passed', 4);
    await waitUntil(async () => (await Promise.all(p3.map((r) => pendingActivities(r.workflowId)))).every((n) => n === 1), {
      what: 'the four P3 waiting hot',
      timeoutMs: 60_000,
    });
    const p1: Enqueued[] = [];
    for (let i = 0; i < 10; i++) p1.push(await h.service.enqueue(instagramOnly(`passing ${i}`, 'P1')));
    await waitUntil(async () => (await Promise.all(p1.map((r) => generateJob(r.recommendation.id)))).every((j) => j?.waiting_since), {
      what: 'the P1s in line',
      timeoutMs: 60_000,
    });
    // Within a lease heartbeat (3 s) the P3s, now 11th to 14th, end their activities and wait parked in their workflows.
    await waitUntil(
      async () => (await Promise.all(p3.map((r) => generateJob(r.recommendation.id)))).every((j) => j?.parked && j.status === 'queued'),
      { what: 'the passed P3s parked again', timeoutMs: 15_000 },
    );
    for (const r of p3) {
      await waitUntil(async () => (await pendingActivities(r.workflowId)) === 0, { what: 'no activity left', timeoutMs: 10_000 });
      expect((await h.client.workflow.getHandle(r.workflowId).query<{ phase: string }>('state')).phase).toBe('waiting');
    }
    const returned = await q(
      `SELECT e.id FROM job_events e JOIN automation_queue j ON j.id = e.job_id
        WHERE e.event = 'returned_to_line' AND j.recommendation_id = ANY($1)`,
      [p3.map((r) => r.recommendation.id)],
    );
    expect(returned.length).toBeGreaterThanOrEqual(4);

    const paidBefore = h.sims.veo3.stats().submissions;
    h.sims.veo3.setFaults({ neverFinish: false, taskDurationMs: 50 });
    const all = [...p1, ...p3];
    await Promise.all(all.map((r) => h.client.workflow.getHandle(r.workflowId).result()));
    const order = await renderOrder(all);
    // Every P1 before any P3, and each render paid once.
    expect(new Set(order.slice(0, 10))).toEqual(new Set(p1.map((r) => r.recommendation.id)));
    expect(order).toHaveLength(14);
    expect(h.sims.veo3.stats().submissions - paidBefore).toBe(14);
  });
});

describe('cancelling many at once', () => {
  it('empties the line before any workflow runs, then each workflow ends cancelled; a closed or unknown ref is reported', async () => {
    const { blocker, line: waiting } = await blockedLine('to cancel', 8);
    await waitUntil(async () => (await Promise.all(waiting.map((r) => generateJob(r.recommendation.id)))).every((j) => j?.waiting_since), {
      what: 'all in line',
      timeoutMs: 60_000,
    });
    const closed = await h.service.enqueue(instagramOnly('already closed'));
    await h.service.cancel(closed.recommendation.id);
    await h.client.workflow
      .getHandle(closed.workflowId)
      .result()
      .catch(() => undefined);

    const outcomes = await h.service.cancelMany([...waiting.map((r) => r.recommendation.id), closed.recommendation.id, 'no-such-idea']);
    // The line is empty when the call returns, before any workflow has run its clean-up.
    const open = await q(`SELECT id FROM automation_queue WHERE recommendation_id = ANY($1) AND status IN ('queued', 'processing')`, [
      waiting.map((r) => r.recommendation.id),
    ]);
    expect(open).toEqual([]);
    expect(outcomes.filter((o) => o.cancelled)).toHaveLength(8);
    expect(outcomes.find((o) => o.ref === closed.recommendation.id)).toMatchObject({
      cancelled: false,
      error: expect.stringMatching(/already/),
    });
    expect(outcomes.find((o) => o.ref === 'no-such-idea')).toMatchObject({ cancelled: false });
    for (const r of waiting) {
      await waitUntil(
        async () =>
          (await q<{ status: string }>(`SELECT status FROM competitive_recommendations WHERE id = $1`, [r.recommendation.id]))[0]!
            .status === 'cancelled',
        { what: `${r.recommendation.id} cancelled by its workflow`, timeoutMs: 30_000 },
      );
    }
    // Nothing of theirs reached VEO3: the blocker's is the only render of this test.
    const submitted = await q(`SELECT 1 FROM automation_queue WHERE recommendation_id = ANY($1) AND provider_task_id IS NOT NULL`, [
      waiting.map((r) => r.recommendation.id),
    ]);
    expect(submitted).toEqual([]);
    await h.service.cancel(blocker.recommendation.id);
    h.sims.veo3.setFaults({ neverFinish: false });
  });
});
