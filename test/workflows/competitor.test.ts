/**
 * Competitor video workflow, recommendation generation workflow and the
 * hourly Schedule, on the real Temporal server, PostgreSQL and the OpenAI
 * simulator (answering with analysisResponder).
 *
 * Until src/workflows/index.ts exports these workflows, this file runs them on
 * workers of its own (queues `<base>-cv` and `<base>-gen`); recommendation
 * workflows they start run on the harness's base queue as in production.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAudioFetchActivities } from '../../src/activities/audio-fetch';
import { createCompetitorBaseActivities, createCompetitorOpenAiActivities, type GenerationSummary } from '../../src/activities/competitor';
import { providerTaskQueue } from '../../src/config/providers';
import { competitiveRecommendations, competitiveVideos } from '../../src/db/schema';
import { buildAnalysisPrompt, COMPETITOR_ANALYSIS_SCHEMA_NAME } from '../../src/recommendations/analysis';
import { analysisResponder } from '../../src/simulators/analysis-stand-in';
import { sampleVideoId } from '../../src/simulators/sample';
import { createNameResolver } from '../../src/recommendations/names';
import { loadRosterFile } from '../../src/recommendations/roster';
import {
  readSampleCompetitorVideos,
  resolveAnalysisPlayers,
  saveCompetitorVideo,
  type CompetitorVideo,
} from '../../src/recommendations/save-video';
import {
  describeHourlySchedule,
  ensureHourlySchedule,
  pauseHourlySchedule,
  triggerHourlySchedule,
  unpauseHourlySchedule,
} from '../../src/schedule/hourly';
import { type CompetitorVideoInput } from '../../src/workflows/competitor-video';
import { COMPETITOR_VIDEO_WORKFLOW, RECOMMENDATION_GENERATION_WORKFLOW, recommendationWorkflowId } from '../../src/shared/workflow-ids';
import { startHarness, type Harness } from '../helpers/harness';
import { createQueueSyncActivities } from '../../src/activities/queue-sync';
import { waitUntil } from '../helpers/wait';
import { createNotificationActivities } from '../../src/notifications/activities';
import { competitorFailuresKey, notificationEventKey } from '../../src/notifications/notify';
import { notificationWorkflowId } from '../../src/shared/workflow-ids';

const SAMPLE = path.resolve(__dirname, '../../data/sample');

let h: Harness;
let connection: NativeConnection;
let workers: Worker[] = [];
let running: Promise<unknown>;
let cvQueue: string;
let genQueue: string;
let sample: CompetitorVideo[];
let audioDir: string;

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await h.db.database.pool.query(text, params)).rows as T[];
const db = () => h.db.database.db;

/**
 * A sample video as the workflow's input: its youtube.com URL (the row's key), its audio as a
 * direct media URL on the YouTube simulator's media host (the OpenAI simulator knows its transcript).
 */
function workflowInput(video: CompetitorVideo, overrides: Partial<CompetitorVideoInput> = {}): CompetitorVideoInput {
  const id = sampleVideoId(video.url);
  return {
    url: video.url,
    platform: 'youtube',
    externalId: id,
    channel: video.channel,
    title: video.title,
    views: video.views,
    publishedAt: video.publishedAt?.toISOString() ?? null,
    mediaUrl: h.sims.youtube.media.mediaUrl(id),
    ...overrides,
  };
}

const runVideo = (workflowId: string, input: CompetitorVideoInput) =>
  h.client.workflow.execute(COMPETITOR_VIDEO_WORKFLOW, { taskQueue: cvQueue, workflowId, args: [input] });

beforeAll(async () => {
  audioDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reelflow-cv-audio-'));
  h = await startHarness({
    env: { AUDIO_DIR: audioDir },
    limits: { audio_fetch: { minStartIntervalMs: 0, pollIntervalMs: 50 } },
    // The recommendation workflows the generation starts run here; discovery's queues are not needed.
    queues: ['base', 'openai', 'audio_fetch', 'veo3', 'instagram', 'tiktok', 'youtube'],
  });
  h.sims.openai.registerResponder(COMPETITOR_ANALYSIS_SCHEMA_NAME, analysisResponder);
  await loadRosterFile(db(), path.join(SAMPLE, 'players.json'));
  sample = await readSampleCompetitorVideos(path.join(SAMPLE, 'competitor-videos.json'));

  cvQueue = `${h.taskQueue}-cv`;
  genQueue = `${h.taskQueue}-gen`;
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  const base = createCompetitorBaseActivities(h.runtime);
  workers = await Promise.all([
    Worker.create({
      connection,
      taskQueue: cvQueue,
      workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
      // As on the base queue (src/workers/workers.ts): a run that fails closes its planned jobs through queue-sync, and
      // tells the team through a notification workflow (no channel configured here: it delivers nowhere).
      activities: { ...base, ...createQueueSyncActivities(h.runtime), ...createNotificationActivities({ ...h.runtime, env: {} }) },
    }),
    Worker.create({ connection, taskQueue: providerTaskQueue(cvQueue, 'openai'), activities: createCompetitorOpenAiActivities(h.runtime) }),
    Worker.create({ connection, taskQueue: providerTaskQueue(cvQueue, 'audio_fetch'), activities: createAudioFetchActivities(h.runtime) }),
    Worker.create({
      connection,
      taskQueue: genQueue,
      workflowsPath: path.resolve(__dirname, '../../src/workflows/recommendation-generation.ts'),
      activities: base,
    }),
  ]);
  running = Promise.all(workers.map((w) => w.run()));
});

afterAll(async () => {
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  await running?.catch(() => undefined);
  await connection?.close();
  await h?.stop();
  if (audioDir) await fs.rm(audioDir, { recursive: true, force: true });
});

describe('competitor video workflow', () => {
  it('fetches the audio, transcribes, analyses and saves one video, each provider call a job on its line', async () => {
    const video = sample[0]!;
    const saved = await runVideo('cv-test-bombazo', workflowInput(video));
    expect(saved).toMatchObject({ status: 'analysed', alreadyKnown: false });
    expect(saved.playersMentioned).toEqual(['carlos-alvarez', 'jorge-de-frutos', 'kylian-mbappe', 'robert-lewandowski']);

    const [row] = await db().select().from(competitiveVideos).where(eq(competitiveVideos.url, video.url));
    expect(row).toMatchObject({
      id: saved.videoId,
      status: 'analysed',
      transcript: video.transcript,
      views: video.views,
      platform: 'youtube',
      externalId: sampleVideoId(video.url),
    });
    expect(row?.audioSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.durationSeconds).toBeGreaterThan(10);
    expect((row?.transcriptSegments as unknown[]).length).toBeGreaterThan(1);

    const jobs = await q<{ step: string; job_type: string; api_provider: string; status: string; priority: string; attempts: number }>(
      `SELECT step, job_type, api_provider, status, priority, attempts FROM automation_queue
        WHERE workflow_id = 'cv-test-bombazo' ORDER BY created_at`,
    );
    expect(jobs.map((j) => [j.step.split(':')[0], j.job_type, j.api_provider, j.status, j.priority, j.attempts])).toEqual([
      ['audio', 'youtube_audio_download', 'audio_fetch', 'completed', 'P1', 1], // 482k views: past the viral threshold
      ['transcribe-1', 'openai_transcription', 'openai', 'completed', 'P1', 1],
      ['analyze', 'openai_analysis', 'openai', 'completed', 'P1', 1],
    ]);
    expect(await q(`SELECT * FROM provider_slots`)).toEqual([]);
  });

  it('a video found again (another URL form) ends at its first step: no download, no OpenAI call, no job', async () => {
    const video = sample[0]!;
    const downloads = h.sims.youtube.media.stats().downloads;
    const openaiCalls = h.sims.openai.stats().submissions;
    const again = await runVideo(
      'cv-test-bombazo',
      workflowInput(video, { url: `https://youtu.be/${sampleVideoId(video.url)}?si=share`, views: 500_000 }),
    );
    expect(again).toMatchObject({ status: 'analysed', alreadyKnown: true });
    expect(h.sims.youtube.media.stats().downloads).toBe(downloads);
    expect(h.sims.openai.stats().submissions).toBe(openaiCalls);
    expect(await q(`SELECT id FROM automation_queue WHERE workflow_id = 'cv-test-bombazo'`)).toHaveLength(3);
    expect(await db().select().from(competitiveVideos).where(eq(competitiveVideos.url, video.url))).toHaveLength(1);
  });

  it('asks again when the model answers malformed JSON, and stores only the valid answer', async () => {
    let calls = 0;
    h.sims.openai.registerResponder(COMPETITOR_ANALYSIS_SCHEMA_NAME, (messages) => {
      calls += 1;
      return calls === 1
        ? { topic: 'Chollos', sentiment: 'euphoric', viralPotential: 42, players: 'Carlos Álvarez' }
        : analysisResponder(messages);
    });
    try {
      const video = sample[1]!;
      const saved = await runVideo('cv-test-retry', workflowInput(video));
      expect(calls).toBe(2);
      expect(saved.playersMentioned).toContain('ante-budimir');
      const [analyze] = await q(
        `SELECT status, attempts FROM automation_queue WHERE workflow_id = 'cv-test-retry' AND job_type = 'openai_analysis'`,
      );
      expect(analyze).toEqual({ status: 'completed', attempts: 2 });
      const [row] = await db().select().from(competitiveVideos).where(eq(competitiveVideos.url, video.url));
      expect(row?.analysis).toMatchObject({ sentiment: 'negative' });
    } finally {
      h.sims.openai.registerResponder(COMPETITOR_ANALYSIS_SCHEMA_NAME, analysisResponder);
    }
  });

  it('gives up after the attempts of the limits table and stores nothing when the model never answers validly', async () => {
    h.sims.openai.registerResponder(COMPETITOR_ANALYSIS_SCHEMA_NAME, () => ({
      topic: 'x',
      sentiment: 'neutral',
      viralPotential: 11,
      players: [],
    }));
    try {
      const video = { ...sample[2]!, url: 'https://www.youtube.com/watch?v=neverValid01' };
      const mediaUrl = h.sims.youtube.media.mediaUrl(sampleVideoId(sample[2]!.url));
      await expect(runVideo('cv-test-malformed', workflowInput(video, { mediaUrl }))).rejects.toThrow(WorkflowFailedError);
      const [analyze] = await q(
        `SELECT status, attempts, error FROM automation_queue WHERE workflow_id = 'cv-test-malformed' AND job_type = 'openai_analysis'`,
      );
      expect(analyze).toMatchObject({ status: 'failed', attempts: 3 });
      expect(analyze!.error).toMatch(/viralPotential/);
      expect(await db().select().from(competitiveVideos).where(eq(competitiveVideos.url, video.url))).toEqual([]);
    } finally {
      h.sims.openai.registerResponder(COMPETITOR_ANALYSIS_SCHEMA_NAME, analysisResponder);
    }
    // Analysed again (a reset, add-video): its transcription, paid in the failed run, is kept; only the analysis runs.
    const transcribed = h.sims.openai.transcriptionLog().length;
    const video = { ...sample[2]!, url: 'https://www.youtube.com/watch?v=neverValid01' };
    const mediaUrl = h.sims.youtube.media.mediaUrl(sampleVideoId(sample[2]!.url));
    await runVideo('cv-test-malformed', workflowInput(video, { mediaUrl }));
    expect(h.sims.openai.transcriptionLog().length).toBe(transcribed);
    expect(await db().select().from(competitiveVideos).where(eq(competitiveVideos.url, video.url))).toHaveLength(1);
    const transcriptions = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM automation_queue WHERE workflow_id = 'cv-test-malformed' AND job_type = 'openai_transcription'`,
    );
    expect(transcriptions[0]!.n).toBe(1);
  });

  it('a transcription that fails for good fails the video and closes the steps planned after it', async () => {
    h.sims.openai.setFaults({ failTasks: true });
    try {
      const video = { ...sample[2]!, url: 'https://www.youtube.com/watch?v=neverHeard01' };
      const mediaUrl = h.sims.youtube.media.mediaUrl(sampleVideoId(sample[2]!.url));
      await expect(runVideo('cv-test-deaf', workflowInput(video, { mediaUrl }))).rejects.toThrow(WorkflowFailedError);
    } finally {
      h.sims.openai.setFaults({ failTasks: false });
    }
    const jobs = await q<{ step: string; status: string; error: string | null }>(
      `SELECT split_part(step, ':', 1) AS step, status, error FROM automation_queue
        WHERE workflow_id = 'cv-test-deaf' ORDER BY created_at, step`,
    );
    // Nothing left queued for a run that is over (the analysis used to wait for ever, counted in every report).
    expect(jobs.filter((j) => j.status === 'queued' || j.status === 'processing')).toEqual([]);
    expect(jobs.find((j) => j.step.startsWith('transcribe'))).toMatchObject({ status: 'failed' });
    expect(jobs.find((j) => j.step === 'analyze')).toMatchObject({
      status: 'cancelled',
      error: expect.stringMatching(/^not run: .*failed/),
    });
    // Nothing saved and never started again by discovery: the team is told, with the command that analyses it anew; one
    // message a day for every competitor video that fails (the malformed one above failed first today, on this queue).
    const notice = h.client.workflow.getHandle(
      notificationWorkflowId(notificationEventKey('failed', competitorFailuresKey(cvQueue, new Date()))),
    );
    const [request] = (await notice.fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    const text = (JSON.parse(Buffer.from(request!.data!).toString()) as { text: string }).text;
    expect(text).toMatch(/^❌ Failed competitor video ".*" \(.*\)\nError: .*\. Nothing was saved for it/);
    expect(text).toMatch(/reelflow competitor add-video https:\/\/www\.youtube\.com\/watch\?v=never(Valid|Heard)01 --name ".+"/);
    expect(text).toMatch(
      /`temporal workflow reset --workflow-id cv-test-(malformed|deaf) --type FirstWorkflowTask --reason retry` runs it again/,
    );
    expect(text).toContain('Other competitor videos failing today are not told again');
    expect((await notice.result()).deliveries).toEqual({});
  });

  it('a removed video ends unavailable with the reason: no transcription, no retries', async () => {
    const video = sample[3]!;
    const url = `${h.sims.youtube.url}/watch?v=removedVid01`;
    const saved = await runVideo('cv-test-removed', workflowInput(video, { url, mediaUrl: null }));
    expect(saved).toMatchObject({ status: 'unavailable', playersMentioned: [] });
    expect(saved.statusReason).toMatch(/^removed: .*HTTP Error 404/);
    const jobs = await q(`SELECT job_type, status, attempts FROM automation_queue WHERE workflow_id = 'cv-test-removed'`);
    expect(jobs).toEqual([{ job_type: 'youtube_audio_download', status: 'completed', attempts: 1 }]);
    const [row] = await db().select().from(competitiveVideos).where(eq(competitiveVideos.url, url));
    expect(row).toMatchObject({ status: 'unavailable', transcript: null, analysis: null });
  });
});

describe('recommendation generation and the hourly schedule', () => {
  const generate = () =>
    h.client.workflow.execute(RECOMMENDATION_GENERATION_WORKFLOW, {
      taskQueue: genQueue,
      workflowId: `generation-${Date.now()}`,
      args: [{ lookbackDays: 7 }],
    }) as Promise<GenerationSummary>;

  it('creates each idea once and starts its recommendation workflow', async () => {
    const resolver = createNameResolver(await db().query.players.findMany());
    for (const video of sample) {
      const { system, user } = buildAnalysisPrompt(video);
      const analysis = analysisResponder([
        { role: 'system', content: system },
        { role: 'user', content: user },
      ]);
      await saveCompetitorVideo(db(), { ...video, analysis, resolution: resolveAnalysisPlayers(resolver, analysis) });
    }

    const first = await generate();
    expect(first.created.map((c) => [c.type, c.targetPlayer, c.priority])).toEqual([
      ['counter_argument', 'carlos-alvarez', 'P0'],
      ['viral_response', 'lamine-yamal', 'P0'],
      ['counter_argument', 'ante-budimir', 'P1'],
      ['trend_jump', 'jorge-de-frutos', 'P1'],
      ['counter_argument', 'arda-guler', 'P1'],
      ['player_spotlight', 'roger-brugue', 'P2'],
      ['player_spotlight', 'carlos-vicente', 'P2'],
    ]);
    for (const c of first.created) {
      const described = await h.client.workflow.getHandle(recommendationWorkflowId(c.id)).describe();
      expect(described.type).toBe('recommendationWorkflow');
      const [rec] = await db().select().from(competitiveRecommendations).where(eq(competitiveRecommendations.id, c.id));
      expect(rec?.workflowId).toBe(recommendationWorkflowId(c.id));
    }

    const second = await generate();
    expect(second).toMatchObject({ created: [], skipped: 7, reenqueued: [] });
  });

  it('create-or-update is idempotent, keeps an operator pause, and trigger runs the generation', async () => {
    const scheduleId = `hourly-${h.taskQueue}`;
    try {
      expect(await ensureHourlySchedule(h.client, { scheduleId, taskQueue: genQueue })).toEqual({ scheduleId, created: true });
      expect(await ensureHourlySchedule(h.client, { scheduleId, taskQueue: genQueue, lookbackDays: 7 })).toEqual({
        scheduleId,
        created: false,
      });
      const described = (await describeHourlySchedule(h.client, scheduleId))!;
      expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 3_600_000 });
      expect(described.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: RECOMMENDATION_GENERATION_WORKFLOW,
        taskQueue: genQueue,
      });
      expect(described.spec.intervals?.[0]?.every).toBe(3_600_000);

      await pauseHourlySchedule(h.client, 'maintenance', scheduleId);
      await ensureHourlySchedule(h.client, { scheduleId, taskQueue: genQueue });
      expect((await describeHourlySchedule(h.client, scheduleId))!.state).toMatchObject({ paused: true, note: 'maintenance' });
      await unpauseHourlySchedule(h.client, 'back', scheduleId);
      expect((await describeHourlySchedule(h.client, scheduleId))!.state.paused).toBe(false);

      await triggerHourlySchedule(h.client, scheduleId);
      const action = await waitUntil(async () => (await describeHourlySchedule(h.client, scheduleId))!.info.recentActions[0], {
        what: 'the triggered run',
      });
      expect(action.action.workflow.workflowId.startsWith(scheduleId)).toBe(true);
      const result = (await h.client.workflow.getHandle(action.action.workflow.workflowId).result()) as GenerationSummary;
      expect(result).toMatchObject({ created: [], skipped: 7 });
    } finally {
      await h.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    }
  });
});
