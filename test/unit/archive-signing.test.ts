/**
 * The fs store's signed URLs, through the media server that serves them (the API mounts the same mediaReply):
 * a valid URL reads our bytes (ranges too); no signature is 401; a tampered key, expiry or signature and an
 * expired URL are 403, and none of them reads a byte.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signArchiveUrl } from '../../src/archive/signing';
import { startMediaServer, type MediaServer } from '../../src/media/store';

const KEY = 'k'.repeat(40);
const dir = path.join(os.tmpdir(), `reelflow-archive-signing-${process.pid}`);
const bytes = Buffer.from('not really an mp4, but bytes are bytes '.repeat(50));
let media: MediaServer;

beforeAll(async () => {
  await fs.mkdir(path.join(dir, 'videos'), { recursive: true });
  await fs.writeFile(path.join(dir, 'videos', 'rec-1.mp4'), bytes);
  await fs.writeFile(path.join(dir, 'videos', 'rec-2.mp4'), Buffer.from('another video'));
  media = await startMediaServer({ mediaDir: path.join(dir, 'reels'), archive: { dir, signingKey: KEY } });
});
afterAll(async () => {
  await media.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

const inAnHour = () => new Date(Date.now() + 3_600_000);

describe('signed archive URLs', () => {
  it('a signed, unexpired URL reads the stored bytes, whole or by range', async () => {
    const url = signArchiveUrl(media.url, 'videos/rec-1.mp4', KEY, inAnHour());
    expect(url).toMatch(/\/media\/archive\/videos\/rec-1\.mp4\?expires=\d+&signature=[0-9a-f]{64}$/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await fetch(url, { headers: { Range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(10, 20))).toBe(true);
  });

  it('no signature is 401', async () => {
    const res = await fetch(`${media.url}/archive/videos/rec-1.mp4`);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('a signed URL is required');
  });

  it('an expired URL is 403, though its signature is right', async () => {
    const url = signArchiveUrl(media.url, 'videos/rec-1.mp4', KEY, new Date(Date.now() - 1_000));
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('this URL has expired');
  });

  it('a tampered URL is 403: another key, a later expiry, a changed signature, another signing key', async () => {
    const good = new URL(signArchiveUrl(media.url, 'videos/rec-1.mp4', KEY, inAnHour()));
    const otherVideo = new URL(good);
    otherVideo.pathname = otherVideo.pathname.replace('rec-1', 'rec-2');
    const later = new URL(good);
    later.searchParams.set('expires', String(Number(good.searchParams.get('expires')) + 86_400));
    const flipped = new URL(good);
    const sig = good.searchParams.get('signature')!;
    flipped.searchParams.set('signature', `${sig[0] === 'a' ? 'b' : 'a'}${sig.slice(1)}`);
    const foreign = new URL(signArchiveUrl(media.url, 'videos/rec-1.mp4', 'x'.repeat(40), inAnHour()));
    for (const url of [otherVideo, later, flipped, foreign]) {
      const res = await fetch(url);
      expect(res.status, url.toString()).toBe(403);
      expect(await res.text()).toBe('invalid signature');
    }
  });

  it('a path outside the archive is not served, signed or not', async () => {
    const url = new URL(signArchiveUrl(media.url, 'videos/rec-1.mp4', KEY, inAnHour()));
    url.pathname = url.pathname.replace('videos/rec-1.mp4', 'videos/..%2F..%2Fetc%2Fpasswd');
    expect((await fetch(url)).status).toBe(404);
  });
});
