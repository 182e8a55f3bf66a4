/**
 * Archive throughput (issue 15, "keep the video"): a paid video from the KIE simulator's CDN into our storage,
 * the archive activity's path without Temporal around it: the ranged download to the staging file, the checks
 * (size, sha256, ffprobe) and the put, into the filesystem store and into an S3-compatible server (s3rver on
 * 127.0.0.1, as in the tests). The video is a render extended five times (48 s of the simulator's clips).
 *
 * Figures: MB/s from the simulator to storage (bytes archived / wall time, sequential, one video at a time) and
 * the time per video, per store. Small files make this per-file cost (ffprobe, the put) as much as bandwidth.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { discardStaged, stageDownload, verifyStaged } from '../../src/archive/download';
import { createVideoStore, type VideoStore } from '../../src/archive/store';
import { loadEnv } from '../../src/config/env';
import { waitUntil } from '../measure';
import type { Scenario } from '../scenario';

const ROUNDS = 10;
const EXTENDS = 5;
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** A finished VEO3 task's result URL, through the simulator's own API (generate, then extends of it). */
async function renderedVideo(veo3Url: string): Promise<string> {
  const call = async (route: string, body?: unknown) => {
    const res = await fetch(`${veo3Url}${route}`, {
      method: body ? 'POST' : 'GET',
      headers: { Authorization: 'Bearer bench', 'Content-Type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return ((await res.json()) as { data: Record<string, unknown> }).data;
  };
  const finished = (taskId: string) =>
    waitUntil(
      async () => {
        const info = await call(`/api/v1/veo/record-info?taskId=${taskId}`);
        return info.successFlag === 1 ? ((info.response as { resultUrls: string[] }).resultUrls[0] ?? null) : null;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `render ${taskId}` },
    );
  let taskId = String((await call('/api/v1/veo/generate', { prompt: 'bench archive', aspectRatio: '9:16' })).taskId);
  let url = await finished(taskId);
  for (let i = 0; i < EXTENDS; i++) {
    taskId = String((await call('/api/v1/veo/extend', { taskId, prompt: `bench archive ${i + 2}` })).taskId);
    url = await finished(taskId);
  }
  return url;
}

/** ROUNDS archives of the same video under distinct keys: wall milliseconds of each, and of each phase in all. */
async function archiveRounds(store: VideoStore, url: string, staging: string, ffprobe: string) {
  const ms: number[] = [];
  const phases = { download: 0, checks: 0, put: 0 };
  let bytes = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const file = path.join(staging, `bench-${store.kind}-${i}.mp4`);
    const started = performance.now();
    const staged = await stageDownload(url, file, { allowPrivateHosts: true, maxBytes: 1 << 30 });
    const downloaded = performance.now();
    const verified = await verifyStaged(file, staged, {}, { ffmpeg: 'ffmpeg', ffprobe });
    const checked = performance.now();
    await store.put(`videos/bench-${i}.mp4`, file, { contentType: staged.contentType, sha256: verified.sha256 });
    const done = performance.now();
    ms.push(done - started);
    phases.download += downloaded - started;
    phases.checks += checked - downloaded;
    phases.put += done - checked;
    bytes = verified.bytes;
    await discardStaged(file);
  }
  return { ms, phases, bytes };
}

export const archive: Scenario = {
  name: 'archive',
  summary: `${ROUNDS} archives of a ${(EXTENDS + 1) * 8} s simulator render into the fs store and into S3 (s3rver)`,
  async run(bench, rec) {
    await bench.prepare({ limits: {}, durations: { veo3: 0 } });
    const url = await renderedVideo(bench.sims.veo3.url);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reelflow-bench-archive-'));
    const bucket = 'reelflow-bench';
    const s3rver = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: path.join(dir, 's3'),
      configureBuckets: [{ name: bucket }],
    });
    const { port } = await s3rver.run();
    try {
      const base = loadEnv({ ...process.env, REELFLOW_ARCHIVE_DIR: path.join(dir, 'fs') });
      const stores: VideoStore[] = [
        createVideoStore(base),
        createVideoStore({
          ...base,
          REELFLOW_STORAGE: 's3',
          REELFLOW_S3_ENDPOINT: `http://127.0.0.1:${port}`,
          REELFLOW_S3_BUCKET: bucket,
          REELFLOW_S3_FORCE_PATH_STYLE: true,
          REELFLOW_S3_ACCESS_KEY_ID: 'S3RVER',
          REELFLOW_S3_SECRET_ACCESS_KEY: 'S3RVER',
        }),
      ];
      const staging = path.join(dir, 'staging');
      for (const store of stores) {
        const { ms, phases, bytes } = await archiveRounds(store, url, staging, base.FFPROBE_PATH);
        const total = ms.reduce((a, b) => a + b, 0);
        const mbps = (bytes * ROUNDS) / 1e6 / (total / 1000);
        rec.log(`${store.kind}: ${ROUNDS} x ${bytes} bytes in ${fmt(total, 0)} ms`);
        const per = (phase: number) => `${fmt(phase / ROUNDS, 0)} ms`;
        rec.note(
          `${store.kind}: per video, download ${per(phases.download)} (${fmt((bytes * ROUNDS) / 1e6 / (phases.download / 1000))} MB/s), ` +
            `checks (sha256, ffprobe) ${per(phases.checks)}, put ${per(phases.put)}`,
        );
        rec.figure({
          metric: `archive throughput, simulator -> ${store.kind === 'fs' ? 'fs store' : 'S3 (s3rver)'} (download, checks, put)`,
          value: `${fmt(mbps)} MB/s (${fmt(total / ROUNDS, 0)} ms per ${fmt(bytes / 1e6, 2)} MB video)`,
          target: '–',
          bullmq: '–',
          met: null,
        });
      }
      rec.note(
        `archive: the same ${(EXTENDS + 1) * 8} s render archived ${ROUNDS} times per store, one at a time, ffprobe and sha256 included`,
      );
    } finally {
      await s3rver.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  },
};
