/**
 * Competitor analysis activities.
 *
 * - openai queue: transcribeCompetitorAudio (one audio chunk), analyseCompetitorVideo.
 *   Each is an automation_queue job run through runProviderJob, so it holds an
 *   OpenAI slot (cap, spacing, priority order) while it calls the model.
 * - base queue: findCompetitorVideo, enqueueCompetitorJobs, saveCompetitorVideo,
 *   saveUnprocessedCompetitorVideo, generateRecommendations (database work,
 *   plus starting recommendation workflows).
 * The audio itself is fetched on the audio_fetch queue (audio-fetch.ts).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { JOB_ESTIMATES_SECONDS, JOB_TYPES, type JobType } from '../config/providers';
import { isPriority, type Priority } from '../config/priorities';
import type { CompetitiveVideo } from '../db/schema';
import {
  analyseLongTranscript,
  parseCompetitorAnalysis,
  type AnalysisPieces,
  type FlaggedName,
  type MergedAnalysis,
} from '../recommendations/analysis';
import { createRecommendationEngine } from '../recommendations/engine';
import { RECOMMENDATION_THRESHOLDS } from '../recommendations/rules';
import { loadNameResolver } from '../recommendations/name-directory';
import {
  findVideoByUrl,
  resolveAnalysisPlayers,
  saveCompetitorVideo as saveVideoRow,
  saveUnprocessedVideo,
  type VideoSource,
} from '../recommendations/save-video';
import { createRecommendationService } from '../services/recommendations';
import { BadInputError, InvalidVideoError, MalformedAnalysisError } from '../shared/errors';
import { analysisEstimateSeconds } from '../shared/transcript-pieces';
import type { CompetitorVideoStatus } from '../shared/statuses';
import type { Transcript } from '../providers/types';
import type { ActivityDeps } from './deps';
import { classifyFailure } from './failures';
import { runProviderJob } from './provider-job';
import type { Pool } from 'pg';
import { closeWorkflowJobs, enqueueJob } from '../db/queries';
import { withDbRetry } from '../db/retry';

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
  status: CompetitorVideoStatus;
  /** Why unavailable / too_long (null when analysed). */
  statusReason: string | null;
  playersMentioned: string[];
  /** Names flagged for a human (ambiguous or not on the roster). */
  flaggedNames: string[];
  /** The row was there before this run: nothing was downloaded, transcribed or analysed. */
  alreadyKnown: boolean;
}

/** One transcribed chunk: its text and its segments, already shifted to the whole recording's clock. */
export interface ChunkTranscript {
  text: string;
  segments: Array<{ start: number; end: number; text: string }>;
}

function savedOf(row: CompetitiveVideo, alreadyKnown: boolean): SavedCompetitorVideo {
  return {
    videoId: row.id,
    url: row.url,
    status: row.status as CompetitorVideoStatus,
    statusReason: row.statusReason,
    playersMentioned: row.playersMentioned,
    flaggedNames: ((row.ambiguousNames ?? []) as FlaggedName[]).map((f) => f.name),
    alreadyKnown,
  };
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

/** Activities for the openai provider worker. */
export function createCompetitorOpenAiActivities(deps: ActivityDeps) {
  return {
    /**
     * One chunk of a fetched audio (a path under AUDIO_DIR, shared with the audio_fetch
     * workers), uploaded as its bytes. `prompt` carries the previous chunk's last words so
     * the model continues the text instead of starting a new one.
     */
    async transcribeCompetitorAudio(input: {
      jobId: string;
      file: string;
      startSeconds: number;
      language: string;
      prompt: string | null;
    }): Promise<ChunkTranscript> {
      return runProviderJob(deps, input.jobId, 'openai', async (ctx) => {
        const audio = await readAudioChunk(deps.env.AUDIO_DIR, input.file);
        const transcript: Transcript = await ctx.call(() =>
          deps.providers.openai.transcribe({
            audio,
            filename: path.basename(input.file),
            language: input.language,
            ...(input.prompt ? { prompt: input.prompt } : {}),
          }),
        );
        const shift = (t: number) => Math.round((t + input.startSeconds) * 100) / 100;
        const segments = (transcript.segments ?? []).map((seg) => ({ start: shift(seg.start), end: shift(seg.end), text: seg.text }));
        return { value: { text: transcript.text, segments } };
      });
    },

    /** The client validates the JSON; malformed output throws a retryable ProviderError and is never returned. */
    async analyseCompetitorVideo(input: { jobId: string; video: CompetitorVideoFields }): Promise<MergedAnalysis> {
      // Planned before its transcript existed, the job holds one request's estimate: a long transcript's pieces need
      // one each, or the 2x bound (and the stuck watch, from the same row) stops the work a piece or two in.
      const estimate = analysisEstimateSeconds(input.video.transcript, JOB_ESTIMATES_SECONDS.openai_analysis);
      await withDbRetry(() =>
        deps.database.pool.query(
          'UPDATE automation_queue SET estimated_duration_seconds = $2 WHERE id = $1 AND estimated_duration_seconds < $2',
          [input.jobId, estimate],
        ),
      );
      return runProviderJob(deps, input.jobId, 'openai', async (ctx) => {
        const { publishedAt, ...video } = input.video;
        const analysis = await analyseLongTranscript(
          deps.providers.openai,
          { ...video, publishedAt: publishedAt ? new Date(publishedAt) : null },
          {
            pieces: await pieceStore(deps.database.pool, input.jobId, ctx.call),
          },
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
    /** The video's row if it was ever finished (analysed, unavailable, too_long): then nothing is paid for again. */
    async findCompetitorVideo(input: { url: string }): Promise<SavedCompetitorVideo | null> {
      try {
        const row = await findVideoByUrl(db, input.url);
        return row ? savedOf(row, true) : null;
      } catch (err) {
        if (err instanceof InvalidVideoError) throw classifyFailure(new BadInputError(err.message)).failure;
        throw classifyFailure(err).failure;
      }
    },

    /**
     * Jobs of one workflow run, in the order given (steps carry the run id): retries of a
     * run reuse its jobs. `priority` null: P1 for a video past the viral threshold, else P2.
     * A job given its `content` (what its answer depends on: the audio's hash, the chunk, the language) that an earlier
     * run of the workflow completed is that job, not a new one: its answer is kept (runProviderJob returns it), so a
     * video analysed again after a failed run (`temporal workflow reset`, `reelflow competitor add-video`) does not pay
     * its transcription twice.
     */
    async enqueueCompetitorJobs(input: {
      workflowId: string;
      runId: string;
      views: number;
      priority: Priority | null;
      jobs: Array<{ step: string; jobType: JobType; estimatedSeconds: number; content?: string }>;
    }): Promise<{ jobIds: string[]; priority: Priority }> {
      try {
        if (input.priority !== null && !isPriority(input.priority)) {
          throw new BadInputError(`priority must be one of P0, P1, P2, P3 (got ${JSON.stringify(input.priority)})`);
        }
        // A video already past the viral threshold may need an answer within 24 h: analyse it first.
        const priority = input.priority ?? (input.views >= RECOMMENDATION_THRESHOLDS.viralMinViews ? 'P1' : 'P2');
        const jobIds: string[] = [];
        for (const job of input.jobs) {
          const provider = JOB_TYPES[job.jobType];
          if (!provider) throw new BadInputError(`jobType must be one of ${Object.keys(JOB_TYPES).join(', ')} (got ${job.jobType})`);
          // The model that answered is part of what the answer depends on: after a change of model, it is asked anew.
          const content = job.content && `${job.content}:${deps.env.OPENAI_TRANSCRIBE_MODEL}`;
          if (content) {
            const { rows: done } = await pool.query<{ id: string }>(
              `SELECT id FROM automation_queue
                WHERE workflow_id = $1 AND step LIKE $2 AND status = 'completed' AND job_config->>'content' = $3
                ORDER BY completed_at LIMIT 1`,
              [input.workflowId, `${job.step}:%`, content],
            );
            if (done[0]) {
              jobIds.push(done[0].id);
              continue;
            }
          }
          const row = await enqueueJob(pool, deps.limits, {
            workflowId: input.workflowId,
            step: `${job.step}:${input.runId}`,
            jobType: job.jobType,
            priority,
            runId: input.runId,
            estimatedSeconds: job.estimatedSeconds,
            ...(content ? { jobConfig: { content } } : {}),
          });
          jobIds.push(row.id);
        }
        return { jobIds, priority };
      } catch (err) {
        throw classifyFailure(err).failure;
      }
    },

    /** A video that will never be transcribed (unavailable, too_long), recorded so finding it again costs nothing. */
    async saveUnprocessedCompetitorVideo(
      input: Omit<CompetitorVideoFields, 'transcript'> &
        VideoSource & { url: string; status: 'unavailable' | 'too_long' | 'no_speech'; statusReason: string; workflowId?: string },
    ): Promise<SavedCompetitorVideo> {
      try {
        const { workflowId, ...video } = input;
        const saved = savedOf(await saveUnprocessedVideo(db, video), false);
        // Steps planned for a video that ends here (its analysis) are closed, not left queued forever.
        if (workflowId) await closeWorkflowJobs(pool, [workflowId], `video ${input.status}: ${input.statusReason}`);
        return saved;
      } catch (err) {
        if (err instanceof InvalidVideoError) throw classifyFailure(new BadInputError(err.message)).failure;
        throw classifyFailure(err).failure;
      }
    },

    /** Resolves names against today's roster and upserts the video by URL. */
    async saveCompetitorVideo(
      input: CompetitorVideoFields & VideoSource & { url: string; analysis: unknown },
    ): Promise<SavedCompetitorVideo> {
      try {
        const analysis = parseCompetitorAnalysis(input.analysis);
        // The roster, the shipped nicknames and every alias an editor taught.
        const { resolver, rosterSize } = await loadNameResolver(db);
        if (rosterSize === 0) deps.log.warn({ url: input.url }, 'players table is empty: every name is saved as unknown');
        const resolution = resolveAnalysisPlayers(resolver, analysis);
        return savedOf(await saveVideoRow(db, { ...input, analysis, resolution }), false);
      } catch (err) {
        // A bad analysis or video here is a bug upstream, not a blip: retrying cannot fix it.
        if (err instanceof MalformedAnalysisError || err instanceof InvalidVideoError)
          throw classifyFailure(new BadInputError(err.message)).failure;
        throw classifyFailure(err).failure;
      }
    },

    async generateRecommendations(input: { lookbackDays: number }): Promise<GenerationSummary> {
      try {
        const engine = createRecommendationEngine({
          db,
          enqueue: startRecommendation,
          learning: { minPosts: deps.env.REELFLOW_LEARNING_MIN_POSTS },
        });
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

/** A chunk path from the audio_fetch job, resolved under this process's AUDIO_DIR (never outside it). */
async function readAudioChunk(audioDir: string, file: string): Promise<Buffer> {
  const root = path.resolve(audioDir);
  const full = path.resolve(root, file);
  if (!full.startsWith(root + path.sep)) throw classifyFailure(new BadInputError(`audio file "${file}" is outside AUDIO_DIR`)).failure;
  try {
    return await fs.readFile(full);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The fetch ran on another machine, or the directory was cleaned: say which setting to check.
    throw classifyFailure(
      new BadInputError(`audio file ${full} not found: the audio_fetch and openai workers must share AUDIO_DIR (${audioDir})`),
    ).failure;
  }
}

/**
 * Where a long analysis keeps its pieces' answers (job_parts), each under the sha256 of its piece's text: an answer is
 * reused only for the text it was paid for (the same job after a change of the piece size, or a Temporal reset that
 * transcribed again, asks anew).
 */
async function pieceStore(pool: Pool, jobId: string, call: AnalysisPieces['call']): Promise<AnalysisPieces> {
  const digest = (piece: string) => createHash('sha256').update(piece).digest('hex');
  const { rows } = await withDbRetry(() =>
    pool.query<{ part: string; answer: unknown }>('SELECT part, answer FROM job_parts WHERE job_id = $1', [jobId]),
  );
  const kept = new Map(rows.map((r) => [r.part, r.answer]));
  return {
    kept: (piece) => kept.get(digest(piece)),
    // Kept as soon as it is paid for: the attempt may still fail on a later piece.
    keep: async (piece, answer) => {
      await withDbRetry(() =>
        pool.query(
          `INSERT INTO job_parts (job_id, part, answer) VALUES ($1, $2, $3::jsonb)
           ON CONFLICT (job_id, part) DO UPDATE SET answer = EXCLUDED.answer`,
          [jobId, digest(piece), JSON.stringify(answer)],
        ),
      );
    },
    call,
  };
}
