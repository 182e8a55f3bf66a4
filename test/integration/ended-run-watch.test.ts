/**
 * An idea whose workflow was terminated ran none of its clean-up: the ended-run watch closes it as failed, with who
 * ended it and why, frees its jobs and tells the team once; `reelflow retry` then follows its paid render, not paying
 * again. A run ended by a reset is left alone: its new run goes on. Real Temporal server, PostgreSQL, simulators.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startEndedRunWatch, type EndedRun } from '../../src/workers/ended-run-watch';
import { harnessForFile, recommendationInput } from '../helpers/harness';
import { waitUntil } from '../helpers/wait';

const { h, q } = harnessForFile();
const recRow = async (id: string) =>
  (await q<{ status: string; error: string | null }>('SELECT status, error FROM competitive_recommendations WHERE id = $1', [id]))[0]!;
const generateJob = async (id: string) =>
  (
    await q<{ status: string; provider_task_id: string | null }>(
      `SELECT status, provider_task_id FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate'`,
      [id],
    )
  )[0];
const openJobs = async (id: string) =>
  Number(
    (
      await q<{ n: string }>(
        `SELECT count(*) AS n FROM automation_queue WHERE recommendation_id = $1 AND status IN ('queued', 'processing')`,
        [id],
      )
    )[0]!.n,
  );

let watch: { stop(): void } | undefined;
afterEach(() => watch?.stop());
const told: EndedRun[] = [];
const startWatch = () => {
  watch = startEndedRunWatch(
    { database: h.db.database, env: h.env, log: pino({ level: 'silent' }) },
    { client: h.client, everyMs: 300, onEnded: async (ended) => void told.push(ended) },
  );
};

/** An idea rendering on VEO3 (the render never ends until the test says so). */
async function rendering(title: string) {
  h.sims.veo3.setFaults({ neverFinish: true });
  const enqueued = await h.service.enqueue(recommendationInput({ title, jobConfig: { platforms: ['instagram'] } }));
  await waitUntil(async () => (await generateJob(enqueued.recommendation.id))?.provider_task_id, { what: 'its render submitted' });
  return enqueued;
}

describe('an idea whose workflow ended without its clean-up', () => {
  it('terminated: closed as failed with who and why, its jobs freed, told once; a retry follows its render, unpaid', async () => {
    const { recommendation, workflowId } = await rendering('terminated by hand');
    const paid = h.sims.veo3.stats().submissions;
    const handle = h.client.workflow.getHandle(workflowId);
    const { runId } = await handle.describe();
    await handle.terminate('operator: wrong player');
    startWatch();
    await waitUntil(async () => (await recRow(recommendation.id)).status === 'failed', {
      what: 'the idea closed as failed',
      timeoutMs: 30_000,
    });
    expect((await recRow(recommendation.id)).error).toMatch(/^its workflow was terminated in Temporal by .+: operator: wrong player \(/);
    expect(await openJobs(recommendation.id)).toBe(0);
    await waitUntil(() => told.length > 0, { what: 'the team told' });
    // Rounds after it find the run again (it stays listed): the idea is closed, nobody is told twice.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(told).toEqual([
      expect.objectContaining({ recommendationId: recommendation.id, workflowId, runId, title: 'terminated by hand', priority: 'P1' }),
    ]);

    h.sims.veo3.setFaults({ neverFinish: false });
    const started = await h.service.retry(recommendation.id, { by: 'test' });
    expect(started.steps.find((s) => s.step === 'generate')?.action).toBe('resumes');
    expect((await h.client.workflow.getHandle(workflowId, started.runId).result()).status).toBe('published');
    expect(h.sims.veo3.stats().submissions).toBe(paid);
  });

  it('reset: the run a reset ended is not closed, its new run goes on', async () => {
    const { recommendation, workflowId } = await rendering('reset by hand');
    const handle = h.client.workflow.getHandle(workflowId);
    const { runId } = await handle.describe();
    // Reset to the first workflow task completed: the old run ends as terminated, a new one replays from there.
    const { history } = await h.client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId, runId },
    });
    const firstTask = history!.events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
    await h.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId, runId },
      workflowTaskFinishEventId: firstTask.eventId,
      requestId: `reset-${runId}`,
      reason: 'test: reset',
    });
    startWatch();
    // The watch has seen the terminated run (listed within a second or two) and left it.
    await waitUntil(
      async () => {
        for await (const run of h.client.workflow.list({ query: `WorkflowId = '${workflowId}' AND ExecutionStatus = 'Terminated'` }))
          return run.runId === runId;
        return false;
      },
      { what: 'the reset run listed as terminated', timeoutMs: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await recRow(recommendation.id)).status).toBe('in_production');
    expect(told.filter((t) => t.recommendationId === recommendation.id)).toEqual([]);
    h.sims.veo3.setFaults({ neverFinish: false });
    expect((await handle.result()).status).toBe('published');
  });
});
