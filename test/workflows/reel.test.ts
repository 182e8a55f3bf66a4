/**
 * Reels end to end on the real Temporal server, PostgreSQL, ffmpeg and the
 * simulators: a 4-segment reel in both modes (one paid render per segment,
 * each its own job through the gate, cut into one checked 1080x1920 video that
 * is what gets published), and a script that cannot be rendered (named
 * segment, nothing paid).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterEach, describe, expect, it } from 'vitest';
import { COVER_AT_SECONDS } from '../../src/media/reel';
import { probe } from '../helpers/probe';
import type { SimResponder } from '../../src/simulators/openai';
import { stateQuery } from '../../src/shared/messages';
import { recommendationInput, runCli, startHarness, type Harness } from '../helpers/harness';
import { waitUntil } from '../helpers/wait';

const harnesses: Harness[] = [];
afterEach(async () => {
  while (harnesses.length) await harnesses.pop()!.stop();
});

async function reelHarness(mode: 'chained' | 'independent', extra: Record<string, string> = {}): Promise<Harness> {
  const h = await startHarness({ env: { REELFLOW_REEL_MODE: mode, REELFLOW_REEL_SECONDS: '32', ...extra } });
  harnesses.push(h);
  return h;
}

type JobRow = {
  step: string;
  status: string;
  attempts: number;
  provider_task_id: string | null;
  cost: string | null;
  api_provider: string;
};
const jobsOf = async (h: Harness, recId: string) =>
  (
    await h.db.database.pool.query<JobRow>(
      `SELECT step, status, attempts, provider_task_id, cost, api_provider FROM automation_queue WHERE recommendation_id = $1`,
      [recId],
    )
  ).rows;

/** What KIE says it was asked for each task (record-info's paramJson). */
async function paramsOf(h: Harness, taskId: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${h.sims.veo3.url}/api/v1/veo/record-info?taskId=${taskId}`, { headers: { Authorization: 'Bearer sim' } });
  const body = (await res.json()) as { data: { paramJson: string } };
  return JSON.parse(body.data.paramJson) as Record<string, unknown>;
}

/** The published file: what the media server handed the platforms. */
async function expectPublishableReel(h: Harness, recId: string, videoUrl: string, seconds: number) {
  expect(videoUrl).toBe(`${h.env.REELFLOW_MEDIA_BASE_URL}/${recId}/final.mp4`);
  const file = path.join(h.env.REELFLOW_MEDIA_DIR, recId, 'final.mp4');
  const p = await probe(file);
  expect(Number(p.format.duration)).toBeCloseTo(seconds, 0);
  expect(p.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1080, height: 1920 });
  expect(p.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', channels: 2 });
  // Served over HTTP as published (YouTube's upload downloaded exactly these bytes).
  const served = await fetch(videoUrl);
  expect(served.status).toBe(200);
  expect(Number(served.headers.get('content-length'))).toBe((await fs.stat(file)).size);
}

describe('a 4-segment reel', () => {
  it('chained: segment 1 rendered, 2-4 each extend the one before; four paid jobs, one assembly, the cut published', async () => {
    const h = await reelHarness('chained');
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ jobConfig: { platforms: ['youtube', 'instagram', 'tiktok'] } }),
    );
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    expect(result.segments).toHaveLength(4);

    // One paid task per segment, never more: three of them extends, each of the task before it.
    expect(h.sims.veo3.stats().submissions).toBe(4);
    expect(h.sims.veo3.extends).toBe(3);
    const tasks = result.segments!.map((s: { taskId: string }) => s.taskId);
    expect(await paramsOf(h, tasks[0]!)).not.toHaveProperty('parentTaskId');
    for (let i = 1; i < 4; i++) expect(await paramsOf(h, tasks[i]!)).toMatchObject({ parentTaskId: tasks[i - 1] });

    const jobs = await jobsOf(h, recommendation.id);
    const segments = jobs.filter((j) => j.step.startsWith('generate:')).sort((a, b) => a.step.localeCompare(b.step));
    expect(segments.map((j) => [j.step, j.status, j.attempts, j.provider_task_id])).toEqual(
      tasks.map((t: string, i: number) => [`generate:${i + 1}`, 'completed', 1, t]),
    );
    expect(jobs.find((j) => j.step === 'generate')).toBeUndefined();
    expect(jobs.find((j) => j.step === 'assemble')).toMatchObject({ status: 'completed', api_provider: 'assembly', cost: null });
    // Each segment's cost adds up to the recommendation's.
    const total = jobs.reduce((sum, j) => sum + Number(j.cost ?? 0), 0);
    expect(total).toBe(4 * h.env.KIE_CREDITS_PER_VIDEO);

    await expectPublishableReel(h, recommendation.id, result.videoUrl!, 32);
    // Instagram gets our archived copy of the cut (a signed URL, byte for byte the cut) and its cover frame.
    expect(result.coverUrl).toBe(`${h.env.REELFLOW_MEDIA_BASE_URL}/${recommendation.id}/cover.jpg`);
    expect(h.sims.instagram.createdContainers()).toEqual([
      expect.objectContaining({
        videoUrl: expect.stringMatching(`^${h.env.REELFLOW_MEDIA_BASE_URL}/archive/videos/${recommendation.id}\\.mp4\\?expires=`),
        coverUrl: result.coverUrl,
      }),
    ]);
    const archived = await fetch(h.sims.instagram.createdContainers()[0]!.videoUrl);
    const cut = await fs.readFile(path.join(h.env.REELFLOW_MEDIA_DIR, recommendation.id, 'final.mp4'));
    expect(Buffer.from(await archived.arrayBuffer()).equals(cut)).toBe(true);
    // Its row: the cut's sha256 and size as assembly recorded them, and the four renders it was paid with.
    const assembled = JSON.parse(await fs.readFile(path.join(h.env.REELFLOW_MEDIA_DIR, recommendation.id, 'result.json'), 'utf8'));
    const { rows: assets } = await h.db.database.pool.query('SELECT * FROM video_assets WHERE recommendation_id = $1', [recommendation.id]);
    expect(assets).toEqual([
      expect.objectContaining({ sha256: assembled.sha256, bytes: String(cut.length), kie_task_ids: tasks, storage: 'fs' }),
    ]);
    expect(assets[0].duration_seconds).toBeCloseTo(32, 0);
    const cover = await fetch(result.coverUrl!);
    expect(cover.headers.get('content-type')).toBe('image/jpeg');
    const coverBytes = Buffer.from(await cover.arrayBuffer());
    expect(coverBytes.byteLength).toBeGreaterThan(1_000);
    // YouTube gets it too: set (thumbnails.set) on the video it published, byte for byte.
    const youtube = result.posts.find((p: { platform: string }) => p.platform === 'youtube');
    expect(h.sims.youtube.thumbnailsSet()).toEqual([{ videoId: youtube!.postId, bytes: coverBytes, contentType: 'image/jpeg' }]);
    // TikTok takes no image: the same frame, named by its time in the cut.
    expect(h.sims.tiktok.coverTimestamps()).toEqual([COVER_AT_SECONDS * 1000]);
    // The operators' view lists the segments in order, then the assembly, and the cost.
    const status = await runCli(h, ['status', recommendation.id]);
    expect(status.code).toBe(0);
    const order = ['generate:1', 'generate:2', 'generate:3', 'generate:4', 'assemble', 'publish:instagram'].map((s) =>
      status.stdout.indexOf(s),
    );
    expect(order.every((at, i) => at > 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
    expect(status.stdout).toContain(`cost: ${4 * h.env.KIE_CREDITS_PER_VIDEO} credits (4 segments)`);
  });

  it('independent: four renders at once up to the cap, the same reference image and seed; a failed one retried alone', async () => {
    const h = await reelHarness('independent');
    // The first submit is answered 500: that segment alone tries again, nothing was created the first time.
    h.sims.veo3.setFaults({ taskDurationMs: 1_500, failNext: 1 });
    // A channel that may not set custom thumbnails (not verified): the reel is posted anyway, once.
    h.sims.youtube.thumbnailsForbidden = true;
    const imageUrl = 'https://cdn.example.com/players/carlos-alvarez.png';
    const { recommendation, workflowId } = await h.service.enqueue(
      recommendationInput({ jobConfig: { platforms: ['youtube'], imageUrl } }),
    );
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    const stats = h.sims.veo3.stats();
    expect(stats.submissions).toBe(4);
    expect(h.sims.veo3.extends).toBe(0);
    // In parallel, and never above VEO3's cap of 2.
    expect(stats.maxInFlight).toBe(2);
    const params = await Promise.all(result.segments!.map((s: { taskId: string }) => paramsOf(h, s.taskId)));
    expect(new Set(params.map((p) => p.seeds)).size).toBe(1);
    for (const p of params) expect(p).toMatchObject({ generationType: 'REFERENCE_2_VIDEO', imageUrls: [imageUrl], aspectRatio: '9:16' });
    // Different segments, different prompts: each carries its own spoken line.
    expect(new Set(params.map((p) => p.prompt)).size).toBe(4);
    await expectPublishableReel(h, recommendation.id, result.videoUrl!, 32);
    const jobs = await jobsOf(h, recommendation.id);
    const segments = jobs.filter((j) => j.step.startsWith('generate:'));
    expect(segments.every((j) => j.status === 'completed')).toBe(true);
    expect(segments.map((j) => j.attempts).sort()).toEqual([1, 1, 1, 2]);
    // In VEO3's line in script order (drizzle/0053): segment 1, the one that carries the idea's deadline, is never
    // granted after a later one (written in one transaction, they shared a created_at and lined up by random id).
    const inLine = await h.db.database.pool.query<{ step: string }>(
      `SELECT step FROM automation_queue WHERE recommendation_id = $1 AND step LIKE 'generate:%' ORDER BY created_at, id`,
      [recommendation.id],
    );
    expect(inLine.rows.map((r) => r.step)).toEqual(['generate:1', 'generate:2', 'generate:3', 'generate:4']);

    expect(jobs.find((j) => j.step === 'publish:youtube')).toMatchObject({ status: 'completed', attempts: 1 });
    expect(h.sims.youtube.stats().submissions).toBe(1);
    expect(h.sims.youtube.thumbnailsSet()).toEqual([]);
    const coverEvents = await h.db.database.pool.query<{ detail: { platform: string; reason: string } }>(
      `SELECT e.detail FROM job_events e JOIN automation_queue j ON j.id = e.job_id
        WHERE j.recommendation_id = $1 AND e.event = 'cover_not_set'`,
      [recommendation.id],
    );
    expect(coverEvents.rows).toEqual([
      { detail: { platform: 'youtube', reason: expect.stringContaining('may not set custom thumbnails') } },
    ]);
  });
});

describe('a cut that fails its checks', () => {
  it('is assembled again, never rendered again', async () => {
    // ffmpeg as installed, except that the first reel encode comes out cut short (as on a full disk).
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reelflow-ffmpeg-'));
    const wrapper = path.join(dir, 'ffmpeg');
    await fs.writeFile(
      wrapper,
      [
        '#!/bin/bash',
        'ffmpeg "$@"; code=$?',
        `if [ $code -eq 0 ] && [[ " $* " == *" -filter_complex "* ]] && mkdir "${dir}/spoiled" 2>/dev/null; then`,
        '  truncate -s 100000 "${@: -1}"',
        'fi',
        'exit $code',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const h = await reelHarness('independent', { REELFLOW_REEL_SECONDS: '16', FFMPEG_PATH: wrapper });
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['youtube'] } }));
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');
    expect(h.sims.veo3.stats().submissions).toBe(2);
    const assemble = (await jobsOf(h, recommendation.id)).find((j) => j.step === 'assemble')!;
    expect(assemble).toMatchObject({ status: 'completed', attempts: 2 });
    const retried = await h.db.database.pool.query<{ detail: { error?: string } }>(
      `SELECT e.detail FROM job_events e JOIN automation_queue j ON j.id = e.job_id
        WHERE j.recommendation_id = $1 AND j.step = 'assemble' AND e.event = 'retrying'`,
      [recommendation.id],
    );
    // Named for what it is, whichever check saw it first: ffprobe, or the box walk of a file whose index survived.
    expect(JSON.stringify(retried.rows)).toMatch(/the assembled reel (is unreadable|failed its checks: it is cut short)/);
    await expectPublishableReel(h, recommendation.id, result.videoUrl!, 16);
    await fs.rm(dir, { recursive: true, force: true });
  });
});

describe('approving a reel', () => {
  it('shows the editor every segment of the script (picture, spoken line, card) before anything is paid', async () => {
    const h = await reelHarness('chained', { REELFLOW_REEL_SECONDS: '16' });
    const { workflowId } = await h.service.enqueue(recommendationInput({ jobConfig: { approval: { beforeRender: true } } }));
    const handle = h.client.workflow.getHandle(workflowId);
    const state = await waitUntil(
      async () => {
        const s = await handle.query(stateQuery);
        return s.phase === 'awaiting_approval' ? s : undefined;
      },
      { what: 'waiting for approval' },
    );
    const script = state.approval!.videoPrompt!;
    expect(script).toMatch(/^1\. .+\n {3}«.+»\n {3}\[.+\]\n2\. .+\n {3}«.+»\n {3}\[.+\]$/);
    expect(script).toContain('Precio: 6,2 M€');
    expect(h.sims.veo3.stats().submissions).toBe(0);
    await h.service.decide(workflowId, 'reject', { by: 'test-editor' });
    expect((await handle.result()).status).toBe('rejected');
    expect(h.sims.veo3.stats().submissions).toBe(0);
  });
});

describe('a script that cannot be rendered', () => {
  it('fails with the segment named and pays for no render', async () => {
    const h = await reelHarness('chained');
    const wordy: SimResponder = () => ({
      title: 'Un guion demasiado largo',
      hook: 'Mira esto',
      script: 'Un guion con un segmento que no cabe en ocho segundos de vídeo.',
      videoPrompt: 'Vertical football studio, presenter at a stats wall',
      caption: 'Datos',
      hashtags: ['#LaLigaFantasy'],
      segments: [1, 2, 3, 4].map((i) => ({
        visualPrompt: `Vertical football studio, shot ${i}, presenter at a stats wall`,
        spokenLine: i === 2 ? Array.from({ length: 30 }, (_, w) => `palabra${w}`).join(' ') : 'Cuesta seis millones.',
        onScreenText: i === 3 ? ['Precio: 6,2 M€', 'Puntos por millón en las últimas jornadas'] : ['Precio: 6,2 M€'],
      })),
    });
    h.sims.openai.registerResponder('video_brief', wordy);
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput());
    const err = await h.client.workflow
      .getHandle(workflowId)
      .result()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const row = (await h.db.database.pool.query(`SELECT status, error FROM competitive_recommendations WHERE id = $1`, [recommendation.id]))
      .rows[0];
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/segment 2: the spoken line is 30 words, longer than a 8 s clip carries \(at most 22\)/);
    expect(row.error).toMatch(/segment 3: on-screen line "Puntos por millón en las últimas jornadas" is 41 characters/);
    expect(h.sims.veo3.stats().submissions).toBe(0);
    // No segment was ever planned: the script never became a plan.
    expect((await jobsOf(h, recommendation.id)).filter((j) => j.step.startsWith('generate'))).toEqual([]);
  });
});
