/**
 * competitorVideoWorkflow: one competitor video, from audio to a row in
 * competitive_videos.
 *
 *   enqueue the two OpenAI jobs (so reports and the gate see them)
 *   -> transcribe (Whisper) -> analyse (GPT, strict JSON) -> resolve names + save
 *
 * Both OpenAI steps run on the openai provider queue through runProviderJob,
 * so they wait for an OpenAI slot in priority order like every other job.
 * Malformed model output is a retryable failure of the analyse step: it is
 * asked again, and nothing reaches the database until an answer validates.
 */
import * as wf from '@temporalio/workflow';
import type { Priority } from '../config/priorities';
import { JOB_ESTIMATES_SECONDS } from '../config/providers';
import { providerActivityOptions } from '../shared/activity-options';
import type { createCompetitorBaseActivities, createCompetitorOpenAiActivities, SavedCompetitorVideo } from '../activities/competitor';

/** Run-time estimates of the two steps, written to automation_queue (from the limits table's job types). */
const COMPETITOR_JOB_ESTIMATES_SECONDS = {
  transcribe: JOB_ESTIMATES_SECONDS.openai_transcription,
  analyze: JOB_ESTIMATES_SECONDS.openai_analysis,
} as const;

/** Time a step may wait for an OpenAI slot: a competitor video a day old still feeds trends, but is not news. */
const SLOT_WAIT_BUDGET_MS = 24 * 3_600_000;

export interface CompetitorVideoInput {
  url: string;
  channel: string;
  title: string;
  views: number;
  /** ISO-8601; null when unknown. */
  publishedAt: string | null;
  /**
   * Where the transcribe step downloads the audio (http(s) or a data: URL).
   * Audio never travels through workflow history.
   */
  audioUrl: string;
  /** Whisper language hint. Default 'es'. */
  language?: string;
  /** Default: P1 for videos already past the viral view threshold, else P2. */
  priority?: Priority;
}

type Base = ReturnType<typeof createCompetitorBaseActivities>;
type OpenAi = ReturnType<typeof createCompetitorOpenAiActivities>;

// Database steps retry until PostgreSQL is back; a bad analysis is non-retryable and stops the run.
const base = wf.proxyActivities<Base>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

export async function competitorVideoWorkflow(input: CompetitorVideoInput): Promise<SavedCompetitorVideo> {
  const info = wf.workflowInfo();
  const jobs = await base.enqueueCompetitorJobs({
    workflowId: info.workflowId,
    runId: info.runId,
    views: input.views,
    priority: input.priority ?? null,
    estimatedSeconds: COMPETITOR_JOB_ESTIMATES_SECONDS,
  });

  const openai = (estimateSeconds: number) =>
    wf.proxyActivities<OpenAi>(
      providerActivityOptions({
        provider: 'openai',
        baseTaskQueue: info.taskQueue,
        estimateSeconds,
        waitBudgetMs: SLOT_WAIT_BUDGET_MS,
        priority: jobs.priority,
      }),
    );

  const transcript = await openai(COMPETITOR_JOB_ESTIMATES_SECONDS.transcribe).transcribeCompetitorVideo({
    jobId: jobs.transcribeJobId,
    audioUrl: input.audioUrl,
    language: input.language ?? 'es',
  });
  const video = { channel: input.channel, title: input.title, views: input.views, publishedAt: input.publishedAt, transcript };
  const analysis = await openai(COMPETITOR_JOB_ESTIMATES_SECONDS.analyze).analyseCompetitorVideo({ jobId: jobs.analyzeJobId, video });
  return base.saveCompetitorVideo({ ...video, url: input.url, analysis });
}
