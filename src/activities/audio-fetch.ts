/**
 * The audio_fetch provider's activity: one competitor video's audio as an
 * automation_queue job (so it waits for an audio_fetch slot: a burst of
 * yt-dlp downloads from one address is what triggers YouTube's bot check).
 * Unavailable and too-long videos are answers, not failures: the job
 * completes and the workflow records the video in that state. A bot check is
 * neither: it parks the downloads quota and the job waits in line.
 */
import type { Env } from '../config/env';
import { quotaExhausted } from '../providers/errors';
import { fetchAudio, type AudioFetchConfig, type AudioFetchResult } from '../media/fetch-audio';
import type { ActivityDeps } from './deps';
import { runProviderJob } from './provider-job';

export function audioFetchConfig(env: Env): AudioFetchConfig {
  return {
    audioDir: env.AUDIO_DIR,
    ytDlp: env.YT_DLP_PATH,
    ffmpeg: env.FFMPEG_PATH,
    ffprobe: env.FFPROBE_PATH,
    maxDurationSeconds: env.COMPETITOR_MAX_AUDIO_MINUTES * 60,
    chunkMaxBytes: env.AUDIO_CHUNK_MAX_BYTES,
    maxDownloadBytes: env.MEDIA_MAX_DOWNLOAD_BYTES,
    allowPrivateHosts: env.MEDIA_ALLOW_PRIVATE_HOSTS,
  };
}

export interface FetchCompetitorAudioInput {
  jobId: string;
  /** Stable per video (the workflow id's URL digest): a retry finds the finished download. */
  key: string;
  url: string;
  mediaUrl: string | null;
  durationSeconds: number | null;
}

/** How long a bot check parks the competitor downloads before one fetch tries again (each try is a request it sees). */
export const BOT_CHECK_PARK_MS = 30 * 60_000;

export function createAudioFetchActivities(deps: ActivityDeps) {
  const config = audioFetchConfig(deps.env);
  return {
    async fetchCompetitorAudio(input: FetchCompetitorAudioInput): Promise<AudioFetchResult> {
      return runProviderJob(deps, input.jobId, 'audio_fetch', async (ctx) => {
        const result = await ctx.call(() =>
          fetchAudio(
            config,
            { key: input.key, url: input.url, mediaUrl: input.mediaUrl, durationSeconds: input.durationSeconds },
            ctx.signal,
          ),
        );
        if (result.status === 'unavailable' && result.reason.startsWith('bot_check')) {
          // Not this video's fault: the platform distrusts our address, and every fetch from it ends the same way until a
          // human acts. Saved as unavailable, each video fetched meanwhile was lost for good (a video found is never
          // fetched again); parked, the downloads quota holds every fetch in line and shows why (reelflow capacity, the
          // dashboard, reelflow_quota_parked), and the first fetch after the park tries again.
          deps.log.error(
            { key: input.key, url: input.url, reason: result.reason },
            'bot check on competitor audio: fetches parked; change the address or give yt-dlp cookies',
          );
          throw quotaExhausted('audio_fetch', `bot check: change the address or give yt-dlp cookies (${result.reason})`, {
            resetAt: new Date(Date.now() + BOT_CHECK_PARK_MS),
          });
        }
        deps.log.info({ key: input.key, status: result.status }, 'competitor audio fetched');
        return { value: result };
      });
    },
  };
}
