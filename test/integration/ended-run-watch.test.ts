/**
 * An idea whose workflow was terminated ran none of its clean-up: the ended-run watch closes it as failed, with who
 * ended it and why, frees its jobs and tells the team once; `reelflow retry` then follows its paid render, not paying
 * again. A run ended by a reset is left alone: its new run goes on. Real Temporal server, PostgreSQL, simulators.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { startEndedRunWatch, type EndedRun } from '../../src/workers/ended-run-watch';
import { readUnknownPosts } from '../../src/services/publish-state';
import { awaitingApproval } from '../../src/db/queries';
import { harnessForFile, recommendationInput, runCli } from '../helpers/harness';
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
afterEach(() => {
  watch?.stop();
  // A failed test leaves no render that never ends to the next.
  h.sims.veo3.setFaults({ neverFinish: false });
});
const told: EndedRun[] = [];
/** The team's notification fails this many more times (Temporal away) before it goes. */
let notifyFails = 0;
const startWatch = () => {
  watch = startEndedRunWatch(
    { database: h.db.database, env: h.env, log: pino({ level: 'silent' }), providers: h.runtime.providers },
    {
      client: h.client,
      everyMs: 300,
      onEnded: async (ended) => {
        if (notifyFails-- > 0) throw new Error('14 UNAVAILABLE: Temporal is restarting');
        told.push(ended);
      },
    },
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
    // Its first notification cannot be started: the idea stays open for the next round, which tells it and closes it.
    notifyFails = 1;
    startWatch();
    await waitUntil(async () => (await recRow(recommendation.id)).status === 'failed', {
      what: 'the idea closed as failed',
      timeoutMs: 30_000,
    });
    expect(notifyFails).toBeLessThan(0);
    expect((await recRow(recommendation.id)).error).toMatch(
      /^its workflow was terminated in Temporal by .+: operator: wrong player \(no clean-up ran; `reelflow retry` makes it again\)$/,
    );
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

  it('terminated with a post live and another under way: partially published, the one under way of unknown outcome', async () => {
    // TikTok takes a minute to pull the video: its post is out (the publish_id recorded) when the workflow ends.
    h.sims.tiktok.setFaults({ taskDurationMs: 60_000 });
    try {
      const { recommendation, workflowId } = await h.service.enqueue(
        recommendationInput({ title: 'terminated while posting', jobConfig: { platforms: ['instagram', 'tiktok'] } }),
      );
      const job = async (step: string) =>
        (
          await q<{ status: string; provider_task_id: string | null; error: string | null }>(
            'SELECT status, provider_task_id, error FROM automation_queue WHERE recommendation_id = $1 AND step = $2',
            [recommendation.id, step],
          )
        )[0];
      await waitUntil(
        async () => (await job('publish:instagram'))?.status === 'completed' && (await job('publish:tiktok'))?.provider_task_id,
        {
          what: 'Instagram posted, TikTok pulling',
          timeoutMs: 30_000,
        },
      );
      const pulled = h.sims.tiktok.pulledUrls().length;
      const handle = h.client.workflow.getHandle(workflowId);
      const { runId } = await handle.describe();
      await handle.terminate('operator: stop it');
      startWatch();
      await waitUntil(async () => (await recRow(recommendation.id)).status === 'partially_published', {
        what: 'the idea closed as partially published',
        timeoutMs: 30_000,
      });
      expect((await recRow(recommendation.id)).error).toMatch(
        /: operator: stop it \(no clean-up ran; `reelflow republish` posts the rest\)$/,
      );
      // TikTok may post it still: nothing posts there again without the operator's word, who is told how.
      expect(await job('publish:tiktok')).toMatchObject({
        status: 'failed',
        provider_task_id: null,
        error: expect.stringContaining(`reelflow republish ${recommendation.id} --platform tiktok --post <postId>`),
      });
      expect(await readUnknownPosts(h.db.database.pool, recommendation.id)).toEqual(['tiktok']);
      const refused = await runCli(h, ['republish', recommendation.id]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/the tiktok post's request died unanswered, so it may be live: look on tiktok/);
      expect(h.sims.tiktok.pulledUrls()).toHaveLength(pulled);
      // The Instagram post is measured as any other.
      const posted = await job('publish:instagram');
      expect(posted?.status).toBe('completed');
      await waitUntil(() => told.some((t) => t.recommendationId === recommendation.id), { what: 'the team told' });
      expect(told.find((t) => t.recommendationId === recommendation.id)).toMatchObject({ runId, posted: true });
      const [series] = await q<{ n: string }>(
        `SELECT count(*) AS n FROM post_metric_series WHERE recommendation_id = $1 AND platform = 'instagram'`,
        [recommendation.id],
      );
      expect(Number(series!.n)).toBe(1);
    } finally {
      h.sims.tiktok.setFaults({ taskDurationMs: 200 });
    }
  });

  it("a republish terminated while its post is out: the post of unknown outcome, the idea's next republish not blocked", async () => {
    h.sims.tiktok.setFaults({ failTasks: true });
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ title: 'republish terminated', jobConfig: { platforms: ['instagram', 'tiktok'] } }),
    );
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('partially_published');
    h.sims.tiktok.setFaults({ failTasks: false, taskDurationMs: 60_000 });
    try {
      const republish = await h.service.republish(recommendation.id, { by: 'test' });
      const tiktokJob = async () =>
        (
          await q<{ status: string; provider_task_id: string | null; error: string | null }>(
            `SELECT status, provider_task_id, error FROM automation_queue WHERE workflow_id = $1 AND step = 'publish:tiktok'`,
            [republish.workflowId],
          )
        )[0];
      await waitUntil(async () => (await tiktokJob())?.provider_task_id, { what: 'the republish posting on TikTok' });
      await h.client.workflow.getHandle(republish.workflowId).terminate('operator: not now');
      startWatch();
      await waitUntil(async () => (await tiktokJob())?.status === 'failed', { what: "the republish's post closed", timeoutMs: 30_000 });
      expect((await tiktokJob())!.error).toContain(`reelflow republish ${recommendation.id} --platform tiktok --post <postId>`);
      // Open for ever, it refused every later republish and retry ("a republish is running"); now the post is the
      // operator's to look at.
      expect(await readUnknownPosts(h.db.database.pool, recommendation.id)).toEqual(['tiktok']);
      await expect(h.service.republish(recommendation.id, { by: 'test' })).rejects.toThrow(
        /the tiktok post's request died unanswered, so it may be live: look on tiktok/,
      );
    } finally {
      h.sims.tiktok.setFaults({ taskDurationMs: 200 });
    }
  });

  it('a republish terminated while it waits for an editor: its review no longer shows, nor is reminded', async () => {
    h.sims.tiktok.setFaults({ failTasks: true });
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ title: 'republish waiting', jobConfig: { platforms: ['instagram', 'tiktok'] } }),
    );
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('partially_published');
    h.sims.tiktok.setFaults({ failTasks: false });
    // Made stricter since: TikTok's post waits for an editor's yes, which nobody gave this video.
    await q(`UPDATE competitive_recommendations SET job_config = job_config || '{"approval":{"beforePublish":["tiktok"]}}' WHERE id = $1`, [
      recommendation.id,
    ]);
    const republish = await h.service.republish(recommendation.id, { by: 'test' });
    const waitingIn = async () =>
      (
        await q<{ w: string | null }>(`SELECT approval->'waiting'->>'workflowId' AS w FROM competitive_recommendations WHERE id = $1`, [
          recommendation.id,
        ])
      )[0]!.w;
    await waitUntil(async () => (await waitingIn()) === republish.workflowId, { what: 'the republish waiting for approval' });
    await h.client.workflow.getHandle(republish.workflowId).terminate('operator: not now');
    startWatch();
    await waitUntil(async () => (await waitingIn()) === null, { what: "the republish's review cleared", timeoutMs: 30_000 });
    expect((await awaitingApproval(h.db.database.pool)).map((r) => r.id)).not.toContain(recommendation.id);
  });

  it('terminated while YouTube processes its upload: the post named by its video id, which `republish --post` records', async () => {
    // YouTube answers the upload with the video's id once every byte is stored; then it processes for a minute.
    h.sims.youtube.setFaults({ taskDurationMs: 60_000 });
    const uploads = h.sims.youtube.stats().submissions;
    try {
      const { recommendation, workflowId } = await h.service.enqueue(
        recommendationInput({ title: 'terminated while YouTube processes', jobConfig: { platforms: ['youtube'] } }),
      );
      const job = async () =>
        (
          await q<{ status: string; provider_task_id: string | null; error: string | null }>(
            `SELECT status, provider_task_id, error FROM automation_queue WHERE recommendation_id = $1 AND step = 'publish:youtube'`,
            [recommendation.id],
          )
        )[0];
      const videoId = await waitUntil(async () => (await job())?.provider_task_id, { what: 'the upload stored', timeoutMs: 30_000 });
      await h.client.workflow.getHandle(workflowId).terminate('operator: stop it');
      startWatch();
      await waitUntil(async () => (await job())?.status === 'failed', { what: 'the post closed', timeoutMs: 30_000 });
      const { error } = (await job())!;
      expect(error).toContain(`youtube: its upload was stored as ${videoId}, processing or live; not posting again.`);
      expect(error).toContain(`\`reelflow republish ${recommendation.id} --platform youtube --post ${videoId}\` records it`);
      h.sims.youtube.setFaults({ taskDurationMs: 200 });
      const recorded = await runCli(h, ['republish', recommendation.id, '--platform', 'youtube', '--post', videoId!]);
      expect(recorded.stderr).toBe('');
      expect(recorded.code).toBe(0);
      await waitUntil(async () => (await recRow(recommendation.id)).status === 'published', { what: 'the idea published' });
      expect(h.sims.youtube.stats().submissions).toBe(uploads + 1);
    } finally {
      h.sims.youtube.setFaults({ taskDurationMs: 200 });
    }
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
