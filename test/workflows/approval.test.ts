/**
 * The approval step against the real Temporal server, PostgreSQL and the
 * simulators: an idea drawn from a competitor's video waits for an editor
 * before the paid render; a platform whose policy says so waits for the
 * editor to see the finished video; nobody deciding in time expires it
 * unpaid; every decision lands in the database and the audit log, whichever
 * way it arrived.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WorkflowUpdateStage } from '@temporalio/client';
import { approvalUpdate, cancelSignal, stateQuery } from '../../src/shared/messages';
import { ConflictError } from '../../src/shared/errors';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { waitUntil } from '../helpers/wait';
import { NativeConnection } from '@temporalio/worker';
import { inject } from 'vitest';
import { createWorkers } from '../../src/workers/workers';
import { sleep } from '../../src/shared/sleep';
import { enqueueJob } from '../../src/db/queries';
import { PROVIDER_LIMITS } from '../../src/config/providers';
import { postMetricsWorkflowId } from '../../src/shared/workflow-ids';

let h: Harness;
beforeAll(async () => {
  // The default policy (competitor ideas before the render) plus TikTok posts after a look at the video.
  h = await startHarness({ env: { REELFLOW_APPROVAL_POLICY: JSON.stringify({ beforePublish: { tiktok: true } }) } });
});
/** Workers a test started itself, stopped before the harness. */
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
  await h?.stop();
});
beforeEach(() => {
  for (const sim of Object.values(h.sims)) sim.reset();
});

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await h.db.database.pool.query(text, params)).rows as T[];
/** A row as pg returns it; the tests read approval.waiting / approval.decisions off it. */
type RecommendationRow = { status: string; urgency_deadline: Date; approval: { waiting: unknown; decisions: unknown[] } };
const row = async (id: string) => (await q<RecommendationRow>('SELECT * FROM competitive_recommendations WHERE id = $1', [id]))[0]!;
const phase = (workflowId: string) => h.client.workflow.getHandle(workflowId).query(stateQuery);
const awaiting = (workflowId: string, stage: 'render' | 'publish') =>
  waitUntil(async () => (await phase(workflowId)).approval?.stage === stage, { what: `waiting for the ${stage} approval` });

const fromCompetitor = (o: Record<string, unknown> = {}) =>
  recommendationInput({ source: 'competitor', type: 'counter_argument', jobConfig: { platforms: ['instagram'] }, ...o });

describe('approval', () => {
  it('a competitor idea waits for an editor before the render; approved, it is rendered once and posted', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(fromCompetitor());
    await awaiting(workflowId, 'render');
    const state = await phase(workflowId);
    expect(state.phase).toBe('awaiting_approval');
    expect(state.approval).toMatchObject({ stage: 'render', platforms: ['instagram'], videoUrl: null });
    expect(state.approval!.caption.length).toBeGreaterThan(0);
    // The workflow shows the wait before its activity has written it to the row.
    const waiting = await waitUntil(async () => (await row(recommendation.id)).approval?.waiting, { what: 'the wait on the row' });
    expect(waiting).toMatchObject({ stage: 'render' });
    // Nothing paid while it waits.
    expect(h.sims.veo3.stats().submissions).toBe(0);

    // A note PostgreSQL cannot store is refused before it reaches the workflow, and by the workflow's own validator
    // (`temporal workflow update`): accepted, its record failed for ever and every later decision was refused as pending.
    await expect(h.service.decide(recommendation.id, 'approve', { by: 'ana', note: 'vale\u0000' })).rejects.toThrow(
      'note holds a NUL character or half of a surrogate pair, which PostgreSQL cannot store',
    );
    await expect(
      h.client.workflow.getHandle(workflowId).executeUpdate(approvalUpdate, { args: [{ decision: 'approve', note: 'vale \ud83d' }] }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/^note holds a NUL character or half of a surrogate pair/) } });
    expect((await phase(workflowId)).approval).toMatchObject({ stage: 'render' });

    const after = await h.service.decide(recommendation.id, 'approve', { by: 'ana', note: 'bien argumentado' });
    expect(after.approval).toBeNull();
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    expect(h.sims.veo3.stats().submissions).toBe(1);

    const rec = await row(recommendation.id);
    expect(rec.status).toBe('published');
    expect(rec.approval.waiting).toBeNull();
    expect(rec.approval.decisions).toMatchObject([{ stage: 'render', decision: 'approve', by: 'ana', note: 'bien argumentado' }]);
    const audit = await q(`SELECT actor, action, target FROM audit_log WHERE target = $1`, [recommendation.id]);
    expect(audit).toEqual([{ actor: 'ana', action: 'recommendation.approve', target: recommendation.id }]);
  });

  it('rejected before the render: status rejected, nothing rendered or posted, its jobs closed', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(fromCompetitor({ title: 'Una idea que no convence' }));
    await awaiting(workflowId, 'render');
    await h.service.decide(recommendation.id, 'reject', { by: 'luis', note: 'afirmación dudosa' });
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('rejected');
    expect(h.sims.veo3.stats().submissions).toBe(0);
    expect(h.sims.instagram.stats().submissions).toBe(0);
    expect(await row(recommendation.id)).toMatchObject({ status: 'rejected' });
    const open = await q(`SELECT step FROM automation_queue WHERE recommendation_id = $1 AND status IN ('queued','processing')`, [
      recommendation.id,
    ]);
    expect(open).toEqual([]);
  });

  it('nobody decides before the deadline: expired, never paid', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(
      fromCompetitor({ title: 'Nadie la mira a tiempo', deadline: new Date(Date.now() + 6_000).toISOString() }),
    );
    await awaiting(workflowId, 'render');
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('expired');
    expect(h.sims.veo3.stats().submissions).toBe(0);
    const rec = await row(recommendation.id);
    expect(rec.status).toBe('expired');
    // A closed idea offers no decision any more.
    expect(rec.approval.waiting).toBeNull();
  });

  it('a decision names the review its editor saw: once a retry asked again, the old one is refused and nothing is recorded', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(
      fromCompetitor({ title: 'Vista por la editora, luego reintentada', deadline: new Date(Date.now() + 8_000).toISOString() }),
    );
    await awaiting(workflowId, 'render');
    // What the editor's page shows: the waiting review off the row (the dashboard's and `reelflow status`'s source).
    const seen = (await waitUntil(async () => (await row(recommendation.id)).approval?.waiting, { what: 'the wait on the row' })) as {
      id: string;
    };
    expect(seen.id).toMatch(/^[0-9a-f-]{36}\/1$/);
    expect((await phase(workflowId)).approval).toMatchObject({ id: seen.id });
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('expired');

    // Made again: the new run asks for the brief again, under a review of its own.
    await h.service.retry(recommendation.id, { by: 'test' });
    await waitUntil(
      async () => (await phase(workflowId)).approval?.id !== undefined && (await phase(workflowId)).approval?.id !== seen.id,
      {
        what: 'the retry waiting for its own review',
      },
    );
    const waiting = (await phase(workflowId)).approval!;
    await expect(h.service.decide(recommendation.id, 'approve', { by: 'ana', reviewId: seen.id })).rejects.toThrow(
      new ConflictError(
        `the review decided on (${seen.id}) is not the one waiting: the render approval waiting now is ${waiting.id}, ` +
          `requested at ${waiting.requestedAt}; look at it before deciding`,
      ),
    );
    await expect(h.service.decide(recommendation.id, 'approve', { by: 'ana', reviewId: ' ' })).rejects.toThrow(
      /^reviewId \(the CLI's --review\) must be the id of the review decided on/,
    );
    // The workflow's own check, for `temporal workflow update` (no service in between).
    const handle = h.client.workflow.getHandle(workflowId);
    for (const [reviewId, refusal] of [
      [seen.id, /^the review decided on \(.+\) is not the one waiting: the render approval waiting now is /],
      [42, /^reviewId must be the id of the review waiting \(/],
    ] as const) {
      await expect(
        handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', reviewId: reviewId as string }] }),
      ).rejects.toMatchObject({ cause: { message: expect.stringMatching(refusal) } });
    }
    // Refused: nothing recorded, nothing paid, the new review still waits.
    expect((await row(recommendation.id)).approval.decisions).toEqual([]);
    expect(h.sims.veo3.stats().submissions).toBe(0);
    expect((await phase(workflowId)).approval).toMatchObject({ id: waiting.id, stage: 'render' });

    const after = await h.service.decide(recommendation.id, 'approve', { by: 'ana', reviewId: waiting.id! });
    expect(after.approval).toBeNull();
    expect((await row(recommendation.id)).approval.decisions).toMatchObject([
      { stage: 'render', decision: 'approve', reviewId: waiting.id },
    ]);
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('published');
    expect(h.sims.veo3.stats().submissions).toBe(1);
  });

  it("a workflow reset past the review's request keeps the review's id: the id its card shows still decides", async () => {
    const { recommendation, workflowId } = await h.service.enqueue(fromCompetitor({ title: 'Reiniciada mientras espera' }));
    await awaiting(workflowId, 'render');
    const shown = (await waitUntil(async () => (await row(recommendation.id)).approval?.waiting, { what: 'the wait on the row' })) as {
      id: string;
    };
    // What an operator does to a workflow whose task fails: reset it to its last completed workflow task (after the
    // review was shown; that step is not run again, so the row keeps the id it had).
    const handle = h.client.workflow.getHandle(workflowId);
    await waitUntil(async () => (await handle.describe()).raw.pendingWorkflowTask == null, { what: 'the workflow idle, waiting' });
    const events = (await handle.fetchHistory()).events ?? [];
    const lastTask = events.filter((e) => e.workflowTaskCompletedEventAttributes).at(-1)!;
    const described = await handle.describe();
    const reset = await h.client.workflowService.resetWorkflowExecution({
      namespace: h.client.options.namespace,
      workflowExecution: { workflowId, runId: described.runId },
      reason: 'test: reset while waiting for an editor',
      workflowTaskFinishEventId: lastTask.eventId,
      requestId: `reset-${recommendation.id}`,
    });
    expect(reset.runId).not.toBe(described.runId);
    await waitUntil(async () => (await handle.describe()).runId === reset.runId && (await phase(workflowId)).approval != null, {
      what: 'the reset run waiting for the editor',
    });
    expect((await phase(workflowId)).approval).toMatchObject({ id: shown.id, stage: 'render' });
    expect((await row(recommendation.id)).approval.waiting).toMatchObject({ id: shown.id });

    await h.service.decide(recommendation.id, 'approve', { by: 'ana', reviewId: shown.id });
    expect((await handle.result()).status).toBe('published');
    expect(h.sims.veo3.stats().submissions).toBe(1);
  });

  it('a platform whose policy asks waits for the video to be seen; the others post meanwhile', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ title: 'Spotlight en dos redes', jobConfig: { platforms: ['instagram', 'tiktok'] } }),
    );
    await awaiting(workflowId, 'publish');
    const state = await phase(workflowId);
    expect(state.approval).toMatchObject({ stage: 'publish', platforms: ['tiktok'] });
    expect(state.approval!.videoUrl).toMatch(/^http/);
    await waitUntil(async () => h.sims.instagram.stats().submissions === 1, { what: 'Instagram posted without waiting' });
    expect(h.sims.tiktok.stats().submissions).toBe(0);
    // The Instagram post is live: it is measured from now, not from whenever (if ever) the editor decides on TikTok's.
    const [live] = await waitUntil(
      () =>
        q<{ post_id: string; completed_at: Date; published_at: Date | null }>(
          `SELECT q.result->>'postId' AS post_id, q.completed_at, s.published_at FROM automation_queue q
             LEFT JOIN post_metric_series s ON s.platform = 'instagram' AND s.post_id = q.result->>'postId'
            WHERE q.recommendation_id = $1 AND q.step = 'publish:instagram' AND q.status = 'completed'`,
          [recommendation.id],
        ),
      { what: "the Instagram post's metrics series", until: (rows) => rows[0]?.published_at != null },
    );
    expect(live!.published_at).toEqual(live!.completed_at);
    const series = h.client.workflow.getHandle(postMetricsWorkflowId('instagram', live!.post_id));
    expect((await series.describe()).status.name).toBe('RUNNING');
    expect(await phase(workflowId)).toMatchObject({ approval: { stage: 'publish', platforms: ['tiktok'] } });

    // A late click on the render stage is refused; the publish decision goes through the Temporal update itself.
    await expect(h.service.decide(recommendation.id, 'approve', { by: 'ana', stage: 'render' })).rejects.toBeInstanceOf(ConflictError);
    await h.client.workflow.getHandle(workflowId).executeUpdate(approvalUpdate, { args: [{ decision: 'approve', stage: 'publish' }] });
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    expect(result.posts.map((p: { platform: string }) => p.platform).sort()).toEqual(['instagram', 'tiktok']);
    expect((await row(recommendation.id)).approval.decisions).toMatchObject([
      { stage: 'publish', decision: 'approve', by: 'temporal workflow update (no actor given)' },
    ]);
  });

  it('cancelled while a platform waits for the editor: the post already made is measured all the same', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ title: 'Cancelada a medias', jobConfig: { platforms: ['instagram', 'tiktok'] } }),
    );
    await awaiting(workflowId, 'publish');
    const [post] = await waitUntil(
      () =>
        q<{ post_id: string }>(
          `SELECT result->>'postId' AS post_id FROM automation_queue
            WHERE recommendation_id = $1 AND step = 'publish:instagram' AND status = 'completed'`,
          [recommendation.id],
        ),
      { what: 'the Instagram post made', until: (rows) => rows.length === 1 },
    );
    await h.service.cancel(recommendation.id);
    await h.client.workflow
      .getHandle(workflowId)
      .result()
      .catch(() => undefined);
    expect((await row(recommendation.id)).status).toBe('cancelled');
    // Its series runs (it used to get none: only a published idea's posts were measured).
    const series = h.client.workflow.getHandle(postMetricsWorkflowId('instagram', post!.post_id));
    expect((await series.describe()).status.name).toBe('RUNNING');
    await series.terminate('test over');
    expect(h.sims.tiktok.stats().submissions).toBe(0);
  });

  it('rejecting the video keeps it off that platform only', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ title: 'Solo en Instagram al final', jobConfig: { platforms: ['instagram', 'tiktok'] } }),
    );
    await awaiting(workflowId, 'publish');
    await h.service.decide(recommendation.id, 'reject', { by: 'ana' });
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result).toMatchObject({ status: 'published', rejectedPlatforms: ['tiktok'] });
    expect(h.sims.tiktok.stats().submissions).toBe(0);
  });

  it('a platform the editor rejected is asked again once the policy no longer asks: a republish there waits for a yes', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ title: 'Rechazado en TikTok', jobConfig: { platforms: ['instagram', 'tiktok'] } }),
    );
    await awaiting(workflowId, 'publish');
    await h.service.decide(recommendation.id, 'reject', { by: 'ana' });
    expect(await h.client.workflow.getHandle(workflowId).result()).toMatchObject({ status: 'published', rejectedPlatforms: ['tiktok'] });
    const policy = h.env.REELFLOW_APPROVAL_POLICY;
    try {
      // Looser now: TikTok posts need nobody's yes. The video rejected there is still nobody's yes.
      policy.beforePublish.tiktok = false;
      const republish = await h.service.republish(recommendation.id, { platform: 'tiktok', by: 'ops' });
      const waiting = await waitUntil(
        async () => (await row(recommendation.id)).approval?.waiting as { stage: string; platforms: string[] } | null,
        {
          what: "the republish waiting for the editor's look",
        },
      );
      expect(waiting).toMatchObject({ stage: 'publish', platforms: ['tiktok'] });
      expect(h.sims.tiktok.stats().submissions).toBe(0);
      await h.service.decide(recommendation.id, 'approve', { by: 'ana' });
      await h.client.workflow.getHandle(republish.workflowId).result();
      expect(h.sims.tiktok.stats().submissions).toBe(1);
    } finally {
      policy.beforePublish.tiktok = true;
    }
  });

  it('a video approved after the deadline is still posted: its post waits for its slot, not for the deadline', async () => {
    const deadline = Date.now() + 8_000;
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ title: 'Aprobado tarde', deadline: new Date(deadline).toISOString(), jobConfig: { platforms: ['tiktok'] } }),
    );
    await awaiting(workflowId, 'publish');
    await waitUntil(() => Date.now() > deadline + 500, { what: 'the deadline passed' });
    // A step of this run left open (as a post whose last attempt timed out in its line leaves its row): once the idea is
    // published, nothing of the run is left queued.
    const ghost = await enqueueJob(h.db.database.pool, PROVIDER_LIMITS, {
      workflowId,
      runId: 'ghost',
      recommendationId: recommendation.id,
      step: 'publish:youtube',
      jobType: 'youtube_short',
      priority: 'P2',
    });
    // TikTok's day is spent: the post waits in line for its quota.
    await q(`UPDATE provider_quotas SET parked_until = now() + interval '1 hour', parked_reason = 'test' WHERE name = 'tiktok_posts'`);
    try {
      await h.service.decide(recommendation.id, 'approve', { by: 'ana' });
      const [post] = await q<{ id: string }>(`SELECT id FROM automation_queue WHERE workflow_id = $1 AND step = 'publish:tiktok'`, [
        workflowId,
      ]);
      // Bound by the deadline, each attempt had 1 s plus twice the post's estimate (121 s) to post, then failed.
      const scheduled = async () => {
        for await (const e of (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []) {
          const a = e.activityTaskScheduledEventAttributes;
          if (a?.activityType?.name === 'publishVideo') return Number(a.startToCloseTimeout?.seconds ?? 0);
        }
        return 0;
      };
      const timeout = await waitUntil(scheduled, { what: 'the post scheduled' });
      expect(timeout).toBeGreaterThan(7 * 24 * 3600);
      await waitUntil(
        async () => (await q(`SELECT 1 FROM automation_queue WHERE id = $1 AND waiting_since IS NOT NULL`, [post!.id])).length,
        {
          what: 'the post waiting in line',
        },
      );
    } finally {
      await q(`UPDATE provider_quotas SET parked_until = NULL, parked_reason = NULL WHERE name = 'tiktok_posts'`);
    }
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result).toMatchObject({ status: 'published', posts: [{ platform: 'tiktok' }] });
    expect(await q(`SELECT status, error FROM automation_queue WHERE id = $1`, [ghost.id])).toEqual([
      { status: 'cancelled', error: 'not run: its workflow ended, the idea published' },
    ]);
  });

  it('a policy made stricter after an idea began (a worker restarted with it) reaches that idea before it posts', async () => {
    // A manual idea needs no approval: its plan, read as its workflow began, says so.
    const scheduleAfter = new Date(Date.now() + 4_000).toISOString();
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ source: 'manual', scheduleAfter, jobConfig: { platforms: ['instagram', 'youtube'] } }),
    );
    await waitUntil(async () => (await phase(workflowId)).phase === 'scheduled', { what: 'the idea scheduled, its plan read' });
    const policy = h.env.REELFLOW_APPROVAL_POLICY;
    const before = structuredClone(policy);
    try {
      policy.beforeRender.manual = true;
      policy.beforePublish.instagram = true;
      await awaiting(workflowId, 'render');
      expect(h.sims.veo3.stats().submissions).toBe(0);
      await h.service.decide(recommendation.id, 'approve', { by: 'ana' });
      await awaiting(workflowId, 'publish');
      expect((await phase(workflowId)).approval).toMatchObject({ stage: 'publish', platforms: ['instagram'] });
      // YouTube, which the policy leaves free, posts meanwhile; Instagram waits for the editor.
      await waitUntil(async () => h.sims.youtube.stats().submissions > 0, { what: 'the YouTube post' });
      expect(h.sims.instagram.stats().submissions).toBe(0);
      // The second review of the run: a bare decision may be meant for the brief's (another editor approved it
      // meanwhile), so it must say which; nothing posted on it.
      const waiting = (await phase(workflowId)).approval!;
      await expect(h.service.decide(recommendation.id, 'approve', { by: 'ana' })).rejects.toThrow(
        `this idea was asked for approval before: say which review this decides. The publish approval waiting now is ${waiting.id}`,
      );
      expect(h.sims.instagram.stats().submissions).toBe(0);
      await h.service.decide(recommendation.id, 'approve', { by: 'ana', stage: 'publish' });
      expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('published');
    } finally {
      Object.assign(policy.beforeRender, before.beforeRender);
      Object.assign(policy.beforePublish, before.beforePublish);
    }
  }, 120_000);

  it("a policy made stricter while a post waits in its platform's line reaches that post: not made, its idea says why", async () => {
    const { cap } = (await q<{ cap: number }>(`SELECT max_concurrent AS cap FROM provider_limits WHERE provider = 'youtube'`))[0]!;
    // YouTube takes no post for now (its day's uploads spent, say): the idea's post waits in its line.
    await q(`UPDATE provider_limits SET max_concurrent = 0 WHERE provider = 'youtube'`);
    const policy = h.env.REELFLOW_APPROVAL_POLICY;
    const uploads = h.sims.youtube.stats().submissions;
    try {
      const { recommendation, workflowId } = await h.service.enqueue(
        recommendationInput({ source: 'manual', title: 'Espera en la cola de YouTube', jobConfig: { platforms: ['youtube'] } }),
      );
      await waitUntil(
        async () =>
          (
            await q(
              `SELECT 1 FROM automation_queue WHERE recommendation_id = $1 AND step = 'publish:youtube' AND waiting_since IS NOT NULL`,
              [recommendation.id],
            )
          ).length,
        { what: "the post in YouTube's line", timeoutMs: 60_000 },
      );
      policy.beforePublish.youtube = true;
      await q(`UPDATE provider_limits SET max_concurrent = $1 WHERE provider = 'youtube'`, [cap]);
      await expect(h.client.workflow.getHandle(workflowId).result()).rejects.toThrow();
      const idea = await q<{ status: string; error: string }>('SELECT status, error FROM competitive_recommendations WHERE id = $1', [
        recommendation.id,
      ]);
      expect(idea[0]).toMatchObject({
        status: 'failed',
        error: expect.stringContaining(`no editor approved this video for it: not posted. \`reelflow republish ${recommendation.id}`),
      });
      expect(h.sims.youtube.stats().submissions).toBe(uploads);
    } finally {
      policy.beforePublish.youtube = false;
      await q(`UPDATE provider_limits SET max_concurrent = $1 WHERE provider = 'youtube'`, [cap]);
    }
  }, 120_000);

  /** A competitor idea waiting for its brief's approval, the wait written on its row. */
  async function waitingForRender() {
    const { recommendation, workflowId } = await h.service.enqueue(fromCompetitor());
    await awaiting(workflowId, 'render');
    await waitUntil(async () => (await row(recommendation.id)).approval?.waiting, { what: 'the wait on the row' });
    return { id: recommendation.id, workflowId, handle: h.client.workflow.getHandle(workflowId) };
  }

  /** Runs `fn` while another session holds the idea's row: the workflow's writes to it (records, the cancel's) wait. */
  async function whileRowHeld(id: string, fn: () => Promise<void>): Promise<void> {
    const lock = await h.db.database.pool.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('SELECT 1 FROM competitive_recommendations WHERE id = $1 FOR UPDATE', [id]);
      await fn();
    } finally {
      await lock.query('ROLLBACK');
      lock.release();
    }
  }

  const cancelTaken = async (workflowId: string) => {
    await h.client.workflow.getHandle(workflowId).signal(cancelSignal, { reason: 'se cae la noticia' });
    await waitUntil(async () => (await phase(workflowId)).phase === 'cancelled', { what: 'the cancel taken' });
  };

  it('a cancel landing while a decision is recorded ends the idea and answers the editor: nothing waits for ever', async () => {
    const { id, workflowId, handle } = await waitingForRender();
    let answered: Promise<unknown> = Promise.resolve();
    // The decision's record waits on the held row while the cancel arrives.
    await whileRowHeld(id, async () => {
      const update = await handle.startUpdate(approvalUpdate, {
        args: [{ decision: 'approve', by: 'ana' }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      answered = update.result().then(
        () => 'acted on',
        (err: unknown) => err,
      );
      await cancelTaken(workflowId);
    });
    expect(await answered).toMatchObject({
      cause: { message: `${id} was cancelled while this decision was recorded: it was not acted on` },
    });
    // Ended (a cancel with a reason closes as the cancelled scope's failure), not waiting for its handler for ever.
    await expect(handle.result()).rejects.toThrow();
    expect((await handle.describe()).status.name).not.toBe('RUNNING');
    expect((await row(id)).status).toBe('cancelled');
    expect(h.sims.veo3.stats().submissions).toBe(0);
  }, 60_000);

  it('a decision sent while a cancel is being recorded, none pending, is refused: nothing waits any more', async () => {
    const { id, workflowId, handle } = await waitingForRender();
    // The cancel's record waits on the held row.
    await whileRowHeld(id, async () => {
      await cancelTaken(workflowId);
      await expect(handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'ana' }] })).rejects.toMatchObject({
        cause: { message: expect.stringMatching(/^nothing waits for approval/) },
      });
    });
    await expect(handle.result()).rejects.toThrow();
    expect((await row(id)).status).toBe('cancelled');
  }, 60_000);

  it('refuses a decision when nothing waits for one', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ title: 'Sin aprobación', jobConfig: { platforms: ['instagram'] } }),
    );
    await h.client.workflow.getHandle(workflowId).result();
    await expect(h.service.decide(recommendation.id, 'approve', { by: 'ana' })).rejects.toThrow(/already published/);
  });

  // Last in the file: it stops the harness's workers and leaves its own running for the rest of the run.
  it('a decision delivered with the deadline (a worker back after both came) is answered, and the idea ends', async () => {
    const { recommendation, workflowId } = await h.service.enqueue(
      fromCompetitor({ title: 'Aprobada al límite', deadline: new Date(Date.now() + 8_000).toISOString() }),
    );
    await awaiting(workflowId, 'render');
    const handle = h.client.workflow.getHandle(workflowId);
    await h.stopWorkers();
    // The deadline's timer fires with no worker, and an editor approves meanwhile: one task brings both.
    await sleep(Math.max((await row(recommendation.id)).urgency_deadline.getTime() - Date.now(), 0) + 1_000);
    const decided = handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'ana' }] }).then(
      () => 'answered',
      (err: Error) => `refused: ${err.message}`,
    );
    await sleep(500);
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const workers = await createWorkers({ connection, namespace: 'default', baseQueue: h.taskQueue, deps: h.runtime });
    const running = Promise.all(workers.map((w) => w.run()));
    cleanups.push(async () => {
      for (const w of workers) w.shutdown();
      await running;
      await connection.close();
    });
    // One activation brings the update and the timer's firing: the update runs first and the wait takes it (a wait that
    // took the timer instead would leave the decision waiting for a record that never comes, the run never ending).
    const within = <T>(p: Promise<T>) => Promise.race([p, sleep(30_000).then(() => 'no answer in 30 s')]);
    expect(await within(decided)).toBe('answered');
    expect(await within(handle.result().then((r) => r.status))).toBe('expired');
    expect(h.sims.veo3.stats().submissions).toBe(0);
    // The decision is on the record, as the editor was told, and the idea expired: its deadline had passed.
    const rec = await row(recommendation.id);
    expect(rec.status).toBe('expired');
    expect(rec.approval.decisions).toMatchObject([{ stage: 'render', decision: 'approve', by: 'ana' }]);
  }, 90_000);
});
