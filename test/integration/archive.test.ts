/**
 * Keep the video (issue 15), on the real Temporal server, PostgreSQL, ffprobe and the simulators: a paid render is
 * streamed into our storage before any post, in the filesystem store and in a real S3-compatible server (s3rver on
 * 127.0.0.1), and every platform is handed our copy (a signed URL to pull; YouTube's upload reads the same bytes),
 * never KIE's URL again. The download follows the pay-once rules: a worker killed -9 mid-download is continued by
 * range, not restarted, and never rendered again; a corrupt file is fetched again from KIE, not rendered again.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterEach, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createArchiveActivities } from '../../src/activities/archive';
import { QUEUE_NAMES, type QueueName } from '../../src/config/providers';
import { runTool } from '../../src/media/tools';
import { recommendationInput, startHarness, type Harness } from '../helpers/harness';
import { spawnWorker } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function harness(opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(opts);
  cleanups.push(() => h.stop());
  return h;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

type AssetRow = { storage: string; storage_key: string; sha256: string; bytes: string; content_type: string; duration_seconds: number };
const assetOf = async (h: Harness, recId: string) =>
  (
    await h.db.database.pool.query<AssetRow & { kie_task_ids: string[] }>('SELECT * FROM video_assets WHERE recommendation_id = $1', [
      recId,
    ])
  ).rows[0];
const taskOf = async (h: Harness, recId: string) =>
  (
    await h.db.database.pool.query<{ provider_task_id: string }>(
      `SELECT provider_task_id FROM automation_queue WHERE recommendation_id = $1 AND step = 'generate'`,
      [recId],
    )
  ).rows[0]!.provider_task_id;

/** The whole pipeline on all three platforms; returns the recommendation id once it is published. */
async function publishEverywhere(h: Harness): Promise<string> {
  const { recommendation, workflowId } = await h.service.enqueue(
    recommendationInput({ jobConfig: { platforms: ['instagram', 'tiktok', 'youtube'] } }),
  );
  const result = await h.client.workflow.getHandle(workflowId).result();
  expect(result.status).toBe('published');
  return recommendation.id;
}

/**
 * What every platform got is our copy: Instagram and TikTok were handed a URL that serves exactly the archived
 * bytes, YouTube received as many bytes, and KIE's file was downloaded once (by the archive) and only once.
 */
async function expectPostsFromOurCopy(h: Harness, recId: string, stored: Buffer, urlPrefix: string) {
  const asset = (await assetOf(h, recId))!;
  expect(Number(asset.bytes)).toBe(stored.length);
  expect(asset.sha256).toBe(sha256(stored));
  expect(asset.content_type).toBe('video/mp4');
  expect(asset.duration_seconds).toBeCloseTo(8, 0);
  expect(asset.kie_task_ids).toEqual([await taskOf(h, recId)]);
  const urls = [...h.sims.instagram.createdContainers().map((c) => c.videoUrl), ...h.sims.tiktok.pulledUrls()];
  expect(urls).toHaveLength(2);
  for (const url of urls) {
    expect(url.startsWith(urlPrefix), url).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(asset.sha256);
  }
  const uploads = [...(h.sims.youtube as unknown as { videos: Map<string, { bytes: number }> }).videos.values()];
  expect(uploads.map((v) => v.bytes)).toEqual([stored.length]);
  // KIE's result URL was read once, by the archive: no platform and no upload went back to it.
  expect(h.sims.veo3.downloads).toEqual({ whole: 1, rangeStarts: [] });
  expect(h.sims.veo3.stats().submissions).toBe(1);
}

describe('keep the video', () => {
  it('fs store: archived under REELFLOW_ARCHIVE_DIR before publishing, every platform served our signed copy', async () => {
    const h = await harness();
    const recId = await publishEverywhere(h);
    const asset = (await assetOf(h, recId))!;
    expect(asset).toMatchObject({ storage: 'fs', storage_key: `videos/${recId}.mp4` });
    const stored = await fs.readFile(path.join(h.env.REELFLOW_ARCHIVE_DIR, asset.storage_key));
    await expectPostsFromOurCopy(h, recId, stored, `${h.env.REELFLOW_MEDIA_BASE_URL}/archive/videos/${recId}.mp4?expires=`);
    // Nothing staged is left behind.
    expect(await fs.readdir(path.join(h.env.REELFLOW_ARCHIVE_DIR, '.partial'))).toEqual([]);

    // Run again (a retried activity, a replayed workflow): the row and the object are the answer, nothing is downloaded.
    const archive = createArchiveActivities(h.runtime);
    const again = await new MockActivityEnvironment().run(archive.archiveVideo, {
      recommendationId: recId,
      videoUrl: h.sims.veo3.mediaUrl(await taskOf(h, recId)),
      kieTaskIds: [await taskOf(h, recId)],
    });
    expect(again).toMatchObject({ outcome: 'already_archived', sha256: asset.sha256, storageKey: asset.storage_key });
    expect(h.sims.veo3.downloads).toEqual({ whole: 1, rangeStarts: [] });
  });

  it('S3 store (s3rver on 127.0.0.1): the object in the bucket is the archived video, platforms pull presigned URLs', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reelflow-s3rver-'));
    const bucket = 'reelflow-archive';
    const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
    const { port } = await s3rver.run();
    cleanups.push(async () => {
      await s3rver.close();
      await fs.rm(dir, { recursive: true, force: true });
    });
    const endpoint = `http://127.0.0.1:${port}`;
    const s3env = {
      REELFLOW_STORAGE: 's3',
      REELFLOW_S3_ENDPOINT: endpoint,
      REELFLOW_S3_BUCKET: bucket,
      REELFLOW_S3_FORCE_PATH_STYLE: 'true',
      // s3rver's fixed credentials.
      REELFLOW_S3_ACCESS_KEY_ID: 'S3RVER',
      REELFLOW_S3_SECRET_ACCESS_KEY: 'S3RVER',
    };
    const h = await harness({ env: s3env });
    const recId = await publishEverywhere(h);
    const asset = (await assetOf(h, recId))!;
    expect(asset).toMatchObject({ storage: 's3', storage_key: `videos/${recId}.mp4` });
    const s3 = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: asset.storage_key }));
    const stored = Buffer.from(await object.Body!.transformToByteArray());
    expect(object.Metadata?.sha256).toBe(asset.sha256);
    await expectPostsFromOurCopy(h, recId, stored, `${endpoint}/${bucket}/videos/${recId}.mp4?`);
    s3.destroy();
  });

  it('a worker killed -9 mid-download: the next attempt continues the staged bytes by range, no second render', async () => {
    // Everything in this process but the assembly queue, where the archive runs: that one is a worker process to kill.
    const h = await harness({ queues: QUEUE_NAMES.filter((q): q is QueueName => q !== 'assembly') });
    const doomed = await spawnWorker(h.childEnv, ['assembly']);
    cleanups.push(() => doomed.kill('SIGKILL'));
    // The clip trickles out at 32 KiB/s: seconds of download to cut short.
    h.sims.veo3.downloadBytesPerSecond = 32_768;
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['instagram'] } }));
    const staged = path.join(h.env.REELFLOW_ARCHIVE_DIR, '.partial', `${recommendation.id}.mp4`);
    const before = await waitUntil(async () => (await fs.stat(staged).catch(() => null))?.size ?? 0, {
      until: (size) => size >= 65_536,
      what: 'two pieces of the download staged',
      timeoutMs: 60_000,
    });
    await doomed.kill('SIGKILL');
    const cut = (await fs.stat(staged)).size;
    expect(cut).toBeGreaterThanOrEqual(before);
    h.sims.veo3.downloadBytesPerSecond = 0;
    const next = await spawnWorker(h.childEnv, ['assembly']);
    cleanups.push(() => next.kill('SIGKILL'));
    const result = await h.client.workflow.getHandle(workflowId).result();
    expect(result.status).toBe('published');

    // One paid render; KIE's file read whole once (the killed attempt), then continued from where the staging ended.
    expect(h.sims.veo3.stats().submissions).toBe(1);
    expect(h.sims.veo3.downloads.whole).toBe(1);
    expect(h.sims.veo3.downloads.rangeStarts).toHaveLength(1);
    expect(h.sims.veo3.downloads.rangeStarts[0]).toBeGreaterThanOrEqual(cut);
    // The resumed file is the render, byte for byte.
    const asset = (await assetOf(h, recommendation.id))!;
    const stored = await fs.readFile(path.join(h.env.REELFLOW_ARCHIVE_DIR, asset.storage_key));
    const original = Buffer.from(await (await fetch(result.videoUrl!)).arrayBuffer());
    expect(stored.equals(original)).toBe(true);
    expect(asset.sha256).toBe(sha256(original));
    expect(Number(asset.bytes)).toBeGreaterThan(cut);
  }, 120_000);

  it('a corrupt download is a clear failure, downloaded again from KIE and never rendered again', async () => {
    const h = await harness();
    // KIE's CDN answers the first request with an HTML error page as video/mp4.
    h.sims.veo3.corruptNextVideos = 1;
    const { recommendation, workflowId } = await h.service.enqueue(recommendationInput({ jobConfig: { platforms: ['instagram'] } }));
    const handle = h.client.workflow.getHandle(workflowId);
    const result = await handle.result();
    expect(result.status).toBe('published');
    expect(h.sims.veo3.corruptNextVideos).toBe(0);
    expect(h.sims.veo3.stats().submissions).toBe(1);
    expect(h.sims.veo3.downloads).toEqual({ whole: 1, rangeStarts: [] });
    // The archive's first attempt failed naming the check; the second one archived the real file.
    const history = await handle.fetchHistory();
    const archiveStarts = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'archiveVideo',
    );
    expect(archiveStarts).toHaveLength(1);
    const completed = (history.events ?? []).find((e) => e.activityTaskCompletedEventAttributes);
    expect(completed).toBeDefined();
    const attempts = (history.events ?? []).flatMap((e) =>
      e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes] : [],
    );
    const archiveAttempt = attempts.find((a) => a.lastFailure?.message?.includes('corrupt download'));
    expect(archiveAttempt?.attempt).toBe(2);
    expect(archiveAttempt?.lastFailure?.message).toMatch(/archive: corrupt download: ffprobe cannot read it as a video/);
    const asset = (await assetOf(h, recommendation.id))!;
    const probed = await runTool('ffprobe', 'ffprobe', ['-v', 'error', path.join(h.env.REELFLOW_ARCHIVE_DIR, asset.storage_key)]);
    expect(probed.code).toBe(0);
  });
});
