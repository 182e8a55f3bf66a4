/**
 * The archive's download and checks on a real HTTP server (no Temporal): a staged file is continued by range,
 * restarted when the server ignores ranges, followed through a redirect with its range; a gone file is a permanent
 * failure; the checks refuse an empty file, a size or sha256 other than expected, and bytes ffprobe cannot read.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stageDownload, verifyStaged } from '../../src/archive/download';
import { ProviderError } from '../../src/providers/errors';

const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 251));
const dir = path.join(os.tmpdir(), `reelflow-archive-download-${process.pid}`);
const requests: Array<{ path: string; range: string | undefined }> = [];
let base = '';
let server: http.Server;

beforeAll(async () => {
  await fs.mkdir(dir, { recursive: true });
  server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', range: req.headers.range });
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (req.url === '/redirect') return res.writeHead(302, { Location: '/ranged' }).end();
    if (req.url === '/gone') return res.writeHead(404).end();
    if (req.url === '/ranged' && m) {
      const start = Number(m[1]);
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${bytes.length - 1}/${bytes.length}`, 'Content-Length': bytes.length - start });
      return res.end(bytes.subarray(start));
    }
    // /plain ignores ranges, as a server without them does.
    res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': bytes.length });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await fs.rm(dir, { recursive: true, force: true });
});

/** A staged file cut at `cut` bytes by an earlier attempt (and its sidecar, as that attempt wrote it). */
async function cutShort(name: string, url: string, cut: number): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, bytes.subarray(0, cut));
  await fs.writeFile(`${file}.json`, JSON.stringify({ url, total: bytes.length, contentType: 'video/mp4' }));
  return file;
}

const opts = { allowPrivateHosts: true, maxBytes: 1 << 20 };

describe('stageDownload', () => {
  it('continues a staged file by range', async () => {
    const file = await cutShort('ranged.mp4', `${base}/ranged`, 30_000);
    requests.length = 0;
    const staged = await stageDownload(`${base}/ranged`, file, opts);
    expect(staged).toMatchObject({ bytes: bytes.length, total: bytes.length, resumedFrom: 30_000 });
    expect(requests).toEqual([{ path: '/ranged', range: 'bytes=30000-' }]);
    expect((await fs.readFile(file)).equals(bytes)).toBe(true);
    // Whole already: a second call asks nothing.
    expect(await stageDownload(`${base}/ranged`, file, opts)).toMatchObject({ bytes: bytes.length });
    expect(requests).toHaveLength(1);
  });

  it('starts over when the server ignores the range', async () => {
    const file = await cutShort('plain.mp4', `${base}/plain`, 30_000);
    const staged = await stageDownload(`${base}/plain`, file, opts);
    expect(staged).toMatchObject({ bytes: bytes.length, resumedFrom: 0 });
    expect((await fs.readFile(file)).equals(bytes)).toBe(true);
  });

  it('follows a redirect with its range', async () => {
    const file = await cutShort('redirect.mp4', `${base}/redirect`, 50_000);
    requests.length = 0;
    await stageDownload(`${base}/redirect`, file, opts);
    expect(requests).toEqual([
      { path: '/redirect', range: 'bytes=50000-' },
      { path: '/ranged', range: 'bytes=50000-' },
    ]);
    expect((await fs.readFile(file)).equals(bytes)).toBe(true);
  });

  it('a file that is gone is a permanent failure, naming the status', async () => {
    const err = await stageDownload(`${base}/gone`, path.join(dir, 'gone.mp4'), opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'permanent', details: { code: 'source_gone', status: 404 } });
  });
});

describe('verifyStaged', () => {
  const paths = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' };
  it('names what is wrong, as a transient failure (downloaded again, never rendered again)', async () => {
    const file = path.join(dir, 'check.mp4');
    await fs.writeFile(file, '');
    const check = (staged: { bytes: number; total: number }, expect_: { sha256?: string; bytes?: number } = {}) =>
      verifyStaged(file, staged, expect_, paths).then(
        () => ['passed', ''],
        (e: ProviderError) => [e.kind, e.message],
      );
    expect(await check({ bytes: 0, total: 0 })).toEqual([
      'transient',
      'archive: corrupt download: the file is empty; downloading it again',
    ]);
    await fs.writeFile(file, bytes);
    expect(await check({ bytes: bytes.length, total: bytes.length + 1 })).toEqual([
      'transient',
      `archive: corrupt download: ${bytes.length} bytes on disk, the server announced ${bytes.length + 1}; downloading it again`,
    ]);
    expect(await check({ bytes: bytes.length, total: bytes.length }, { bytes: 5 })).toEqual([
      'transient',
      `archive: corrupt download: ${bytes.length} bytes, expected 5; downloading it again`,
    ]);
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect((await check({ bytes: bytes.length, total: bytes.length }, { sha256: 'f'.repeat(64) }))[1]).toMatch(
      new RegExp(`^archive: corrupt download: sha256 ${sha.slice(0, 12)}…, expected ffffffffffff…`),
    );
    // The right size and sha256, but not a video.
    expect((await check({ bytes: bytes.length, total: bytes.length }, { sha256: sha }))[1]).toMatch(
      /^archive: corrupt download: ffprobe cannot read it as a video/,
    );
  });
});
