/**
 * The assembly provider's activity: a reel's segments cut into the final video
 * (src/media/reel.ts) as an automation_queue job of its own, so it waits for an
 * assembly slot like any provider job (an encode takes every core of its worker)
 * and shows in reports as the step after the renders. Pay-once holds trivially:
 * nothing here is paid, and a retry reuses the downloaded clips and a finished cut.
 */
import type { Env } from '../config/env';
import { assembleReel, type AssembledReel, type ReelConfig, type ReelInput } from '../media/reel';
import type { ActivityDeps } from './deps';
import { runProviderJob } from './provider-job';

export function reelConfig(env: Env): ReelConfig {
  return {
    mediaDir: env.REELFLOW_MEDIA_DIR,
    mediaBaseUrl: env.REELFLOW_MEDIA_BASE_URL,
    preset: env.REELFLOW_ASSEMBLY_PRESET,
    logoPath: env.REELFLOW_LOGO_PATH,
    font: env.REELFLOW_REEL_FONT,
    ffmpeg: env.FFMPEG_PATH,
    ffprobe: env.FFPROBE_PATH,
    maxDownloadBytes: env.MEDIA_MAX_DOWNLOAD_BYTES,
    allowPrivateHosts: env.MEDIA_ALLOW_PRIVATE_HOSTS,
  };
}

export interface AssembleReelInput extends Omit<ReelInput, 'key'> {
  jobId: string;
  recommendationId: string;
}

export function createAssemblyActivities(deps: ActivityDeps) {
  const config = reelConfig(deps.env);
  return {
    async assembleReel(input: AssembleReelInput): Promise<AssembledReel> {
      return runProviderJob(deps, input.jobId, 'assembly', async (ctx) => {
        const { jobId: _job, recommendationId, ...reel } = input;
        const result = await ctx.call(() => assembleReel(config, { ...reel, key: recommendationId }, ctx.signal));
        deps.log.info(
          { recommendationId, seconds: result.durationSeconds, encodeSeconds: result.encodeSeconds, source: result.source },
          'reel assembled',
        );
        return { value: result };
      });
    },
  };
}
