/**
 * VEO3 (KIE.ai) activities: submit once, then poll the same task until the video is ready.
 * generateVideo is a whole video from one prompt (clip mode); generateSegment is one segment
 * of a reel, a new render or an extend of the segment before it (chained mode).
 */
import { providerEventKey } from '../gate/provider-events';
import type { ScriptSegment } from '../content/brief';
import { segmentPrompt } from '../content/script';
import { ProviderError } from '../providers/errors';
import { creditGuard } from '../gate/quotas';
import type { VideoRequest } from '../providers/types';
import { renderCredits } from '../config/env';
import type { ActivityDeps } from './deps';
import { runProviderJob, type JobContext } from './provider-job';

export interface GenerateVideoInput {
  jobId: string;
  request: VideoRequest;
}

export interface GeneratedVideo {
  taskId: string;
  videoUrl: string;
}

export interface GenerateSegmentInput {
  jobId: string;
  /** 1-based, as the job's step (generate:1..N). */
  index: number;
  segment: ScriptSegment;
  /** Everything of the render but its prompt, which comes from the segment. */
  request: Omit<VideoRequest, 'prompt'>;
  /** Chained mode: the finished task of the segment before, which this one extends. */
  extendsTaskId?: string;
  /** Chained mode: the next segment's job, which takes this one's slot when it ends (no P3 in between). */
  nextJobId?: string;
}

export interface RenderedSegment extends GeneratedVideo {
  index: number;
}

export function createVeo3Activities(deps: ActivityDeps) {
  // With callbacks, a render's first call is its keyed submit: armed, the grant claims its start (drizzle/0033).
  const jobOptions = { armSubmit: Boolean(deps.env.KIE_CALLBACK_URL) };
  // KIE's credit balance, when the client can read it: a render it cannot cover waits in line (quota_exhausted).
  const veo3Client = deps.providers.veo3 as Partial<{ getCredits(): Promise<number> }>;
  const coverRender = veo3Client.getCredits ? creditGuard('veo3', () => veo3Client.getCredits!()) : null;

  /** One paid task, followed to its video; a retry resumes the recorded task instead of paying again. */
  async function render(
    ctx: JobContext,
    model: string | undefined,
    submit: (callbackKey: string) => Promise<{ taskId: string }>,
  ): Promise<GeneratedVideo> {
    const veo3 = deps.providers.veo3;
    const cost = renderCredits(deps.env, model);
    // Not for a submit whose answer never came: none is sent again (submitOnce waits for its callback or fails), and a
    // balance short of a second render sent the job back to its line, its slot given up while that render ran.
    if (coverRender && !ctx.hasTask() && !ctx.job.submitAttemptedAt) await coverRender(cost);
    // With callbacks on, a submit whose answer was lost is recovered from the callback naming its key (not failed).
    const taskId = await ctx.submitOnce(async (key) => (await submit(key)).taskId, {
      cost,
      fromCallback: Boolean(deps.env.KIE_CALLBACK_URL),
    });
    // KIE's callback (KIE_CALLBACK_URL) wakes the poll as soon as the render ends.
    const status = await ctx.poll(
      () => veo3.getStatus(taskId),
      (s) => s.state !== 'generating',
      {
        wakeKey: providerEventKey('veo3', taskId),
      },
    );
    if (status.state === 'failed') {
      // The task is over on KIE's side; a new submit would be a new paid task, so this is final. The dead task is
      // forgotten (its id stays in the 'discarded' event): `reelflow retry` then pays for a new render, on purpose.
      await ctx.discardProviderTask();
      throw new ProviderError('veo3', 'permanent', `generation failed (${status.code ?? 'no code'}): ${status.message}`);
    }
    if (status.state !== 'succeeded') throw new ProviderError('veo3', 'malformed', `unexpected state ${status.state}`);
    return { taskId, videoUrl: status.videoUrl };
  }

  return {
    async generateVideo(input: GenerateVideoInput): Promise<GeneratedVideo> {
      return runProviderJob(
        deps,
        input.jobId,
        'veo3',
        async (ctx) => ({
          value: await render(ctx, input.request.model, (callbackKey) => deps.providers.veo3.submit({ ...input.request, callbackKey })),
        }),
        jobOptions,
      );
    },

    async generateSegment(input: GenerateSegmentInput): Promise<RenderedSegment> {
      return runProviderJob(
        deps,
        input.jobId,
        'veo3',
        async (ctx) => {
          const prompt = segmentPrompt(input.segment);
          const veo3 = deps.providers.veo3;
          const { extendsTaskId } = input;
          // An extend renders on the model of the task it extends: the segments share the request's.
          const video = await render(ctx, input.request.model, (callbackKey) =>
            extendsTaskId
              ? veo3.extend({
                  taskId: extendsTaskId,
                  prompt,
                  callbackKey,
                  ...(input.request.seeds !== undefined ? { seeds: input.request.seeds } : {}),
                })
              : veo3.submit({ ...input.request, prompt, callbackKey, reference: referenceAllowed(input.request, deps.env.KIE_MODEL) }),
          );
          return { value: { index: input.index, ...video }, ...(input.nextJobId ? { handOverTo: input.nextJobId } : {}) };
        },
        jobOptions,
      );
    },
  };
}

/** KIE draws from reference images with veo3_fast only; other models take the image as the first frame. */
function referenceAllowed(request: Omit<VideoRequest, 'prompt'>, defaultModel: string): boolean {
  return Boolean(request.reference && request.imageUrl && (request.model ?? defaultModel) === 'veo3_fast');
}
