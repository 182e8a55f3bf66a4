/**
 * The spine end to end: real Temporal server, real PostgreSQL, provider
 * simulators over real HTTP, workers in this process.
 */
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Priority } from '../../src/config/priorities';
import { FAILURE_TYPES, reprioritiseUpdate, SEARCH_ATTRIBUTES, stateQuery } from '../../src/shared/messages';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recommendationWorkflowId } from '../../src/shared/workflow-ids';
import { BadInputError } from '../../src/shared/errors';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { waitUntil } from '../helpers/wait';
import { sleep } from '../../src/shared/sleep';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.stop());
beforeEach(() => {
  for (const sim of Object.values(h.sims)) sim.reset();
});

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await h.db.database.pool.query(text, params)).rows as T[];
type JobRow = Record<string, unknown> & { id: string; step: string; status: string; result: Record<string, unknown> };
type RecommendationRow = Record<string, unknown> & { urgency_deadline: Date; created_at: Date };
const jobsOf = (recId: string) => q<JobRow>(`SELECT * FROM automation_queue WHERE recommendation_id = $1 ORDER BY step`, [recId]);
const recRow = async (recId: string) =>
  (await q<RecommendationRow>(`SELECT * FROM competitive_recommendations WHERE id = $1`, [recId]))[0]!;

describe('recommendation workflow', () => {
  it('analyses, generates once, publishes everywhere and marks both tables', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ priority: 'P0' }));
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    expect(result.posts.map((p: { platform: string }) => p.platform).sort()).toEqual(['instagram', 'tiktok', 'youtube']);

    const rec = await recRow(recommendation.id);
    expect(rec).toMatchObject({ status: 'published', workflow_id: workflowId, priority: 'P0' });
    expect(rec.published_at).not.toBeNull();
    // P0 gets a 24 h deadline.
    expect(new Date(rec.urgency_deadline).getTime() - new Date(rec.created_at).getTime()).toBe(24 * 3_600_000);

    const jobs = await jobsOf(recommendation.id);
    expect(jobs.map((j) => [j.step, j.job_type, j.api_provider, j.status, j.attempts])).toEqual([
      ['analyze', 'openai_analysis', 'openai', 'completed', 1],
      ['generate', 'veo3_player_spotlight', 'veo3', 'completed', 1],
      ['publish:instagram', 'instagram_reel', 'instagram', 'completed', 1],
      ['publish:tiktok', 'tiktok_video', 'tiktok', 'completed', 1],
      ['publish:youtube', 'youtube_short', 'youtube', 'completed', 1],
    ]);
    // The plan's rows share one creation time; what operators read lists them in workflow order.
    const steps = ['analyze', 'generate', 'publish:instagram', 'publish:tiktok', 'publish:youtube'];
    expect((await h.service.status(recommendation.id)).jobs.map((j) => j.step)).toEqual(steps);
    const video = jobs.find((j) => j.step === 'generate')!;
    expect(video.provider_task_id).toBeTruthy();
    expect(Number(video.cost)).toBeGreaterThan(0);
    expect(video.result.videoUrl).toBe(result.videoUrl);
    expect(h.sims.veo3.stats().submissions).toBe(1);
    // Every slot was given back.
    expect(await q(`SELECT * FROM provider_slots`)).toEqual([]);
  });

  it('enqueuing the same recommendation twice starts one workflow', async () => {
    const first = await h.service.enqueue(recommendationInput({ dedupeKey: 'spotlight:pedri:test' }));
    const again = await h.service.enqueue(recommendationInput({ dedupeKey: 'spotlight:pedri:test' }));
    const restart = await h.service.start(first.recommendation.id);
    expect(first.started).toBe(true);
    expect(again).toMatchObject({ started: false, workflowId: first.workflowId });
    expect(restart).toMatchObject({ started: false, workflowId: first.workflowId });
    expect(again.recommendation.id).toBe(first.recommendation.id);
    await h.client.workflow.getHandle(first.workflowId).result();
    // After completion a new start is rejected by the reuse policy and still reports the one workflow.
    expect(await h.service.start(first.recommendation.id)).toMatchObject({ started: false, workflowId: first.workflowId });
    const runs = [];
    for await (const wf of h.client.workflow.list({ query: `WorkflowId = '${first.workflowId}'` })) runs.push(wf.runId);
    expect(runs).toHaveLength(1);
    expect(h.sims.veo3.stats().submissions).toBe(1);
  });

  it('never starts a workflow for a closed idea whose workflow Temporal no longer keeps (past retention)', async () => {
    // A published idea whose workflow history has been purged: only the row remembers it.
    const [row] = await q<{ id: string }>(
      `INSERT INTO competitive_recommendations (priority, recommendation_type, title, status, dedupe_key)
       VALUES ('P1', 'trend_jump', 'Published last week', 'published', 'trend:pedri:retention') RETURNING id`,
    );
    const again = await h.service.enqueue(recommendationInput({ dedupeKey: 'trend:pedri:retention' }));
    expect(again).toMatchObject({ started: false, workflowId: recommendationWorkflowId(row!.id) });
    expect(await h.service.start(row!.id)).toMatchObject({ started: false });
    await expect(h.client.workflow.getHandle(recommendationWorkflowId(row!.id)).describe()).rejects.toThrow(WorkflowNotFoundError);
  });

  it('cancel mid-flight marks the recommendation and its jobs cancelled, keeping the paid VEO3 slot until the task ends', async () => {
    const RENDER_MS = 12_000;
    h.sims.veo3.setFaults({ taskDurationMs: RENDER_MS });
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput());
    await waitUntil(async () => (await jobsOf(recommendation.id)).find((j) => j.step === 'generate' && j.provider_task_id), {
      what: 'VEO3 task submitted',
    });
    const submittedAt = Date.now();
    expect((await recRow(recommendation.id)).status).toBe('in_production');
    await h.service.cancel(workflowId);
    await expect(h.client.workflow.getHandle(workflowId).result()).rejects.toThrow(WorkflowFailedError);
    const described = await h.client.workflow.getHandle(workflowId).describe();
    expect(described.status.name).toBe('CANCELLED');
    expect((await recRow(recommendation.id)).status).toBe('cancelled');
    const jobs = await jobsOf(recommendation.id);
    expect(jobs.find((j) => j.step === 'analyze')!.status).toBe('completed');
    expect(jobs.filter((j) => j.step !== 'analyze').every((j) => j.status === 'cancelled')).toBe(true);
    const [slot] = await q(`SELECT * FROM provider_slots WHERE provider = 'veo3'`);
    expect(slot!.hold_until).not.toBeNull();
    // KIE cannot cancel the render: the activity follows it and frees the slot when it ends, not at hold_until.
    await waitUntil(async () => (await q(`SELECT 1 FROM provider_slots WHERE provider = 'veo3'`)).length === 0, {
      timeoutMs: RENDER_MS + 10_000,
      what: 'slot freed at the end of the render',
    });
    expect(Date.now() - submittedAt).toBeGreaterThanOrEqual(RENDER_MS - 1_000);
    // ...and then stops polling the simulator.
    await waitUntil(
      async () => {
        const before = h.sims.veo3.stats().requests;
        await sleep(500);
        return h.sims.veo3.stats().requests === before;
      },
      { what: 'cancelled activity stopped polling' },
    );
    expect(h.sims.veo3.stats().submissions).toBe(1);
  });

  it("a cancel with a reason ends the run CANCELLED too (the Web UI's filters), with the reason on the idea and its jobs", async () => {
    h.sims.veo3.setFaults({ taskDurationMs: 12_000 });
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ title: 'Cancelada con motivo' }));
    await waitUntil(async () => (await jobsOf(recommendation.id)).find((j) => j.step === 'generate' && j.provider_task_id), {
      what: 'VEO3 task submitted',
    });
    await h.service.cancel(recommendation.id, 'idea duplicada');
    await expect(h.client.workflow.getHandle(workflowId).result()).rejects.toThrow(WorkflowFailedError);
    expect((await h.client.workflow.getHandle(workflowId).describe()).status.name).toBe('CANCELLED');
    expect(await recRow(recommendation.id)).toMatchObject({ status: 'cancelled', error: 'cancelled: idea duplicada' });
    expect((await jobsOf(recommendation.id)).filter((j) => j.status === 'cancelled').map((j) => j.error)).toEqual(
      expect.arrayContaining(['cancelled: idea duplicada']),
    );
    // The render it paid for runs to its end, holding the slot (the next test's line starts empty).
    await waitUntil(async () => (await q(`SELECT 1 FROM provider_slots WHERE provider = 'veo3'`)).length === 0, {
      timeoutMs: 30_000,
      what: 'slot freed at the end of the render',
    });
  });

  it('search attributes: waiting while the video waits for a VEO3 slot, then generating, then no provider once published', async () => {
    h.sims.veo3.setFaults({ taskDurationMs: 2_000 });
    // No VEO3 slot for anyone until the test says so.
    await q(`UPDATE provider_limits SET max_concurrent = 0 WHERE provider = 'veo3'`);
    try {
      const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['instagram'] } }));
      const handle = h.client.workflow.getHandle(workflowId);
      const attrs = async () => {
        const sa = (await handle.describe()).typedSearchAttributes;
        return {
          phase: sa.get(SEARCH_ATTRIBUTES.phase),
          provider: sa.get(SEARCH_ATTRIBUTES.provider),
          jobType: sa.get(SEARCH_ATTRIBUTES.jobType),
        };
      };
      await waitUntil(async () => (await jobsOf(recommendation.id)).find((j) => j.step === 'generate')?.waiting_since, {
        what: 'video in line',
      });
      await waitUntil(async () => (await attrs()).phase === 'waiting', { what: 'phase waiting' });
      expect(await attrs()).toEqual({ phase: 'waiting', provider: 'veo3', jobType: 'veo3_player_spotlight' });
      expect((await handle.query(stateQuery)).phase).toBe('waiting');
      await q(`UPDATE provider_limits SET max_concurrent = 2 WHERE provider = 'veo3'`);
      await waitUntil(async () => (await attrs()).phase === 'generating', { what: 'phase generating once the slot is granted' });
      expect(await attrs()).toEqual({ phase: 'generating', provider: 'veo3', jobType: 'veo3_player_spotlight' });
      expect((await handle.result()).status).toBe('published');
      expect(await attrs()).toEqual({ phase: 'published', provider: undefined, jobType: undefined });
    } finally {
      await q(`UPDATE provider_limits SET max_concurrent = 2 WHERE provider = 'veo3'`);
    }
  });

  it('retries a transient 5xx and succeeds without paying twice', async () => {
    h.sims.veo3.setFaults({ failNext: 1 });
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput());
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('published');
    const video = (await jobsOf(recommendation.id)).find((j) => j.step === 'generate')!;
    expect(video).toMatchObject({ status: 'completed', attempts: 2 });
    expect(h.sims.veo3.stats().submissions).toBe(1);
    const events = await q(`SELECT event FROM job_events WHERE job_id = $1 ORDER BY id`, [video.id]);
    expect(events.map((e) => e.event)).toContain('retrying');
  });

  it('makes a new Instagram container when Graph no longer has the one it was polling, and posts once', async () => {
    h.sims.instagram.setFaults({ taskDurationMs: 3_000 });
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['instagram'] } }));
    const post = async () => (await jobsOf(recommendation.id)).find((j) => j.step === 'publish:instagram')!;
    const lost = await waitUntil(async () => (await post()).provider_task_id as string | null, { what: 'container created' });
    // Graph forgets it (past its retention, or a simulator restarted under a resumed job).
    h.sims.instagram.reset();
    h.sims.instagram.setFaults({ taskDurationMs: 200 });
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('published');
    const job = await post();
    expect(job).toMatchObject({ status: 'completed', attempts: 2 });
    expect(job.provider_task_id).not.toBe(lost);
    expect(h.sims.instagram.stats().submissions).toBe(1);
    const events = await q(`SELECT detail->>'error' AS error FROM job_events WHERE job_id = $1 AND event = 'retrying'`, [job.id]);
    expect(events.map((e) => e.error)).toEqual([`instagram: upload ${lost} expired before publishing; a new one will be created`]);
  });

  it('rejects bad input before writing anything', async () => {
    const count = async () => Number((await q(`SELECT count(*) AS n FROM competitive_recommendations`))[0]!.n);
    const before = await count();
    await expect(h.service.enqueue(recommendationInput({ priority: 'P7' }))).rejects.toThrow(/priority must be one of P0, P1, P2, P3/);
    await expect(h.service.enqueue(recommendationInput({ jobConfig: { provider: 'sora' } }))).rejects.toThrow(
      /jobConfig.provider must be one of veo3/,
    );
    await expect(h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['myspace'] } }))).rejects.toThrow(BadInputError);
    await expect(h.service.enqueue(recommendationInput({ jobConfig: { colour: 'red' } }))).rejects.toThrow(
      'enqueue: unknown field "jobConfig.colour"',
    );
    await expect(h.service.start('7f1d8a52-0000-4000-8000-000000000000')).rejects.toThrow(/does not exist/);
    const inHours = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();
    await expect(h.service.enqueue(recommendationInput({ deadline: inHours(-1) }))).rejects.toThrow(/deadline must be in the future/);
    await expect(h.service.enqueue(recommendationInput({ scheduleAfter: inHours(5), deadline: inHours(4) }))).rejects.toThrow(
      /deadline must be after scheduleAfter/,
    );
    // A source video nobody saved: named, not a 500 with a stack in the log.
    await expect(h.service.enqueue(recommendationInput({ sourceVideoId: '7f1d8a52-0000-4000-8000-0000000000aa' }))).rejects.toThrow(
      new BadInputError('enqueue: sourceVideoId 7f1d8a52-0000-4000-8000-0000000000aa is no competitor video we have'),
    );
    expect(await count()).toBe(before);
  });

  it("counts a scheduled idea's priority window from when it may start", async () => {
    const scheduleAfter = new Date(Date.now() + 72 * 3_600_000);
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ priority: 'P0', scheduleAfter: scheduleAfter.toISOString() }),
    );
    expect(recommendation.urgencyDeadline!.getTime()).toBe(scheduleAfter.getTime() + 24 * 3_600_000);
    await h.client.workflow.getHandle(workflowId).cancel();
  });

  it('shows what the idea is in the Web UI (summary and details), not only its id', async () => {
    const scheduleAfter = new Date(Date.now() + 3_600_000);
    const { workflowId } = await h.service.enqueue(recommendationInput({ priority: 'P2', scheduleAfter: scheduleAfter.toISOString() }));
    const handle = h.client.workflow.getHandle(workflowId);
    const described = await handle.describe();
    expect(await described.staticSummary()).toBe('P2 player_spotlight: Carlos Álvarez, el chollo que nadie ve');
    const details = await described.staticDetails();
    expect(details).toContain('**Source:** manual');
    expect(details).toContain('**Target player:** carlos-alvarez');
    expect(details).toContain(`**Not before:** ${scheduleAfter.toISOString()}`);
    await handle.cancel();
  });

  it('answers a bad priority in the reprioritise update with a non-retryable failure naming the field', async () => {
    const scheduleAfter = new Date(Date.now() + 3_600_000);
    const { workflowId } = await h.service.enqueue(recommendationInput({ scheduleAfter: scheduleAfter.toISOString() }));
    const handle = h.client.workflow.getHandle(workflowId);
    const err = await handle.executeUpdate(reprioritiseUpdate, { args: [{ priority: 'P9' as Priority }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (err as WorkflowUpdateFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({
      nonRetryable: true,
      type: FAILURE_TYPES.badInput,
      message: 'priority must be one of P0, P1, P2, P3 (got "P9")',
    });
    // Rejected by the validator: the workflow and its priority are untouched.
    expect((await handle.query(stateQuery)).priority).toBe('P1');
    await handle.cancel();
  });

  it('ignores a lineTurn signal sent by hand without its input: the idea goes on and publishes', async () => {
    const { workflowId } = await h.service.enqueue(recommendationInput({ title: 'señal a mano' }));
    const handle = h.client.workflow.getHandle(workflowId);
    // As `temporal workflow signal --name lineTurn` with no --input sends it (design.md names the signal).
    await handle.signal('lineTurn');
    await handle.signal('lineTurn', null);
    // A handler that threw failed the workflow task at every replay: the run would never end.
    const result = await Promise.race([handle.result(), sleep(30_000).then(() => 'still running after 30 s')]);
    expect(result).toMatchObject({ status: 'published' });
  });

  it('fails fast with the error recorded when a stored job_config is malformed', async () => {
    const [rec] = await q<{ id: string }>(
      `INSERT INTO competitive_recommendations (priority, recommendation_type, title, job_config)
       VALUES ('P2', 'trend_jump', 'Broken row', '{"platforms": "instagram"}') RETURNING id`,
    );
    const { workflowId } = await h.service.start(rec!.id);
    await expect(h.client.workflow.getHandle(workflowId).result()).rejects.toThrow(WorkflowFailedError);
    const row = await recRow(rec!.id);
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/job_config: platforms/);
    expect(await jobsOf(rec!.id)).toEqual([]);
    expect(workflowId).toBe(recommendationWorkflowId(rec!.id));
  });

  it('stops after 3 attempts: job failed with the last error, attempts = 3, recommendation failed', async () => {
    h.sims.veo3.setFaults({ failNext: 3 });
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput());
    await expect(h.client.workflow.getHandle(workflowId).result()).rejects.toThrow(WorkflowFailedError);
    const video = (await jobsOf(recommendation.id)).find((j) => j.step === 'generate')!;
    expect(video).toMatchObject({ status: 'failed', attempts: 3, max_attempts: 3 });
    expect(video.error).toMatch(/veo3/);
    const rec = await recRow(recommendation.id);
    expect(rec.status).toBe('failed');
    expect(rec.error).toMatch(/veo3/);
    // Nothing was created by the failed submits, and the unstarted publish jobs were closed.
    expect(h.sims.veo3.stats().submissions).toBe(0);
    expect((await jobsOf(recommendation.id)).filter((j) => j.step.startsWith('publish')).every((j) => j.status === 'cancelled')).toBe(true);
  });

  it('a cancel arriving while a failed idea records its failure still leaves it failed, its jobs closed', async () => {
    h.sims.veo3.setFaults({ failNext: 3 });
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput());
    // The failure's record cannot be written (the database refuses it) until the cancel has landed.
    await q(`CREATE OR REPLACE FUNCTION test_refuse_failed() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.status = 'failed' THEN RAISE EXCEPTION 'test: the database refuses the failure record'; END IF;
             RETURN NEW; END $$`);
    await q(`CREATE TRIGGER test_refuse_failed BEFORE UPDATE ON competitive_recommendations FOR EACH ROW
             WHEN (NEW.id = '${recommendation.id}') EXECUTE FUNCTION test_refuse_failed()`);
    try {
      await waitUntil(async () => (await jobsOf(recommendation.id)).find((j) => j.step === 'generate')?.status === 'failed', {
        timeoutMs: 60_000,
        what: 'the render failed for good',
      });
      const handle = h.client.workflow.getHandle(workflowId);
      await waitUntil(
        async () => {
          const { raw } = await handle.describe();
          return raw.pendingActivities?.some((a) => a.activityType?.name === 'closeRecommendation' && (a.attempt ?? 0) > 1);
        },
        { what: 'the failure record refused once' },
      );
      expect((await recRow(recommendation.id)).status).toBe('in_production');
      await handle.cancel();
      await sleep(1_000);
    } finally {
      await q('DROP TRIGGER IF EXISTS test_refuse_failed ON competitive_recommendations');
    }
    await expect(h.client.workflow.getHandle(workflowId).result()).rejects.toThrow(WorkflowFailedError);
    const rec = await recRow(recommendation.id);
    expect(rec.status).toBe('failed');
    expect(rec.error).toMatch(/veo3/);
    expect((await jobsOf(recommendation.id)).filter((j) => j.status === 'queued' || j.status === 'processing')).toEqual([]);
  });

  it('rejects malformed model output, retries, and never stores it', async () => {
    h.sims.openai.setFaults({ malformedNext: 1 });
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput());
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('published');
    const analyze = (await jobsOf(recommendation.id)).find((j) => j.step === 'analyze')!;
    expect(analyze).toMatchObject({ status: 'completed', attempts: 2 });
    expect(typeof analyze.result.videoPrompt).toBe('string');
    const events = await q<{ detail: { error: string } }>(`SELECT detail FROM job_events WHERE job_id = $1 AND event = 'retrying'`, [
      analyze.id,
    ]);
    expect(events[0]!.detail.error).toMatch(/openai/i);
  });

  it('records a provider that keeps answering garbage as a clear failure, and the worker keeps serving', async () => {
    h.sims.instagram.setFaults({ malformedNext: 50 });
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ jobConfig: { platforms: ['instagram', 'tiktok'] } }),
    );
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.posts.map((p: { platform: string }) => p.platform)).toEqual(['tiktok']);
    expect(result.failedPlatforms[0].platform).toBe('instagram');
    // Posted on TikTok only: partially_published, in the row, the search attribute and the result, with Instagram's error.
    expect(result.status).toBe('partially_published');
    const row = await recRow(recommendation.id);
    expect(row).toMatchObject({ status: 'partially_published' });
    expect(row.error).toMatch(/^not published on instagram \(instagram: /);
    const described = await h.client.workflow.getHandle(workflowId).describe();
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase)).toBe('partially_published');
    const ig = (await jobsOf(recommendation.id)).find((j) => j.step === 'publish:instagram')!;
    expect(ig).toMatchObject({ status: 'failed', attempts: 3 });
    expect(ig.error).toMatch(/instagram/);
    h.sims.instagram.setFaults({ malformedNext: 0 });
    const next = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['instagram'] } }));
    expect((await h.client.workflow.getHandle(next.workflowId).result()).status).toBe('published');
  });
});
