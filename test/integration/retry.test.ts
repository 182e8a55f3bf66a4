/**
 * `reelflow retry` on the real Temporal server, PostgreSQL and the simulators: a failed idea made again by a new run
 * of its workflow, keeping what was done and paying for nothing twice. A render whose worker died inside its paid
 * submit (SubmitOutcomeUnknown) is retried only when the operator says what KIE made: the task found there (checked
 * at KIE, adopted, followed to its video) or nothing (a new, paid render). Refusals change nothing and start nothing.
 */
import { describe, expect, it } from 'vitest';
import { BadInputError, ConflictError } from '../../src/shared/errors';
import { approvalUpdate, stateQuery } from '../../src/shared/messages';
import { notificationEventKey } from '../../src/notifications/notify';
import { notificationWorkflowId } from '../../src/shared/workflow-ids';
import { harnessForFile, recommendationInput, runCli } from '../helpers/harness';
import { startTestApi } from '../api/support';
import { KieVideoClient } from '../../src/providers/veo3/client';
import { failInsideSubmit, videoPromptOf, workflowFailure } from '../helpers/retry';
import { waitUntil } from '../helpers/wait';

const { h, q } = harnessForFile();
const recRow = async (id: string) =>
  (
    await q<{ status: string; error: string | null; approval: { decisions: unknown[] } | null }>(
      'SELECT status, error, approval FROM competitive_recommendations WHERE id = $1',
      [id],
    )
  )[0]!;
const jobOf = async (id: string, step: string) =>
  (
    await q<{ id: string; status: string; provider_task_id: string | null; attempts: number }>(
      'SELECT id, status, provider_task_id, attempts FROM automation_queue WHERE recommendation_id = $1 AND step = $2',
      [id, step],
    )
  )[0]!;
const eventsOf = async (jobId: string) =>
  q<{ event: string; detail: Record<string, unknown> }>('SELECT event, detail FROM job_events WHERE job_id = $1 ORDER BY id', [jobId]);
/** Retries as `test`; the plan it printed as [step, action] pairs. */
const retry = async (id: string, opts: { task?: string; resubmit?: boolean } = {}) => {
  const started = await h.service.retry(id, { by: 'test', ...opts });
  return { started, plan: started.steps.map((s) => [s.step, s.action]) };
};
/** The task the --task test adopted: another idea's from then on. */
let adoptedTask = '';
const paid = () => h.sims.veo3.stats().submissions;
const failureOf = (workflowId: string) => workflowFailure(h, workflowId);
/** A reel of two segments whose first is rendered and recorded, the second failed by KIE: the idea failed. */
const reelFailedAtSegmentTwo = async (reel: { mode?: 'chained'; seconds: number }) => {
  const enqueued = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['instagram'], reel } }));
  // Segment 1 ends well and is recorded; segment 2 (3 s at KIE) is failed by KIE meanwhile.
  h.sims.veo3.setFaults({ taskDurationMs: 3_000 });
  await waitUntil(async () => (await jobOf(enqueued.recommendation.id, 'generate:1'))?.status === 'completed', {
    what: 'segment 1 rendered',
    timeoutMs: 30_000,
  });
  h.sims.veo3.setFaults({ failTasks: true });
  expect(await failureOf(enqueued.workflowId)).toMatch(/generation failed/);
  h.sims.veo3.setFaults({ failTasks: false, taskDurationMs: 200 });
  return enqueued;
};
const diedInsideSubmit = () => failInsideSubmit(h);

describe('reelflow retry', () => {
  it('a render that died inside its submit: refused until the operator says what KIE made; refusals change nothing', async () => {
    const { id, workflowId } = await diedInsideSubmit();
    const runBefore = (await h.client.workflow.getHandle(workflowId).describe()).runId;
    const before = { rec: await recRow(id), job: await jobOf(id, 'generate'), paid: paid() };

    const refused = async (opts: { task?: string; resubmit?: boolean }, error: typeof BadInputError, message: RegExp) => {
      const err = await h.service.retry(id, { by: 'test', ...opts }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(error);
      expect((err as Error).message).toMatch(message);
    };
    await refused({}, BadInputError, /generate \(veo3, job .*\) died inside its paid submit.*--task <taskId>.*--resubmit/);
    await refused({ task: 'no such task' }, BadInputError, /^task must be a task id/);
    await refused({ task: 'veo_task_nobody_made' }, BadInputError, /^task: KIE does not know task veo_task_nobody_made/);
    await refused({ task: 'x', resubmit: true }, BadInputError, /exclude each other/);
    // Tasks KIE made for something else: a render made by hand from another prompt, and one made from this very
    // prompt whose callback URL names another job's submit (another idea that died inside its submit).
    const prompt = await videoPromptOf(h, id);
    const byHand = await h.runtime.providers.veo3.submit({ prompt: 'Messi scores at sunset', aspectRatio: '9:16' });
    await refused(
      { task: byHand.taskId },
      BadInputError,
      /^task: KIE made task \S+ from another prompt \("Messi scores at sunset"\) than generate sends/,
    );
    const other = (
      await q<{ id: string }>(`SELECT id FROM automation_queue WHERE recommendation_id <> $1 AND step = 'analyze' LIMIT 1`, [id])
    )[0];
    const otherJob = other?.id ?? '00000000-0000-4000-8000-000000000000';
    const keyed = new KieVideoClient({ baseUrl: h.sims.veo3.url, apiKey: 'test', callBackUrl: 'http://127.0.0.1:9/hooks/kie/x' });
    const forAnother = await keyed.submit({ prompt, aspectRatio: '9:16', callbackKey: `${otherJob}.0123abcd` });
    await refused({ task: forAnother.taskId }, BadInputError, new RegExp(`^task: KIE made task \\S+ for job ${otherJob}'s submit`));

    // The CLI says the same, exits 2, and nothing moved.
    const cli = await runCli(h, ['retry', id]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/died inside its paid submit/);
    expect((await runCli(h, ['status', id])).stdout).toContain(
      `make it again: reelflow retry ${id} --task <taskId found on the provider> | --resubmit`,
    );
    expect(await recRow(id)).toEqual(before.rec);
    expect(await jobOf(id, 'generate')).toEqual(before.job);
    expect(paid()).toBe(before.paid + 2); // the two tasks made above, by hand
    const after = await h.client.workflow.getHandle(workflowId).describe();
    expect([after.runId, after.status.name]).toEqual([runBefore, 'FAILED']);
  });

  it('--task adopts the task KIE made: followed to its video and published, not paid again, not asked again', async () => {
    const { id, workflowId, kieTask } = await diedInsideSubmit();
    const paidBefore = paid();
    const cli = await runCli(h, ['retry', id, '--task', kieTask, '--json']);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const started = JSON.parse(cli.stdout) as {
      runId: string;
      steps: Array<{ step: string; action: string; taskId?: string; matchedBy?: string }>;
    };
    expect(started.steps.map((s) => [s.step, s.action, s.taskId, s.matchedBy])).toEqual([
      ['analyze', 'kept', undefined, undefined],
      ['generate', 'adopts', kieTask, 'prompt'],
      ['publish:instagram', 'runs', undefined, undefined],
    ]);
    const handle = h.client.workflow.getHandle(workflowId, started.runId);
    const outcome = await handle.result();
    expect(outcome.status).toBe('published');
    expect(paid()).toBe(paidBefore);
    const job = await jobOf(id, 'generate');
    expect(job).toMatchObject({ status: 'completed', provider_task_id: kieTask });
    adoptedTask = kieTask;
    expect((await eventsOf(job.id)).find((e) => e.event === 'reopened')?.detail).toMatchObject({ adopted: kieTask });
    // The editor approved this brief once; the retry kept the analysis, so it did not ask again.
    expect((await recRow(id)).approval?.decisions).toHaveLength(1);
    expect((await recRow(id)).status).toBe('published');
    // Done, it is not retried again.
    await expect(h.service.retry(id, { by: 'test' })).rejects.toThrow(ConflictError);
  });

  it('--resubmit (nothing on KIE) pays for one new render; the API answers 202 with the plan', async () => {
    const { id, workflowId } = await diedInsideSubmit();
    const paidBefore = paid();
    // Another idea's task is not this one's to adopt.
    expect(adoptedTask).not.toBe('');
    await expect(h.service.retry(id, { by: 'test', task: adoptedTask })).rejects.toThrow(/^task: .* is already job .*'s \(generate of/);
    const api = await startTestApi(h.db, { service: h.service });
    const url = `/api/recommendations/${id}/retry`;
    expect((await api.call('read', { method: 'POST', url, payload: { resubmit: true } })).statusCode).toBe(403);
    const bad = await api.call('operator', { method: 'POST', url, payload: { resubmit: 'yes' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/resubmit/);
    const res = await api.call('operator', { method: 'POST', url, payload: { resubmit: true } });
    expect(res.statusCode).toBe(202);
    const started = res.json().data as { runId: string; steps: Array<{ step: string; action: string }> };
    expect(started.steps.find((s) => s.step === 'generate')?.action).toBe('resubmits');
    // A second retry beside the run just started: refused (the idea is open again, or the run is going).
    expect((await api.call('operator', { method: 'POST', url, payload: { resubmit: true } })).statusCode).toBe(409);
    await api.app.close();
    expect((await h.client.workflow.getHandle(workflowId, started.runId).result()).status).toBe('published');
    expect(paid()).toBe(paidBefore + 1);
    const audit = await q<{ action: string; target: string }>(`SELECT action, target FROM audit_log WHERE action = 'recommendation.retry'`);
    expect(audit).toContainEqual(expect.objectContaining({ target: id }));
  });

  it('a render KIE failed renders again, the analysis kept; a retry that fails again notifies again; a new deadline', async () => {
    const openaiBefore = h.sims.openai.stats().submissions;
    h.sims.veo3.setFaults({ failTasks: true });
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ priority: 'P0', jobConfig: { platforms: ['instagram'] } }),
    );
    expect(await failureOf(workflowId)).toMatch(/generation failed/);
    h.sims.veo3.setFaults({ failTasks: false });
    const failed = await jobOf(recommendation.id, 'generate');
    // The dead task is forgotten, its id kept in the history: a retry cannot follow it again.
    expect(failed.provider_task_id).toBeNull();
    expect((await eventsOf(failed.id)).map((e) => e.event)).toContain('discarded');
    // The idea's 24 h ran out meanwhile.
    await q(`UPDATE competitive_recommendations SET urgency_deadline = now() - interval '1 minute' WHERE id = $1`, [recommendation.id]);
    // A first retry while KIE still fails it: it fails again, and says so (its own notification, not the first run's).
    h.sims.veo3.setFaults({ failTasks: true });
    const again = await h.service.retry(recommendation.id, { by: 'test' });
    expect(await workflowFailure(h, workflowId)).toMatch(/generation failed/);
    h.sims.veo3.setFaults({ failTasks: false });
    const notified = [recommendation.id, `${recommendation.id}:run-${again.runId}`].map((about) =>
      notificationWorkflowId(notificationEventKey('failed', about)),
    );
    // Both exist (describe throws for a workflow never started).
    const notices = await Promise.all(notified.map((id) => h.client.workflow.getHandle(id).describe()));
    expect(notices.map((n) => n.workflowId)).toEqual(notified);

    const paidBefore = paid();
    const started = await h.service.retry(recommendation.id, { by: 'test' });
    expect(started.steps.map((s) => s.action)).toEqual(['kept', 'runs', 'runs']);
    expect(Date.parse(started.deadline!)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    expect((await h.client.workflow.getHandle(workflowId, started.runId).result()).status).toBe('published');
    expect(paid()).toBe(paidBefore + 1);
    expect(h.sims.openai.stats().submissions - openaiBefore).toBe(1);
    expect(await jobOf(recommendation.id, 'generate')).toMatchObject({ status: 'completed', attempts: 1 });
  });

  it('a chained reel whose second segment failed: the first is kept (not rendered again), the second renders anew', async () => {
    const { recommendation, workflowId } = await reelFailedAtSegmentTwo({ mode: 'chained', seconds: 16 });
    const first = await jobOf(recommendation.id, 'generate:1');
    const paidBefore = paid();

    const { started, plan } = await retry(recommendation.id);
    expect(plan).toEqual([
      ['analyze', 'kept'],
      ['generate:1', 'kept'],
      ['generate:2', 'runs'],
      ['assemble', 'runs'],
      ['publish:instagram', 'runs'],
    ]);
    const outcome = await h.client.workflow.getHandle(workflowId, started.runId).result();
    expect(outcome.status).toBe('published');
    // One new render: segment 2, extending segment 1's recorded task.
    expect(paid()).toBe(paidBefore + 1);
    expect(outcome.segments?.[0]?.taskId).toBe(first.provider_task_id);
    expect(await jobOf(recommendation.id, 'generate:1')).toEqual(first);
  });

  it('a reel retried after REELFLOW_REEL_MODE changed stays a reel: its rendered segment kept, no clip paid beside it', async () => {
    const env = h.runtime.env as { REELFLOW_REEL_MODE: string };
    const mode = env.REELFLOW_REEL_MODE;
    env.REELFLOW_REEL_MODE = 'chained';
    try {
      // No mode of its own: the deployment's, chained, two segments.
      const { recommendation, workflowId } = await reelFailedAtSegmentTwo({ seconds: 16 });
      // The deployment switched to clips meanwhile.
      env.REELFLOW_REEL_MODE = 'clip';
      const paidBefore = paid();
      const { started } = await retry(recommendation.id);
      const outcome = await h.client.workflow.getHandle(workflowId, started.runId).result();
      expect(outcome.status).toBe('published');
      // Segment 2 only: a clip's `generate` was planned and paid beside the kept segment, which nothing used.
      expect(paid()).toBe(paidBefore + 1);
      expect(outcome.segments).toHaveLength(2);
      expect(await jobOf(recommendation.id, 'generate')).toBeUndefined();
    } finally {
      env.REELFLOW_REEL_MODE = mode;
    }
  });

  it('an idea that expired waiting for approval: retried with a new window, asked again, rendered once, published', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({
        source: 'competitor',
        type: 'counter_argument',
        jobConfig: { platforms: ['instagram'] },
        deadline: new Date(Date.now() + 4_000).toISOString(),
      }),
    );
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('expired');
    const paidBefore = paid();
    const { started, plan } = await retry(recommendation.id);
    expect(plan.map((p) => p.join(' '))).toEqual(['analyze kept', 'generate runs', 'publish:instagram runs']);
    // P1: 48 h from now, the old deadline long gone.
    expect(Date.parse(started.deadline!)).toBeGreaterThan(Date.now() + 47 * 3_600_000);
    const handle = h.client.workflow.getHandle(workflowId, started.runId);
    // Nobody approved this brief: the retry asks.
    await waitUntil(async () => (await handle.query(stateQuery)).approval, { what: 'the brief waiting for approval again' });
    await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'ana' }] });
    expect((await handle.result()).status).toBe('published');
    expect(paid()).toBe(paidBefore + 1);
  });

  it('refuses an idea that neither failed nor expired', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['instagram'] } }));
    await expect(h.service.retry(recommendation.id, { by: 'test' })).rejects.toThrow(
      /is (pending|in_production): only a failed or expired idea/,
    );
    await h.client.workflow.getHandle(workflowId).result();
    await expect(h.service.retry(recommendation.id, { by: 'test' })).rejects.toThrow(/is published: only a failed or expired idea/);
  });
});
