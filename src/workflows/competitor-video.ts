/**
 * competitorVideoWorkflow: one competitor video, from its page to a row in
 * competitive_videos.
 *
 *   known already (analysed, unavailable, too_long)? -> that row, nothing paid again
 *   -> fetch the audio (audio_fetch job: media URL or yt-dlp; chunks when large)
 *        unavailable / too_long -> a row in that state, no transcription
 *   -> transcribe each chunk in order (one openai job each, the previous text as prompt)
 *   -> analyse (GPT, strict JSON) -> resolve names + save
 *
 * Every provider step is an automation_queue job on its provider's queue
 * through runProviderJob, so it waits for a slot in priority order like every
 * other job. Malformed model output is a retryable failure of the analyse
 * step: it is asked again, and nothing reaches the database until an answer
 * validates.
 *
 * Workflow shape changed with real audio (issue 12): find, audio job, then
 * per-chunk jobs. Histories of the old shape (transcribe from an audioUrl)
 * do not replay on it; none ran in production.
 */
import * as wf from '@temporalio/workflow';
import type { Priority } from '../config/priorities';
import { JOB_ESTIMATES_SECONDS } from '../config/providers';
import { providerActivityOptions } from '../shared/activity-options';
import { analysisEstimateSeconds } from '../shared/transcript-pieces';
import type { CompetitorPlatform } from '../shared/statuses';
import type {
  ChunkTranscript,
  createCompetitorBaseActivities,
  createCompetitorOpenAiActivities,
  SavedCompetitorVideo,
} from '../activities/competitor';
import type { createAudioFetchActivities } from '../activities/audio-fetch';
import type { createQueueSyncActivities } from '../activities/queue-sync';
import { competitorFailuresKey, notificationEventKey, notificationText } from '../notifications/notify';
import { notifyFromWorkflow } from './notification';
import { rootMessage } from './provider-steps';

/** Time a step may wait for its slot: a competitor video a day old still feeds trends, but is not news. */
const SLOT_WAIT_BUDGET_MS = 24 * 3_600_000;

/** Characters of the previous chunk handed to the next as its prompt (Whisper reads ~224 tokens of it). */
const PROMPT_TAIL_CHARS = 600;

export interface CompetitorVideoInput {
  /** The video page URL; the workflow id comes from canonicalVideoUrl(url). */
  url: string;
  platform: CompetitorPlatform;
  /** The platform's video id. */
  externalId?: string | null;
  /** Display name. */
  channel: string;
  /** competitor_channels.id when found by discovery. */
  channelId?: string | null;
  title: string;
  views: number;
  /** ISO-8601; null when unknown. */
  publishedAt: string | null;
  /** A direct media file when the platform gives one (Instagram media_url); else yt-dlp reads `url`. */
  mediaUrl?: string | null;
  /** What the platform says; over the maximum, the video ends too_long before any download. */
  durationSeconds?: number | null;
  /** Whisper language hint. Default 'es'. */
  language?: string;
  /** Default: P1 for videos already past the viral view threshold, else P2. */
  priority?: Priority;
}

/** Fewer words than this is not speech about players (a jingle, "¡vamos!", silence transcribed as a hallucination). */
const MIN_TRANSCRIPT_WORDS = 8;

type Base = ReturnType<typeof createCompetitorBaseActivities>;
type QueueSync = ReturnType<typeof createQueueSyncActivities>;
type OpenAi = ReturnType<typeof createCompetitorOpenAiActivities>;
type AudioFetch = ReturnType<typeof createAudioFetchActivities>;

// Database steps retry until PostgreSQL is back; a bad analysis is non-retryable and stops the run.
const base = wf.proxyActivities<Base>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});
const queue = wf.proxyActivities<Pick<QueueSync, 'closeWorkflowJobs'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Whisper runs at roughly ten times real time; never below the job type's estimate. */
function transcribeEstimateSeconds(audioSeconds: number): number {
  return Math.max(JOB_ESTIMATES_SECONDS.openai_transcription, Math.ceil(audioSeconds / 10));
}

/**
 * A video of unknown length (the keyless feed, Instagram, a pasted link) may be as long as we take (90 minutes by
 * default): its download and conversion get the time such a video needs. With the 30 s of a short, the job's 2x bound
 * stopped an hour-long video's fetch at 60 s on every attempt, each starting over.
 */
const UNKNOWN_LENGTH_FETCH_SECONDS = 300;

/** A download plus conversion of a long video takes longer than a short's. */
function fetchEstimateSeconds(durationSeconds: number | null | undefined): number {
  if (durationSeconds === null || durationSeconds === undefined) return UNKNOWN_LENGTH_FETCH_SECONDS;
  return Math.max(JOB_ESTIMATES_SECONDS.audio_download, Math.ceil(durationSeconds / 20));
}

export async function competitorVideoWorkflow(input: CompetitorVideoInput): Promise<SavedCompetitorVideo> {
  const info = wf.workflowInfo();
  // Whichever path finds a video again (feed, file, add-video), a finished one costs nothing.
  const known = await base.findCompetitorVideo({ url: input.url });
  if (known) return known;

  const fields = { channel: input.channel, title: input.title, views: input.views, publishedAt: input.publishedAt };
  const source = {
    platform: input.platform,
    externalId: input.externalId ?? null,
    channelId: input.channelId ?? null,
    durationSeconds: input.durationSeconds ?? null,
  };
  const enqueue = (priority: Priority | null, jobs: Parameters<Base['enqueueCompetitorJobs']>[0]['jobs']) =>
    base.enqueueCompetitorJobs({ workflowId: info.workflowId, runId: info.runId, views: input.views, priority, jobs });
  const on = <A>(provider: 'audio_fetch' | 'openai', priority: Priority, estimateSeconds: number) =>
    wf.proxyActivities<A>(
      providerActivityOptions({ provider, baseTaskQueue: info.taskQueue, estimateSeconds, waitBudgetMs: SLOT_WAIT_BUDGET_MS, priority }),
    );

  const fetchEstimate = fetchEstimateSeconds(input.durationSeconds);
  // A YouTube video's download is its own job type: a bot check parks YouTube's downloads only (youtube_downloads).
  const fetchType = input.platform === 'youtube' ? 'youtube_audio_download' : 'audio_download';
  const fetchJob = await enqueue(input.priority ?? null, [{ step: 'audio', jobType: fetchType, estimatedSeconds: fetchEstimate }]);
  try {
    return await ingest(fetchJob);
  } catch (err) {
    // A step failed for good (or the run was cancelled): the steps planned after it would stay queued for ever, counted as
    // waiting in every report (histories from before left them so).
    if (wf.patched('close-jobs-on-failure')) {
      await wf.CancellationScope.nonCancellable(() =>
        queue.closeWorkflowJobs({ workflowId: info.workflowId, reason: `not run: ${rootMessage(err)}` }),
      );
    }
    // Failed for good (its downloads parked past the day a step may wait, a page that never answered, an analysis that
    // never validated): nothing is saved for it, and discovery never starts a video twice, so the team is told, with
    // the one command that analyses it again. A cancel was someone's choice. One message a day for all of them: a
    // cause that fails every video (a tool missing, a revoked key) would otherwise send one per video found.
    if (!wf.isCancellation(err) && wf.patched('notify-on-failure')) {
      await notifyFromWorkflow({
        eventKey: notificationEventKey('failed', competitorFailuresKey(info.taskQueue, new Date(Date.now()))),
        event: 'failed',
        text: notificationText({
          event: 'failed',
          title: `competitor video "${input.title}" (${input.channel})`,
          workflowId: info.workflowId,
          error:
            `${rootMessage(err)}. Nothing was saved for it and discovery will not start it again: ` +
            `\`temporal workflow reset --workflow-id ${info.workflowId} --type FirstWorkflowTask --reason retry\` runs it ` +
            `again with all discovery knew (a transcription it paid for is kept), as does ` +
            `\`reelflow competitor add-video ${input.url} --name "${input.channel}"\` with less (no views, no media URL). ` +
            `Other competitor ` +
            `videos failing today are not told again: \`temporal workflow list --query "WorkflowType='competitorVideoWorkflow' ` +
            `AND ExecutionStatus='Failed'"\` lists them`,
        }),
      });
    }
    throw err;
  }

  async function ingest(fetchJob: { jobIds: string[]; priority: Priority }) {
    const priority = fetchJob.priority;
    // The workflow id is stable per video (canonical URL), so it names the audio directory a retry reuses.
    const audio = await on<AudioFetch>('audio_fetch', priority, fetchEstimate).fetchCompetitorAudio({
      jobId: fetchJob.jobIds[0]!,
      key: info.workflowId,
      url: input.url,
      mediaUrl: input.mediaUrl ?? null,
      durationSeconds: input.durationSeconds ?? null,
    });
    if (audio.status !== 'ready') {
      return base.saveUnprocessedCompetitorVideo({
        ...fields,
        ...source,
        url: input.url,
        status: audio.status,
        statusReason: audio.reason,
        durationSeconds: (audio.status === 'too_long' ? audio.durationSeconds : null) ?? source.durationSeconds,
      });
    }

    const chunkSeconds = audio.chunks.map((c, i) => (audio.chunks[i + 1]?.startSeconds ?? audio.durationSeconds) - c.startSeconds);
    const estimates = chunkSeconds.map(transcribeEstimateSeconds);
    const language = input.language ?? 'es';
    const jobs = await enqueue(priority, [
      ...audio.chunks.map((_, i) => ({
        step: `transcribe-${i + 1}`,
        jobType: 'openai_transcription' as const,
        estimatedSeconds: estimates[i]!,
        // The same audio, cut the same way, in the same language: an earlier run's transcription of it is kept.
        content: `${audio.audioSha256}:${i + 1}/${audio.chunks.length}:${language}`,
      })),
      { step: 'analyze', jobType: 'openai_analysis', estimatedSeconds: JOB_ESTIMATES_SECONDS.openai_analysis },
    ]);

    // In order: each chunk's prompt is the end of the text before it.
    const parts: ChunkTranscript[] = [];
    for (const [i, chunk] of audio.chunks.entries()) {
      const previous = parts.at(-1)?.text ?? null;
      parts.push(
        await on<OpenAi>('openai', priority, estimates[i]!).transcribeCompetitorAudio({
          jobId: jobs.jobIds[i]!,
          file: chunk.file,
          startSeconds: chunk.startSeconds,
          language,
          prompt: previous ? previous.slice(-PROMPT_TAIL_CHARS) : null,
        }),
      );
    }
    const transcript = parts
      .map((p) => p.text.trim())
      .filter(Boolean)
      .join(' ');
    // Music, a silent clip or a few words: nothing to analyse, and no model call to pay for it.
    const words = transcript.split(/\s+/).filter(Boolean).length;
    if (words < MIN_TRANSCRIPT_WORDS) {
      return base.saveUnprocessedCompetitorVideo({
        ...fields,
        ...source,
        url: input.url,
        status: 'no_speech',
        statusReason: `transcript has ${words} word${words === 1 ? '' : 's'} (fewer than ${MIN_TRANSCRIPT_WORDS})`,
        durationSeconds: audio.durationSeconds,
        workflowId: info.workflowId,
      });
    }
    const video = { ...fields, transcript };
    // Its time is known now: one request per piece of the transcript (the activity raises its job's estimate to it).
    const analysisEstimate = analysisEstimateSeconds(transcript, JOB_ESTIMATES_SECONDS.openai_analysis);
    const analysis = await on<OpenAi>('openai', priority, analysisEstimate).analyseCompetitorVideo({
      jobId: jobs.jobIds.at(-1)!,
      video,
    });
    return base.saveCompetitorVideo({
      ...video,
      ...source,
      url: input.url,
      analysis,
      durationSeconds: audio.durationSeconds,
      audioSha256: audio.audioSha256,
      transcriptSegments: parts.flatMap((p) => p.segments),
    });
  }
}
