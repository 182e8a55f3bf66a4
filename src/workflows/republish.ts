/**
 * republishWorkflow: an archived video posted again, without a new render (`reelflow republish`, the API, the
 * dashboard). The recommendation's own workflow has closed by then, so this is a workflow of its own
 * (`republish-<id>-<n>`): its publish jobs go through the gate like the first publish's and read our copy
 * (video_assets) through a freshly signed URL; the status they lead to and the new posts' metrics series are
 * recorded like the first publish's.
 *
 *   plan (new publish jobs) -> publish on each platform, in parallel -> record the status, start post metrics
 *
 * With `adopt` (`reelflow republish --post`): nothing is posted. The post the platform made though our record says
 * its publish failed (a worker lost inside the request) is recorded on that failed job, then the status and the
 * post's metrics series follow as after a publish.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import { PROVIDER_LIMITS, type PublishPlatform } from '../config/providers';
import type { createPublishActivities, PublishedPost } from '../activities/publish';
import type { createQueueSyncActivities } from '../activities/queue-sync';
import type { createRepublishActivities, RepublishPlan } from '../activities/republish';
import { notificationEventKey, notificationText } from '../notifications/notify';
import { providerActivityOptions } from '../shared/activity-options';
import { SEARCH_ATTRIBUTES, initialState, type RecommendationPhase } from '../shared/messages';
import { approvalStep, rejectedText } from './approval-step';
import { notifyFromWorkflow } from './notification';
import { rootMessage, surviveWorkerLoss } from './provider-steps';

export interface RepublishInput {
  recommendationId: string;
  platforms: PublishPlatform[];
  /** Who asked (CLI user, API token, dashboard): in the workflow's input for the history. */
  requestedBy: string;
  /** The post already made on platforms[0], checked with the platform by the command: recorded, not posted again. */
  adopt?: { postId: string; unchecked?: string };
}

export interface RepublishOutcome {
  /** The idea's status after the posts; `rejected` when an editor said no to every platform asked for (nothing posted). */
  status: 'published' | 'partially_published' | 'failed' | 'rejected';
  posts: PublishedPost[];
  failedPlatforms: Array<{ platform: PublishPlatform; error: string }>;
  /** Platforms an editor refused the video for (never posted there). */
  rejectedPlatforms?: PublishPlatform[];
}

type Republish = ReturnType<typeof createRepublishActivities>;
type QueueSync = ReturnType<typeof createQueueSyncActivities>;
type Publish = ReturnType<typeof createPublishActivities>;

/** A post may wait for its platform's slot (and quota) as long as a P3 waits: a week. */
const PUBLISH_WAIT_BUDGET_MS = 7 * 24 * 3_600_000;

const db = wf.proxyActivities<Republish & Pick<QueueSync, 'cancelUnstartedJobs'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: ['BadInput'] },
});

export async function republishWorkflow(input: RepublishInput): Promise<RepublishOutcome> {
  const info = wf.workflowInfo();
  const { recommendationId } = input;
  wf.upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTES.recommendationId, value: recommendationId },
    { key: SEARCH_ATTRIBUTES.phase, value: 'publishing' },
  ]);
  if (input.adopt) {
    const post = await db.adoptPost({
      recommendationId,
      platform: input.platforms[0]!,
      postId: input.adopt.postId,
      by: input.requestedBy,
      ...(input.adopt.unchecked ? { unchecked: input.adopt.unchecked } : {}),
    });
    const status = await db.recordRepublished({ recommendationId });
    wf.upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: status }]);
    return { status, posts: [post], failedPlatforms: [] };
  }
  const state = initialState(recommendationId, 'publishing');
  const setPhase = (phase: RecommendationPhase) => {
    state.phase = phase;
    wf.upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.phase, value: phase }]);
  };
  let title = recommendationId;
  const approval = approvalStep({
    recommendationId,
    workflowId: info.workflowId,
    state: () => state,
    onWaiting: () => setPhase('awaiting_approval'),
    notify: (review, text) =>
      notifyFromWorkflow({
        eventKey: notificationEventKey('approval', `${recommendationId}:${info.workflowId}:${review.stage}`),
        event: 'approval',
        text: notificationText({ event: 'approval', title, priority: state.priority, workflowId: info.workflowId, error: text }),
      }),
  });
  try {
    const plan = await db.planRepublish({ recommendationId, platforms: input.platforms, workflowId: info.workflowId, runId: info.runId });
    title = plan.title;
    state.priority = plan.priority;
    // A platform whose post needs an editor's yes waits for it (src/activities/republish.ts); the others post meanwhile.
    const waitFor = plan.approval?.platforms ?? [];
    const publishOn = (jobs: RepublishPlan['jobs']) =>
      Promise.allSettled(
        jobs.map(({ platform, jobId }) =>
          surviveWorkerLoss(() =>
            wf
              .proxyActivities<Publish>(
                providerActivityOptions({
                  provider: platform,
                  baseTaskQueue: info.taskQueue,
                  estimateSeconds: PROVIDER_LIMITS[platform].estimatedDurationSeconds,
                  waitBudgetMs: PUBLISH_WAIT_BUDGET_MS,
                  priority: plan.priority,
                }),
              )
              .publishVideo({
                jobId,
                platform,
                videoUrl: plan.sourceUrl,
                archiveKey: plan.archiveKey,
                title: plan.title,
                caption: plan.caption,
                ...(plan.coverUrl ? { coverUrl: plan.coverUrl } : {}),
                ...(plan.coverAtMs !== undefined ? { coverAtMs: plan.coverAtMs } : {}),
              }),
          ),
        ),
      );
    const free = plan.jobs.filter((j) => !waitFor.includes(j.platform));
    const held = plan.jobs.filter((j) => waitFor.includes(j.platform));
    const posting = publishOn(free);
    let approved: typeof held = [];
    let rejectedPlatforms: PublishPlatform[] = [];
    if (plan.approval && held.length) {
      const verdict = await approval.wait(
        {
          stage: 'publish',
          requestedAt: new Date(Date.now()).toISOString(),
          ...plan.approval.review,
          platforms: waitFor,
          workflowId: info.workflowId,
        },
        null,
      );
      setPhase('publishing');
      if (verdict === 'approve') approved = held;
      else {
        rejectedPlatforms = waitFor;
        await db.cancelUnstartedJobs({ jobIds: held.map((j) => j.jobId), reason: rejectedText('publish') });
      }
    }
    const ran = [...free, ...approved];
    const results = [...(await posting), ...(await publishOn(approved))];
    const posts: PublishedPost[] = [];
    const failedPlatforms: RepublishOutcome['failedPlatforms'] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') posts.push(r.value);
      else if (wf.isCancellation(r.reason)) throw r.reason;
      else failedPlatforms.push({ platform: ran[i]!.platform, error: rootMessage(r.reason) });
    });
    // Nothing posted and nothing failed: the editor said no to every platform asked for; the idea stays as it was.
    const status = ran.length ? await db.recordRepublished({ recommendationId }) : 'rejected';
    setPhase(status);
    if (failedPlatforms.length) {
      const gap = failedPlatforms.map((f) => `${f.platform}: ${f.error}`).join('; ');
      await notifyEnd(posts.length ? 'partially_published' : 'failed', `republish: not posted on ${gap}`);
    }
    return { status, posts, failedPlatforms, ...(rejectedPlatforms.length ? { rejectedPlatforms } : {}) };
  } catch (err) {
    await wf.CancellationScope.nonCancellable(() =>
      db.closeRepublishJobs({ recommendationId, workflowId: info.workflowId, reason: `republish ended: ${rootMessage(err)}` }),
    );
    if (wf.isCancellation(err)) throw err;
    await notifyEnd('failed', `republish failed: ${rootMessage(err)}`);
    throw ApplicationFailure.nonRetryable(`republish of ${recommendationId} failed: ${rootMessage(err)}`);
  }

  /**
   * A republish that did not post everywhere asked tells the team, as the first publish does: its failures showed
   * only on the dashboard. Histories from before end without it.
   */
  async function notifyEnd(event: 'failed' | 'partially_published', error: string): Promise<void> {
    if (!wf.patched('republish-notifies-its-failures')) return;
    await notifyFromWorkflow({
      eventKey: notificationEventKey(event, `${recommendationId}:${info.workflowId}`),
      event,
      text: notificationText({ event, title, priority: state.priority, workflowId: info.workflowId, error }),
    });
  }
}
