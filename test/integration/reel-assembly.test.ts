/**
 * Reel assembly on real ffmpeg and ffprobe, from the VEO3 simulator's real clips
 * (generate and extend through the real KIE client): both modes' timelines, the
 * checks of the final file, a retried assembly that encodes nothing, and a clip
 * ffprobe cannot read, named by its segment.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KieVideoClient } from '../../src/providers/veo3/client';
import { Veo3Simulator } from '../../src/simulators/veo3';
import { assembleReel, checkCut, moovFirst, type ReelConfig, type ReelInput } from '../../src/media/reel';
import { probe } from '../helpers/probe';
import { waitUntil } from '../helpers/wait';

let sim: Veo3Simulator;
let kie: KieVideoClient;
let dir: string;
let config: ReelConfig;

beforeAll(async () => {
  sim = await new Veo3Simulator({ taskDurationMs: 50 }).start();
  kie = new KieVideoClient({ baseUrl: sim.url, apiKey: 'sim-key' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reelflow-reel-'));
  config = {
    mediaDir: dir,
    mediaBaseUrl: 'http://127.0.0.1:9/media',
    preset: 'ultrafast',
    logoPath: path.resolve(__dirname, '../../assets/logo.png'),
    font: 'DejaVu Sans',
    ffmpeg: 'ffmpeg',
    ffprobe: 'ffprobe',
    maxDownloadBytes: 100_000_000,
    allowPrivateHosts: true,
  };
});
afterAll(async () => {
  await sim.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

async function finished(taskId: string): Promise<string> {
  return waitUntil(
    async () => {
      const s = await kie.getStatus(taskId);
      return s.state === 'succeeded' ? s.videoUrl : undefined;
    },
    { what: `task ${taskId}` },
  );
}

const segment = (index: number, videoUrl: string) => ({
  index,
  videoUrl,
  spokenLine: `Segmento ${index}: cuesta 6,2 millones y suma 58 puntos.`,
  onScreenText: ['Precio: 6,2 M€', '9,4 pts por millón'],
});

describe('assembleReel', () => {
  it('independent: four clips end to end, 32 s 1080x1920 H.264/AAC, faststart, -14 LUFS, a cover; run again, encodes nothing', async () => {
    const urls: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const { taskId } = await kie.submit({ prompt: `Independent shot ${i} of a football studio`, aspectRatio: '9:16' });
      urls.push(await finished(taskId));
    }
    const input: ReelInput = {
      key: 'independent-reel',
      mode: 'independent',
      segmentSeconds: 8,
      segments: urls.map((u, i) => segment(i + 1, u)),
    };
    const reel = await assembleReel(config, input);
    expect(reel.source).toBe('concat');
    expect(reel.timeline.map((t) => [t.start, t.end])).toEqual([
      [0, expect.closeTo(8, 1)],
      [expect.closeTo(8, 1), expect.closeTo(16, 1)],
      [expect.closeTo(16, 1), expect.closeTo(24, 1)],
      [expect.closeTo(24, 1), expect.closeTo(32, 1)],
    ]);
    const final = path.join(dir, reel.file);
    const p = await probe(final);
    expect(Number(p.format.duration)).toBeCloseTo(32, 0);
    expect(p.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1080, height: 1920 });
    expect(p.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', channels: 2 });
    expect(await moovFirst(final)).toBe(true);
    expect(Math.abs(reel.loudnessLufs - -14)).toBeLessThanOrEqual(1.5);
    expect((await fs.stat(path.join(dir, 'independent-reel', 'cover.jpg'))).size).toBeGreaterThan(1000);
    expect(reel.videoUrl).toBe('http://127.0.0.1:9/media/independent-reel/final.mp4');

    const before = (await fs.stat(final)).mtimeMs;
    const again = await assembleReel(config, input);
    expect(again).toEqual(reel);
    expect((await fs.stat(final)).mtimeMs).toBe(before);
  });

  it('chained: each extend returns the whole video so far, so the last link is the reel and the links give the cut points', async () => {
    const first = await kie.submit({ prompt: 'Chained shot 1', aspectRatio: '9:16' });
    const urls = [await finished(first.taskId)];
    let previous = first.taskId;
    for (let i = 2; i <= 4; i++) {
      const { taskId } = await kie.extend({ taskId: previous, prompt: `Chained shot ${i}` });
      urls.push(await finished(taskId));
      previous = taskId;
    }
    expect(sim.stats().submissions).toBeGreaterThanOrEqual(4);
    const reel = await assembleReel(config, {
      key: 'chained-reel',
      mode: 'chained',
      segmentSeconds: 8,
      segments: urls.map((u, i) => segment(i + 1, u)),
    });
    expect(reel.source).toBe('chained-whole');
    expect(reel.durationSeconds).toBeCloseTo(32, 0);
    expect(reel.timeline.map((t) => Math.round(t.end))).toEqual([8, 16, 24, 32]);
  });

  it('a clip ffprobe cannot read is an error naming its segment, and the next attempt downloads it again', async () => {
    const urls: string[] = [];
    for (let i = 1; i <= 2; i++)
      urls.push(await finished((await kie.submit({ prompt: `Bad clip test ${i}`, aspectRatio: '9:16' })).taskId));
    const input: ReelInput = { key: 'bad-clip', mode: 'independent', segmentSeconds: 8, segments: urls.map((u, i) => segment(i + 1, u)) };
    // Segment 1 is already on disk; segment 2's download is garbage.
    const firstClip = path.join(dir, 'bad-clip');
    await fs.mkdir(firstClip, { recursive: true });
    const ok = await fetch(urls[0]!);
    await fs.writeFile(path.join(firstClip, 'segment-1.mp4'), Buffer.from(await ok.arrayBuffer()));
    sim.corruptNextVideos = 1;
    await expect(assembleReel(config, input)).rejects.toThrow(/segment 2: ffprobe cannot read its clip/);
    await expect(fs.access(path.join(firstClip, 'segment-2.mp4'))).rejects.toThrow();
    const reel = await assembleReel(config, input);
    expect(reel.durationSeconds).toBeCloseTo(16, 0);
  });

  it('checkCut names what is wrong with a file that is not a publishable reel', async () => {
    const url = await finished((await kie.submit({ prompt: 'A raw clip, not a reel', aspectRatio: '9:16' })).taskId);
    const raw = path.join(dir, 'raw.mp4');
    await fs.writeFile(raw, Buffer.from(await (await fetch(url)).arrayBuffer()));
    await expect(checkCut(config, raw, 32)).rejects.toThrow(/lasts 8\.\d+ s, the segments add up to 32\.00 s.*is 720x1280, not 1080x1920/);
    // A good cut cut short (a full disk): its index is intact at the front, its media is not.
    const good = path.join(dir, 'independent-reel', 'final.mp4');
    const short = path.join(dir, 'short.mp4');
    await fs.copyFile(good, short);
    await fs.truncate(short, Math.floor((await fs.stat(good)).size / 2));
    await expect(checkCut(config, short, 32)).rejects.toThrow(/it is cut short: its last MP4 box ends past the end of the file/);
  });
});
