/**
 * recommendationWorkflow: one recommendation from idea to published posts.
 *
 *   load -> (durable sleep until schedule_after) -> analyse (OpenAI brief: a script of segments)
 *   -> [approval of the brief, when the policy asks: before any money is spent]
 *   -> generate:1..N (one paid VEO3 render per segment: chained extends, or independent in parallel)
 *   -> assemble (ffmpeg: the final cut, checked with ffprobe)
 *   -> publish (each platform, in parallel; [approval of the video first where the policy asks])
 *   -> mark published
 * (clip mode, and histories from before reels: one `generate` render published as VEO3 made it.)
 *
 * Every step is an automation_queue job created up front, so reports and the
 * 24 h calendar see the whole plan. Activities write each transition; this
 * function only orchestrates (no I/O, no clocks but the SDK's).
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import { isPriority, PRIORITIES } from '../config/priorities';
import { providerActivityOptions } from '../shared/activity-options';
import {
  PROVIDER_LIMITS,
  PUBLISH_JOB_TYPE,
  providerTaskQueue,
  type JobType,
  type Provider,
  type PublishPlatform,
} from '../config/providers';
import { ASSEMBLE_STEP, reelSeed, segmentStep, type ReelSettings } from '../config/reel';
import type { ArchivedVideo, createArchiveActivities } from '../activities/archive';
import type { createAssemblyActivities } from '../activities/assembly';
import type { createOpenAiActivities } from '../activities/openai';
import type { createPublishActivities, PublishedPost } from '../activities/publish';
import type { createQueueSyncActivities, RecommendationPlan } from '../activities/queue-sync';
import type { createRetryActivities } from '../activities/retry';
import type { createVeo3Activities, GeneratedVideo, RenderedSegment } from '../activities/veo3';
import type { VideoBrief } from '../content/brief';
import { postCaption } from '../content/caption';
import { notificationEventKey, notificationText } from '../notifications/notify';
import { notifyFromWorkflow } from './notification';
import { failureType, rootMessage, surviveWorkerLoss } from './provider-steps';
import { durableLine } from './line';
import { patchesAtStart, PATCHES, type PatchId } from './patches';
import { approvalStep, rejectedText } from './approval-step';
import type { ApprovalPlan } from '../config/approval';
import {
  cancelSignal,
  cancelReasonSignal,
  cancelReasonText,
  FAILURE_TYPES,
  slotGrantedSignal,
  reprioritiseSignal,
  reprioritiseUpdate,
  SEARCH_ATTRIBUTES,
  stateQuery,
  type ApprovalReview,
  type ApprovalStage,
  type RecommendationPhase,
  initialState,
  type ReprioritiseInput,
} from '../shared/messages';

export interface RecommendationInput {
  recommendationId: string;
  /** `reelflow retry` (src/services/retry.ts): this run makes a failed or expired idea again, its first step reopening the jobs. */
  retry?: RetryRequest;
}

export interface RetryRequest {
  /** Who asked (audit). */
  by: string;
  /** The idea's deadline from now on (the old one when still ahead, else a fresh window). */
  deadline: string | null;
  /** The job that died inside its paid submit, and the provider task the operator found it made. */
  adopt?: { jobId: string; taskId: string };
  /** The operator found nothing made by the submit that died: pay for a new one. */
  resubmit?: boolean;
}

export interface RecommendationOutcome {
  status: 'published' | 'partially_published' | 'expired' | 'rejected';
  videoUrl: string | null;
  posts: PublishedPost[];
  failedPlatforms: Array<{ platform: PublishPlatform; error: string }>;
  /** Platforms an editor refused the video for (never posted there). */
  rejectedPlatforms?: PublishPlatform[];
  /** A reel: its segments' VEO3 tasks, in order, and its cover frame. */
  segments?: Array<{ index: number; taskId: string }>;
  coverUrl?: string;
}

type QueueSync = ReturnType<typeof createQueueSyncActivities>;
type Retry = ReturnType<typeof createRetryActivities>;
type OpenAi = ReturnType<typeof createOpenAiActivities>;
type Veo3 = ReturnType<typeof createVeo3Activities>;
type Publish = ReturnType<typeof createPublishActivities>;
type Assembly = ReturnType<typeof createAssemblyActivities>;
type Archive = ReturnType<typeof createArchiveActivities>;

/**
 * The archive download runs on the assembly queue with its own retries: a failed or corrupt download is fetched
 * again from the source (5 attempts, backing off to a minute), never rendered again; a dead worker is noticed by
 * its heartbeat and the next attempt continues the staged bytes by range.
 */
function archiveActivities(baseTaskQueue: string) {
  return wf.proxyActivities<Archive>({
    taskQueue: providerTaskQueue(baseTaskQueue, 'assembly'),
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
  });
}

const WAIT_BUDGET_WITHOUT_DEADLINE_MS = 7 * 24 * 3_600_000;

// Database sync must survive a database outage: retry until it is back, never give up silently.
const sync = wf.proxyActivities<QueueSync>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

// The first steps run as local activities on the workflow's own worker: no task
// queue round trip, so a job joins its provider's line a few hundred ms sooner.
const local = wf.proxyLocalActivities<QueueSync & Retry>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export async function recommendationWorkflow(input: RecommendationInput): Promise<RecommendationOutcome> {
  // Before any local activity: a replay must take each patch as the recording did (src/workflows/patches.ts).
  const patched = patchesAtStart();
  const info = wf.workflowInfo();
  const workflowId = info.workflowId;
  const { recommendationId } = input;
  const state = initialState(recommendationId, 'loading');
  let cancelReason = cancelReasonText(undefined, 'temporal');
  let title: string | undefined;
  const main = new wf.CancellationScope();
  // Each provider job waits for its turn in its line with no activity running (src/workflows/line.ts);
  // a job granted its slot there (not in its activity) is announced by the line, not by the activity.
  const takeTurn = durableLine((jobId) => slotGranted(jobId), patched);

  const setPhase = (phase: RecommendationPhase, provider?: Provider | null, jobType?: JobType | null) => {
    state.phase = phase;
    // undefined: leave as is; null: remove (no single provider runs the job any more).
    wf.upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.phase, value: phase },
      ...(provider !== undefined ? [{ key: SEARCH_ATTRIBUTES.provider, value: provider }] : []),
      ...(jobType !== undefined ? [{ key: SEARCH_ATTRIBUTES.jobType, value: jobType }] : []),
    ]);
  };
  /** The phase to show once the job named by currentJobId leaves its provider's line (slotGranted). */
  let phaseWhenGranted: RecommendationPhase | null = null;
  const waitForSlot = (running: RecommendationPhase, provider: Provider, jobType: JobType, jobId: string) => {
    state.currentJobId = jobId;
    phaseWhenGranted = running;
    setPhase('waiting', provider, jobType);
  };

  const applyPriority = async ({ priority }: ReprioritiseInput) => {
    state.priority = priority;
    wf.upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.priority, value: priority }]);
    await sync.setPriority({ recommendationId, workflowId, priority });
  };
  const validatePriority = (arg: ReprioritiseInput) => {
    if (!arg || typeof arg.priority !== 'string' || !isPriority(arg.priority)) {
      // Non-retryable: the same payload can never pass, and a caller reading `retryable` must not try again.
      throw ApplicationFailure.nonRetryable(
        `priority must be one of ${PRIORITIES.join(', ')} (got ${JSON.stringify(arg?.priority)})`,
        FAILURE_TYPES.badInput,
      );
    }
  };
  wf.setHandler(stateQuery, () => state);
  wf.setHandler(
    reprioritiseUpdate,
    async (arg) => {
      await applyPriority(arg);
      return state;
    },
    { validator: validatePriority },
  );
  wf.setHandler(reprioritiseSignal, async (arg) => {
    try {
      validatePriority(arg);
    } catch (err) {
      wf.log.warn('ignored reprioritise signal', { error: (err as Error).message });
      return;
    }
    await applyPriority(arg);
  });
  /** The job named by currentJobId holds its slot: the phase moves from waiting to running (once per wait). */
  const slotGranted = (jobId: string | undefined) => {
    if (!phaseWhenGranted || state.phase !== 'waiting' || jobId !== state.currentJobId) return;
    setPhase(phaseWhenGranted);
    phaseWhenGranted = null;
  };
  // From the provider activity once its wait ends (a job that waited in it); a retried attempt announces again.
  wf.setHandler(slotGrantedSignal, (arg) => slotGranted(arg?.jobId));
  const approval = approvalStep({
    recommendationId,
    workflowId,
    patched,
    state: () => state,
    onWaiting: () => {
      state.currentJobId = null;
      setPhase('awaiting_approval', null, null);
    },
    notify: (review, text) => notify('approval', text, review.stage),
  });
  wf.setHandler(cancelSignal, (arg) => {
    cancelReason = cancelReasonText(arg?.reason, 'signal');
    main.cancel();
  });
  wf.setHandler(cancelReasonSignal, (arg) => {
    cancelReason = cancelReasonText(arg?.reason, 'signal');
  });

  try {
    return await main.run(() => produce());
  } catch (err) {
    if (wf.isCancellation(err)) {
      setPhase('cancelled');
      await wf.CancellationScope.nonCancellable(() =>
        sync.closeRecommendation({ recommendationId, workflowId, status: 'cancelled', reason: cancelReason }),
      );
      throw err;
    }
    if (failureType(err) === FAILURE_TYPES.deadlineExpired) return await closing(expire);
    const message = rootMessage(err);
    state.error = message;
    setPhase('failed');
    await closing(async () => {
      await sync.closeRecommendation({ recommendationId, workflowId, status: 'failed', reason: message });
      await notify('failed', message);
    });
    throw ApplicationFailure.create({ message: `recommendation ${recommendationId} failed: ${message}`, nonRetryable: true });
  } finally {
    // Let a reprioritise in flight finish its database write, even when cancelled.
    await wf.CancellationScope.nonCancellable(() => wf.condition(wf.allHandlersFinished));
  }

  /**
   * The failure and expiry records: a cancel arriving while they are written (`reelflow cancel` on an idea failing)
   * would leave the idea in_production for ever, its jobs open. Histories from before ran them cancellable.
   */
  function closing<T>(fn: () => Promise<T>): Promise<T> {
    return patched(PATCHES.closeFailureUncancellable) ? wf.CancellationScope.nonCancellable(fn) : fn();
  }

  async function expire(): Promise<RecommendationOutcome> {
    setPhase('expired');
    state.error = `deadline ${state.deadline} passed before the video was generated`;
    await sync.closeRecommendation({ recommendationId, workflowId, status: 'expired', reason: state.error });
    await notify('expired', state.error);
    return { status: 'expired', videoUrl: null, posts: [], failedPlatforms: [] };
  }

  async function reject(stage: ApprovalStage, rejectedPlatforms: PublishPlatform[]): Promise<RecommendationOutcome> {
    state.error = rejectedText(stage);
    setPhase('rejected');
    await sync.closeRecommendation({ recommendationId, workflowId, status: 'rejected', reason: state.error });
    return { status: 'rejected', videoUrl: state.videoUrl, posts: [], failedPlatforms: [], rejectedPlatforms };
  }

  /** Slack/Discord message through its own workflow: a webhook outage delays it, never loses it. */
  async function notify(
    event: 'completed' | 'partially_published' | 'failed' | 'expired' | 'approval',
    error: string | null,
    subject = '',
  ) {
    // A retry's run notifies under keys of its own: each key is sent once, and the first run's failure must not
    // swallow the retry's (runs from before retries keep their keys).
    const about = input.retry ? `${recommendationId}:run-${info.runId}` : recommendationId;
    await notifyFromWorkflow({
      eventKey: notificationEventKey(event, subject ? `${about}:${subject}` : about),
      event,
      text: notificationText({ event, title: title ?? recommendationId, priority: state.priority, workflowId, error }),
    });
  }

  async function produce(): Promise<RecommendationOutcome> {
    const retried = input.retry ? await local.reopenForRetry({ recommendationId, workflowId, ...input.retry }) : null;
    const plan = await local.loadRecommendation(recommendationId);
    title = plan.title;
    if (plan.status !== 'pending' && plan.status !== 'in_production') {
      throw ApplicationFailure.nonRetryable(`recommendation is ${plan.status}; nothing to produce`, FAILURE_TYPES.badInput);
    }
    state.priority ??= plan.priority;
    state.scheduleAfter = plan.scheduleAfter;
    state.deadline = plan.deadline;
    wf.upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.priority, value: state.priority },
      { key: SEARCH_ATTRIBUTES.recommendationId, value: recommendationId },
    ]);

    /**
     * The approvals asked of this idea at a step: the plan's (read when the workflow began, maybe days ago) and any the
     * policy asks now. A policy made stricter since reaches the ideas already in line; one made looser does not.
     */
    const approvalNow = async (patch: PatchId): Promise<ApprovalPlan> => {
      const planned = plan.approval ?? { beforeRender: false, beforePublish: [] };
      if (!patched(patch)) return planned;
      const now = await local.approvalPlanNow(recommendationId);
      return {
        beforeRender: planned.beforeRender || now.beforeRender,
        beforePublish: [...new Set([...planned.beforePublish, ...now.beforePublish])],
      };
    };

    const videoJobType: JobType =
      plan.type === 'player_spotlight' ? 'veo3_player_spotlight' : plan.type === 'bargain' ? 'veo3_chollo' : 'veo3_competitive_response';
    const platforms = plan.jobConfig.platforms;
    const step = (name: string, jobType: JobType, deadline: string | null) => ({
      workflowId,
      runId: info.runId,
      recommendationId,
      step: name,
      jobType,
      priority: state.priority!,
      jobConfig: plan.jobConfig,
      scheduleAfter: plan.scheduleAfter,
      deadline,
    });
    // The whole plan is visible from the start; the deadline guards unpaid steps only.
    // Workflows started before this change (a P3 can wait a week) replay their separate markInProduction.
    const oneTransaction = patched(PATCHES.oneTransaction);
    const startsNow = oneTransaction && !(plan.scheduleAfter && Date.parse(plan.scheduleAfter) > Date.now()) && !deadlinePassed(plan);
    // A reel's segments are planned once the script says how many; its assembly is planned now, where `generate` was.
    // Histories from before reels (no plan.reel) and clip mode keep the one `generate` render.
    const reel: ReelSettings | null = plan.reel && plan.reel.mode !== 'clip' && patched(PATCHES.reelSegments) ? plan.reel : null;
    const [analyzeRow, videoRow, ...publishRows] = await local.enqueuePlan(
      [
        step('analyze', 'openai_analysis', plan.deadline),
        // Assembly runs after paid renders, so no deadline stops it.
        reel ? step(ASSEMBLE_STEP, 'reel_assembly', null) : step('generate', videoJobType, plan.deadline),
        ...platforms.map((platform) => step(`publish:${platform}`, PUBLISH_JOB_TYPE[platform], null)),
      ],
      startsNow ? { inProduction: { recommendationId, workflowId } } : {},
    );
    const analyzeJob = analyzeRow!;
    const videoJob = videoRow!;
    const publishJobs = new Map<PublishPlatform, string>(platforms.map((platform, i) => [platform, publishRows[i]!.id]));

    if (plan.scheduleAfter && Date.parse(plan.scheduleAfter) > Date.now()) {
      setPhase('scheduled');
      await wf.sleep(Date.parse(plan.scheduleAfter) - Date.now());
    }
    if (deadlinePassed(plan)) return expire();
    if (!startsNow) await local.markInProduction({ recommendationId, workflowId });

    // Histories recorded before the waiting phase existed replay their old search-attribute values.
    const showsWaiting = patched(PATCHES.waitingPhase);
    if (showsWaiting) waitForSlot('analyzing', 'openai', 'openai_analysis', analyzeJob.id);
    else setPhase('analyzing', 'openai', 'openai_analysis');
    state.currentJobId = analyzeJob.id;
    const brief = await takeTurn(analyzeJob.id, plan.deadline, () =>
      activitiesFor<OpenAi>('openai', plan).writeBrief({
        jobId: analyzeJob.id,
        request: {
          title: plan.title,
          type: plan.type,
          targetPlayer: plan.targetPlayer,
          ourData: plan.ourData,
          notes: plan.jobConfig.notes,
          ...(reel ? { reel: { minSegments: reel.minSegments, maxSegments: reel.maxSegments, segmentSeconds: reel.segmentSeconds } } : {}),
        },
      }),
    );

    const caption = postCaption(plan.jobConfig.caption, brief);
    /** What an editor sees at an approval step: the brief's words, and the video once there is one. */
    const reviewOf = (stage: ApprovalStage, videoUrl: string | null, on: PublishPlatform[]): ApprovalReview => ({
      stage,
      requestedAt: new Date(Date.now()).toISOString(),
      title: brief.title,
      caption,
      // A reel's editor decides on the script it pays N renders for: each segment's picture, line and card.
      videoPrompt: reel ? scriptForReview(brief.segments) : brief.videoPrompt,
      videoUrl,
      platforms: on,
    });

    if (deadlinePassed(plan)) return expire();
    // A retry does not ask again for the brief an editor approved: the analysis is kept, so it is the same brief.
    if ((await approvalNow(PATCHES.approvalPolicyBeforeRender)).beforeRender && !retried?.briefApproved) {
      const verdict = await approval.wait(reviewOf('render', null, platforms), plan.deadline);
      if (verdict === 'timeout') return expire();
      if (verdict === 'reject') return reject('render', platforms);
      if (deadlinePassed(plan)) return expire();
    }
    let video: GeneratedVideo & {
      coverUrl?: string;
      coverAtMs?: number;
      segments?: RenderedSegment[];
      expect?: { sha256: string; bytes: number };
    };
    if (reel) {
      video = await makeReel(reel, videoJob.id);
    } else {
      if (showsWaiting) waitForSlot('generating', 'veo3', videoJobType, videoJob.id);
      else setPhase('generating', 'veo3', videoJobType);
      state.currentJobId = videoJob.id;
      video = await takeTurn(videoJob.id, plan.deadline, () =>
        activitiesFor<Veo3>('veo3', plan).generateVideo({
          jobId: videoJob.id,
          request: {
            prompt: brief.videoPrompt,
            aspectRatio: plan.jobConfig.aspectRatio,
            model: plan.jobConfig.model,
            imageUrl: plan.jobConfig.imageUrl,
          },
        }),
      );
    }
    state.videoUrl = video.videoUrl;
    // Keep what we paid for before any post: publishing reads our copy (histories from before it publish KIE's URL).
    let archived: ArchivedVideo | null = null;
    if (patched(PATCHES.archiveBeforePublish)) {
      archived = await surviveWorkerLoss(() =>
        archiveActivities(info.taskQueue).archiveVideo({
          recommendationId,
          videoUrl: video.videoUrl,
          kieTaskIds: video.segments ? video.segments.map((s) => s.taskId) : [video.taskId],
          ...(video.expect ? { expect: video.expect } : {}),
        }),
      );
    }

    // Several platforms publish at once: no one provider or job type describes the workflow now.
    if (showsWaiting) setPhase('publishing', null, null);
    else setPhase('publishing');
    state.currentJobId = null;
    // Paid for, the video is posted whatever the idea's deadline, as a reel's later segments are rendered. Bound by it, a
    // post approved (or a reel finished) after it gave each attempt 1 s plus twice the post's estimate to get its slot and
    // post, and failed after 3 behind a busy line or a spent quota (histories from before keep the bound).
    const postBy = patched(PATCHES.postsPastDeadline) ? null : plan.deadline;
    const publishOn = (list: readonly PublishPlatform[]) =>
      Promise.allSettled(
        list.map(async (platform) => {
          return takeTurn(publishJobs.get(platform)!, postBy, () =>
            activitiesFor<Publish>(platform, plan, postBy).publishVideo({
              jobId: publishJobs.get(platform)!,
              platform,
              videoUrl: video.videoUrl,
              ...(archived ? { archiveKey: archived.storageKey } : {}),
              title: brief.title,
              caption,
              // A reel's cover frame, where the platform takes one (clips: the platform picks a frame).
              ...(video.coverUrl ? { coverUrl: video.coverUrl } : {}),
              ...(video.coverAtMs !== undefined ? { coverAtMs: video.coverAtMs } : {}),
            }),
          );
        }),
      );
    // Platforms that need the editor's eye on the video wait for it; the others post meanwhile.
    const asked = (await approvalNow(PATCHES.approvalPolicyBeforePublish)).beforePublish;
    const needsApproval = platforms.filter((p) => asked.includes(p));
    let published: PublishPlatform[] = platforms;
    let rejectedPlatforms: PublishPlatform[] = [];
    let results: Array<PromiseSettledResult<PublishedPost>>;
    if (needsApproval.length === 0) {
      results = await publishOn(platforms);
    } else {
      const free = platforms.filter((p) => !needsApproval.includes(p));
      const posting = publishOn(free);
      const verdict = await approval.wait(reviewOf('publish', video.videoUrl, needsApproval), null);
      setPhase('publishing', null, null);
      const approved = verdict === 'approve' ? await publishOn(needsApproval) : [];
      if (verdict !== 'approve') {
        rejectedPlatforms = needsApproval;
        // Planned up front, their jobs would stay queued for ever (histories from before left them so).
        if (patched(PATCHES.closeRejectedPublishJobs)) {
          await sync.cancelUnstartedJobs({ jobIds: needsApproval.map((p) => publishJobs.get(p)!), reason: rejectedText('publish') });
        }
      }
      published = verdict === 'approve' ? [...free, ...needsApproval] : free;
      results = [...(await posting), ...approved];
    }
    const posts: PublishedPost[] = [];
    const failedPlatforms: RecommendationOutcome['failedPlatforms'] = [];
    results.forEach((r, i) => {
      const platform = published[i]!;
      if (r.status === 'fulfilled') {
        posts.push(r.value);
        state.posts[platform] = r.value.postId;
      } else {
        if (wf.isCancellation(r.reason)) throw r.reason;
        failedPlatforms.push({ platform, error: rootMessage(r.reason) });
      }
    });
    if (posts.length === 0 && failedPlatforms.length === 0) return reject('publish', rejectedPlatforms);
    if (posts.length === 0) {
      throw ApplicationFailure.nonRetryable(
        `no platform published the video: ${failedPlatforms.map((f) => `${f.platform}: ${f.error}`).join('; ')}`,
      );
    }
    // Posted somewhere but not everywhere: its own state, so nobody reads "published" and misses the gap.
    // Histories recorded before it existed ended as published (with the same notification key).
    const partial = failedPlatforms.length > 0 && patched(PATCHES.partiallyPublished);
    await sync.markPublished({ recommendationId, workflowId, ...(partial ? { failedPlatforms } : {}) });
    const status = partial ? 'partially_published' : 'published';
    setPhase(status);
    const gap = failedPlatforms.map((f) => `${f.platform}: ${f.error}`).join('; ');
    await notify(partial ? 'partially_published' : 'completed', failedPlatforms.length ? `not published on ${gap}` : null);
    return {
      status,
      videoUrl: video.videoUrl,
      posts,
      failedPlatforms,
      ...(rejectedPlatforms.length ? { rejectedPlatforms } : {}),
      ...(video.segments ? { segments: video.segments.map((s) => ({ index: s.index, taskId: s.taskId })) } : {}),
      ...(video.coverUrl ? { coverUrl: video.coverUrl } : {}),
    };

    /**
     * The reel: its segments planned as jobs generate:1..N, each one paid VEO3 render through the gate (a failed
     * segment is retried alone; the rendered ones are kept), then one assembly job cuts them into the final video.
     */
    async function makeReel(settings: ReelSettings, assembleJobId: string) {
      const script = brief.segments;
      // Only segment 1 carries the deadline: once it is paid, the reel is finished rather than the money wasted.
      const rows = await local.enqueuePlan(script.map((_, i) => step(segmentStep(i + 1), videoJobType, i === 0 ? plan.deadline : null)));
      state.segments = { total: script.length, rendered: 0 };
      const seeds = reelSeed(recommendationId);
      const render = async (i: number, extendsTaskId?: string) => {
        return takeTurn(rows[i]!.id, i === 0 ? plan.deadline : null, () =>
          activitiesFor<Veo3>('veo3', plan, i === 0 ? plan.deadline : null).generateSegment({
            jobId: rows[i]!.id,
            index: i + 1,
            segment: script[i]!,
            request: {
              aspectRatio: plan.jobConfig.aspectRatio,
              model: plan.jobConfig.model,
              imageUrl: plan.jobConfig.imageUrl,
              // Independent segments share the reference image and the seed: the only thread between them.
              reference: settings.mode === 'independent',
              seeds,
            },
            ...(extendsTaskId ? { extendsTaskId } : {}),
            // Chained: the next segment takes this one's slot as it ends, so no job behind it gets in between.
            ...(settings.mode === 'chained' && rows[i + 1] ? { nextJobId: rows[i + 1]!.id } : {}),
          }),
        ).then((segment) => {
          state.segments!.rendered += 1;
          return segment;
        });
      };
      const rendered: RenderedSegment[] = [];
      if (settings.mode === 'chained') {
        for (let i = 0; i < script.length; i++) {
          waitForSlot('generating', 'veo3', videoJobType, rows[i]!.id);
          rendered.push(await render(i, rendered[i - 1]?.taskId));
        }
      } else {
        waitForSlot('generating', 'veo3', videoJobType, rows[0]!.id);
        // Settled, not raced: a failed segment must not leave the others' paid renders unrecorded.
        const results = await Promise.allSettled(script.map((_, i) => render(i)));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        rendered.push(...results.map((r) => (r as PromiseFulfilledResult<RenderedSegment>).value));
      }

      waitForSlot('assembling', 'assembly', 'reel_assembly', assembleJobId);
      const cut = await takeTurn(assembleJobId, null, () =>
        activitiesFor<Assembly>('assembly', plan, null).assembleReel({
          jobId: assembleJobId,
          recommendationId,
          mode: settings.mode === 'chained' ? 'chained' : 'independent',
          segmentSeconds: settings.segmentSeconds,
          segments: rendered.map((r, i) => ({
            index: r.index,
            videoUrl: r.videoUrl,
            spokenLine: script[i]!.spokenLine,
            onScreenText: script[i]!.onScreenText,
          })),
        }),
      );
      return {
        taskId: rendered.at(-1)!.taskId,
        videoUrl: cut.videoUrl,
        coverUrl: cut.coverUrl,
        ...(cut.coverAtMs !== undefined ? { coverAtMs: cut.coverAtMs } : {}),
        segments: rendered,
        // The archived copy must be the cut assembly checked, byte for byte.
        expect: { sha256: cut.sha256, bytes: cut.bytes },
      };
    }
  }

  /** `deadline`: the job's own (default the plan's); null for steps that run whatever the time (after paid work). */
  function activitiesFor<T>(provider: Provider, plan: RecommendationPlan, deadline: string | null = plan.deadline) {
    const limits = PROVIDER_LIMITS[provider];
    const waitBudget = deadline ? Math.max(Date.parse(deadline) - Date.now(), 1_000) : WAIT_BUDGET_WITHOUT_DEADLINE_MS;
    return wf.proxyActivities<T>(
      providerActivityOptions({
        provider,
        baseTaskQueue: info.taskQueue,
        estimateSeconds: limits.estimatedDurationSeconds,
        waitBudgetMs: waitBudget,
        priority: state.priority ?? plan.priority,
      }),
    );
  }

  function deadlinePassed(plan: RecommendationPlan): boolean {
    return plan.deadline !== null && Date.parse(plan.deadline) <= Date.now();
  }
}

/** A script as an editor reads it at the approval step: one block per segment. */
function scriptForReview(segments: VideoBrief['segments']): string {
  return segments
    .map(
      (s, i) => `${i + 1}. ${s.visualPrompt}\n   «${s.spokenLine}»${s.onScreenText.length ? `\n   [${s.onScreenText.join(' · ')}]` : ''}`,
    )
    .join('\n');
}
