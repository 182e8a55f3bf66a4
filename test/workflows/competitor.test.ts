/**
 * Competitor video workflow, recommendation generation workflow and the
 * hourly Schedule, on the real Temporal server, PostgreSQL and the OpenAI
 * simulator (answering with analysisResponder).
 *
 * Until src/workflows/index.ts exports these workflows, this file runs them on
 * workers of its own (queues `<base>-cv` and `<base>-gen`); recommendation
 * workflows they start run on the harness's base queue as in production.
 */
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCompetitorBaseActivities, createCompetitorOpenAiActivities, type GenerationSummary } from '../../src/activities/competitor';
import { providerTaskQueue } from '../../src/config/providers';
import { competitiveRecommendations, competitiveVideos } from '../../src/db/schema';
import { buildAnalysisPrompt, COMPETITOR_ANALYSIS_SCHEMA_NAME } from '../../src/recommendations/analysis';
import { analysisResponder } from '../../src/simulators/analysis-stand-in';
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
import { waitUntil } from '../helpers/wait';

const SAMPLE = path.resolve(__dirname, '../../data/sample');

let h: Harness;
let connection: NativeConnection;
let workers: Worker[] = [];
let running: Promise<unknown>;
let cvQueue: string;
let genQueue: string;
let sample: CompetitorVideo[];

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await h.db.database.pool.query(text, params)).rows as T[];
const db = () => h.db.database.db;

/** The simulator "hears" the text after RFSIM: in the audio file. */
function audioOf(transcript: string): string {
  return `data:audio/mpeg;base64,${Buffer.from(`RFSIM:${transcript}`).toString('base64')}`;
}

function workflowInput(video: CompetitorVideo, overrides: Partial<CompetitorVideoInput> = {}): CompetitorVideoInput {
  return {
    url: video.url,
    channel: video.channel,
    title: video.title,
    views: video.views,
    publishedAt: video.publishedAt?.toISOString() ?? null,
    audioUrl: audioOf(video.transcript),
    ...overrides,
  };
}

const runVideo = (workflowId: string, input: CompetitorVideoInput) =>
  h.client.workflow.execute(COMPETITOR_VIDEO_WORKFLOW, { taskQueue: cvQueue, workflowId, args: [input] });

beforeAll(async () => {
  h = await startHarness();
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
      workflowsPath: path.resolve(__dirname, '../../src/workflows/competitor-video.ts'),
      activities: base,
    }),
    Worker.create({ connection, taskQueue: providerTaskQueue(cvQueue, 'openai'), activities: createCompetitorOpenAiActivities(h.runtime) }),
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
});

describe('competitor video workflow', () => {
  it('transcribes, analyses and saves one video, both OpenAI calls as jobs on the openai line', async () => {
    const video = sample[0]!;
    const saved = await runVideo('cv-test-bombazo', workflowInput(video));
    expect(saved.playersMentioned).toEqual(['carlos-alvarez', 'jorge-de-frutos', 'kylian-mbappe', 'robert-lewandowski']);

    const [row] = await db().select().from(competitiveVideos).where(eq(competitiveVideos.url, video.url));
    expect(row).toMatchObject({ id: saved.videoId, transcript: video.transcript, views: video.views });

    const jobs = await q<{ step: string; job_type: string; api_provider: string; status: string; priority: string; attempts: number }>(
      `SELECT step, job_type, api_provider, status, priority, attempts FROM automation_queue
        WHERE workflow_id = 'cv-test-bombazo' ORDER BY created_at`,
    );
    expect(jobs.map((j) => [j.step.split(':')[0], j.job_type, j.api_provider, j.status, j.priority, j.attempts])).toEqual([
      ['transcribe', 'openai_transcription', 'openai', 'completed', 'P1', 1], // 482k views: past the viral threshold
      ['analyze', 'openai_analysis', 'openai', 'completed', 'P1', 1],
    ]);
    expect(await q(`SELECT * FROM provider_slots`)).toEqual([]);
  });

  it('re-processing the same URL is a new run that updates the row', async () => {
    const video = sample[0]!;
    const again = await runVideo('cv-test-bombazo', workflowInput(video, { url: 'https://youtu.be/cFt8Jr08aLv', views: 500_000 }));
    const rows = await db().select().from(competitiveVideos).where(eq(competitiveVideos.url, video.url));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: again.videoId, views: 500_000 });
    expect(await q(`SELECT id FROM automation_queue WHERE workflow_id = 'cv-test-bombazo'`)).toHaveLength(4);
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
      await expect(runVideo('cv-test-malformed', workflowInput(video))).rejects.toThrow(WorkflowFailedError);
      const [analyze] = await q(
        `SELECT status, attempts, error FROM automation_queue WHERE workflow_id = 'cv-test-malformed' AND job_type = 'openai_analysis'`,
      );
      expect(analyze).toMatchObject({ status: 'failed', attempts: 3 });
      expect(analyze!.error).toMatch(/viralPotential/);
      expect(await db().select().from(competitiveVideos).where(eq(competitiveVideos.url, video.url))).toEqual([]);
    } finally {
      h.sims.openai.registerResponder(COMPETITOR_ANALYSIS_SCHEMA_NAME, analysisResponder);
    }
  });

  it('a broken audio link fails at once, without retries', async () => {
    const video = { ...sample[3]!, url: 'https://www.youtube.com/watch?v=brokenAudio1' };
    await expect(runVideo('cv-test-audio', workflowInput(video, { audioUrl: 'ftp://example.com/a.mp3' }))).rejects.toThrow(
      WorkflowFailedError,
    );
    const [transcribe] = await q(
      `SELECT status, attempts FROM automation_queue WHERE workflow_id = 'cv-test-audio' AND job_type = 'openai_transcription'`,
    );
    expect(transcribe).toMatchObject({ status: 'failed', attempts: 1 });
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
      ['counter_argument', 'ante-budimir', 'P1'],
      ['trend_jump', 'jorge-de-frutos', 'P1'],
      ['viral_response', 'lamine-yamal', 'P1'],
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
    expect(second).toMatchObject({ created: [], skipped: 6, reenqueued: [] });
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
      expect(result).toMatchObject({ created: [], skipped: 6 });
    } finally {
      await h.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    }
  });
});
