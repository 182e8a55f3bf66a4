/** VEO3 (KIE.ai) activity: submit once, then poll the same task until the video is ready. */
import { providerEventKey } from '../gate/provider-events';
import { ProviderError } from '../providers/errors';
import type { VideoRequest } from '../providers/types';
import type { ActivityDeps } from './deps';
import { runProviderJob } from './provider-job';

export interface GenerateVideoInput {
  jobId: string;
  request: VideoRequest;
}

export interface GeneratedVideo {
  taskId: string;
  videoUrl: string;
}

export function createVeo3Activities(deps: ActivityDeps) {
  return {
    async generateVideo(input: GenerateVideoInput): Promise<GeneratedVideo> {
      return runProviderJob(deps, input.jobId, 'veo3', async (ctx) => {
        const veo3 = deps.providers.veo3;
        const taskId = await ctx.submitOnce(async () => (await veo3.submit(input.request)).taskId, {
          cost: deps.env.KIE_CREDITS_PER_VIDEO,
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
          // The task is over on KIE's side; a new submit would be a new paid task, so this is final.
          throw new ProviderError('veo3', 'permanent', `generation failed (${status.code ?? 'no code'}): ${status.message}`);
        }
        if (status.state !== 'succeeded') throw new ProviderError('veo3', 'malformed', `unexpected state ${status.state}`);
        return { value: { taskId, videoUrl: status.videoUrl } };
      });
    },
  };
}
