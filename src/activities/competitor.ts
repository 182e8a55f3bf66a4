/**
 * Competitor analysis activities.
 *
 * - openai queue: transcribeCompetitorVideo, analyseCompetitorVideo. Each is
 *   an automation_queue job run through runProviderJob, so it holds an
 *   OpenAI slot (cap, spacing, priority order) while it calls the model.
 * - base queue: enqueueCompetitorJobs, saveCompetitorVideo,
 *   generateRecommendations (database work, plus starting recommendation
 *   workflows).
 */
import { Context } from '@temporalio/activity';
import { isPriority, type Priority } from '../config/priorities';
import { players } from '../db/schema';
import { analyseTranscript, parseCompetitorAnalysis, type CompetitorAnalysis, type FlaggedName } from '../recommendations/analysis';
import { createRecommendationEngine } from '../recommendations/engine';
import { RECOMMENDATION_THRESHOLDS } from '../recommendations/rules';
import { createNameResolver } from '../recommendations/names';
import { resolveAnalysisPlayers, saveCompetitorVideo as saveVideoRow } from '../recommendations/save-video';
import { createRecommendationService } from '../services/recommendations';
import { BadInputError, InvalidVideoError, MalformedAnalysisError } from '../shared/errors';
import type { ActivityDeps } from './deps';
import { classifyFailure } from './failures';
import { runProviderJob } from './provider-job';

/** Whisper's upload limit; a longer video must be split before it gets here. */
const MAX_AUDIO_BYTES = 25 * 1024 * 1024;

const AUDIO_EXTENSIONS: Record<string, string> = {
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/mp4': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/webm': 'webm',
  'audio/ogg': 'ogg',
  'video/mp4': 'mp4',
};

export interface CompetitorVideoFields {
  channel: string;
  title: string;
  views: number;
  /** ISO-8601 or null. */
  publishedAt: string | null;
  transcript: string;
}

export interface SavedCompetitorVideo {
  videoId: string;
  url: string;
  playersMentioned: string[];
  /** Names flagged for a human (ambiguous or not on the roster). */
  flaggedNames: string[];
}

export interface GenerationSummary {
  created: Array<{ id: string; type: string; priority: string; targetPlayer: string | null; title: string; deadline: string | null }>;
  skipped: number;
  reenqueued: string[];
  unreadableVideos: string[];
}

export interface CompetitorActivityOptions {
  /**
   * Starts a recommendation's workflow. Default: RecommendationService.start
   * through the worker's own client (Context.client), on REELFLOW_TASK_QUEUE.
   */
  startRecommendation?: (recommendationId: string) => Promise<unknown>;
}

async function downloadAudio(audioUrl: string, signal: AbortSignal): Promise<{ audio: Uint8Array; filename: string }> {
  let url: URL;
  try {
    url = new URL(audioUrl);
  } catch {
    throw new BadInputError(`audioUrl "${audioUrl.slice(0, 80)}" is not a URL`);
  }
  if (!['http:', 'https:', 'data:'].includes(url.protocol))
    throw new BadInputError(`audioUrl must be http(s) or data:, got ${url.protocol}`);
  const res = await fetch(url, { signal });
  if (!res.ok) {
    const message = `audio download answered HTTP ${res.status}`;
    // 404/403/410 will not change on a retry; 408, 429 and 5xx may.
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new BadInputError(message);
    throw new Error(message);
  }
  if (Number(res.headers.get('content-length') ?? 0) > MAX_AUDIO_BYTES)
    throw new BadInputError(`audio is larger than ${MAX_AUDIO_BYTES} bytes`);
  const audio = new Uint8Array(await res.arrayBuffer());
  if (audio.byteLength > MAX_AUDIO_BYTES) throw new BadInputError(`audio is larger than ${MAX_AUDIO_BYTES} bytes`);
  // Whisper infers the container from the file name.
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const fromPath = url.protocol === 'data:' ? undefined : url.pathname.split('/').pop();
  const filename = fromPath && /\.[a-z0-9]{2,4}$/i.test(fromPath) ? fromPath : `audio.${AUDIO_EXTENSIONS[type] ?? 'mp3'}`;
  return { audio, filename };
}

/** Activities for the openai provider worker. */
export function createCompetitorOpenAiActivities(deps: ActivityDeps) {
  return {
    async transcribeCompetitorVideo(input: { jobId: string; audioUrl: string; language: string }): Promise<string> {
      return runProviderJob(deps, input.jobId, 'openai', async (ctx) => {
        const { audio, filename } = await downloadAudio(input.audioUrl, ctx.signal);
        const transcript = await ctx.call(() => deps.providers.openai.transcribe({ audio, filename, language: input.language }));
        return { value: transcript.text };
      });
    },

    /** The client validates the JSON; malformed output throws a retryable ProviderError and is never returned. */
    async analyseCompetitorVideo(input: { jobId: string; video: CompetitorVideoFields }): Promise<CompetitorAnalysis> {
      return runProviderJob(deps, input.jobId, 'openai', async (ctx) => {
        const { publishedAt, ...video } = input.video;
        const analysis = await ctx.call(() =>
          analyseTranscript(deps.providers.openai, { ...video, publishedAt: publishedAt ? new Date(publishedAt) : null }),
        );
        return { value: analysis };
      });
    },
  };
}

/** Activities for the base worker (beside the queue-sync ones). */
export function createCompetitorBaseActivities(deps: ActivityDeps, options: CompetitorActivityOptions = {}) {
  const { db, pool } = deps.database;
  const startRecommendation =
    options.startRecommendation ??
    ((id: string) =>
      createRecommendationService({
        database: deps.database,
        client: Context.current().client,
        taskQueue: deps.env.REELFLOW_TASK_QUEUE,
      }).start(id));

  return {
    /**
     * One transcribe and one analyse job per workflow run (steps carry the
     * run id): retries of a run reuse its jobs, re-processing a video is a
     * new run with fresh calls.
     */
    async enqueueCompetitorJobs(input: {
      workflowId: string;
      runId: string;
      views: number;
      priority: Priority | null;
      estimatedSeconds: { transcribe: number; analyze: number };
    }): Promise<{ transcribeJobId: string; analyzeJobId: string; priority: Priority }> {
      try {
        if (input.priority !== null && !isPriority(input.priority)) {
          throw new BadInputError(`priority must be one of P0, P1, P2, P3 (got ${JSON.stringify(input.priority)})`);
        }
        // A video already past the viral threshold may need an answer within 24 h: analyse it first.
        const priority = input.priority ?? (input.views >= RECOMMENDATION_THRESHOLDS.viralMinViews ? 'P1' : 'P2');
        const enqueue = async (step: string, jobType: 'openai_transcription' | 'openai_analysis', estimate: number) => {
          const { rows } = await pool.query<{ id: string }>(
            'SELECT id FROM enqueue_job($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12)',
            [
              input.workflowId,
              `${step}:${input.runId}`,
              jobType,
              'openai',
              priority,
              '{}',
              null,
              null,
              null,
              estimate,
              deps.limits.openai.maxAttempts,
              input.runId,
            ],
          );
          return rows[0]!.id;
        };
        return {
          transcribeJobId: await enqueue('transcribe', 'openai_transcription', input.estimatedSeconds.transcribe),
          analyzeJobId: await enqueue('analyze', 'openai_analysis', input.estimatedSeconds.analyze),
          priority,
        };
      } catch (err) {
        throw classifyFailure(err).failure;
      }
    },

    /** Resolves names against today's roster and upserts the video by URL. */
    async saveCompetitorVideo(input: CompetitorVideoFields & { url: string; analysis: unknown }): Promise<SavedCompetitorVideo> {
      try {
        const analysis = parseCompetitorAnalysis(input.analysis);
        const roster = await db.select({ id: players.id, name: players.name, team: players.team, aliases: players.aliases }).from(players);
        if (roster.length === 0) deps.log.warn({ url: input.url }, 'players table is empty: every name is saved as unknown');
        const resolution = resolveAnalysisPlayers(createNameResolver(roster), analysis);
        const row = await saveVideoRow(db, { ...input, analysis, resolution });
        return {
          videoId: row.id,
          url: row.url,
          playersMentioned: row.playersMentioned,
          flaggedNames: (row.ambiguousNames as FlaggedName[]).map((f) => f.name),
        };
      } catch (err) {
        // A bad analysis or video here is a bug upstream, not a blip: retrying cannot fix it.
        if (err instanceof MalformedAnalysisError || err instanceof InvalidVideoError)
          throw classifyFailure(new BadInputError(err.message)).failure;
        throw classifyFailure(err).failure;
      }
    },

    async generateRecommendations(input: { lookbackDays: number }): Promise<GenerationSummary> {
      try {
        const engine = createRecommendationEngine({ db, enqueue: startRecommendation });
        const result = await engine.generateRecommendations({ lookbackDays: input.lookbackDays });
        const summary: GenerationSummary = {
          created: result.created.map((r) => ({
            id: r.id,
            type: r.recommendationType,
            priority: r.priority,
            targetPlayer: r.targetPlayer,
            title: r.title,
            deadline: r.urgencyDeadline?.toISOString() ?? null,
          })),
          skipped: result.skipped,
          reenqueued: result.reenqueued,
          unreadableVideos: result.unreadableVideos,
        };
        deps.log.info(
          { created: summary.created.length, skipped: summary.skipped, reenqueued: summary.reenqueued.length },
          'recommendations generated',
        );
        for (const r of result.rejected)
          deps.log.warn({ dedupeKey: r.dedupeKey, reason: r.reason }, 'recommendation rejected by enqueue validation');
        return summary;
      } catch (err) {
        throw classifyFailure(err instanceof RangeError ? new BadInputError(err.message) : err).failure;
      }
    },
  };
}
