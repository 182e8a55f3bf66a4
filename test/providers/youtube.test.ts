import net, { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NOT_READY } from '../../src/providers/errors';
import { SIM_VIDEO_BYTES } from '../../src/simulators/server';
import { kindForGoogleError, YouTubeClient } from '../../src/providers/youtube/client';
import { YouTubeSimulator } from '../../src/simulators/youtube';
import { expectProviderError, itClassifiesTransportFaults, TASK_MS, POLL } from './support';
import { waitUntil } from '../helpers/wait';

describe('YouTube client against its simulator', () => {
  const sim = new YouTubeSimulator({ taskDurationMs: TASK_MS });
  let client: YouTubeClient;
  const short = () => ({ videoUrl: sim.mediaUrl('clip'), caption: 'Gol de chilena #shorts', title: 'Chilena <en> el 90' });
  const make = (overrides: Partial<ConstructorParameters<typeof YouTubeClient>[0]> = {}) =>
    new YouTubeClient({
      uploadBaseUrl: `${sim.url}/upload/youtube/v3`,
      apiBaseUrl: `${sim.url}/youtube/v3`,
      accessToken: 'token',
      timeoutMs: 2_000,
      ...overrides,
    });

  beforeAll(async () => {
    await sim.start();
    client = make();
  });
  afterEach(() => sim.reset());
  afterAll(() => sim.stop());

  it('uploads through a resumable session, then processing becomes published', async () => {
    sim.setFaults({ neverFinish: true });
    const { handle } = await client.createUpload(short());
    expect(handle).toMatch(/^[\w-]{11}$/);
    expect(await client.getStatus(handle)).toEqual({ state: 'processing' });
    const early = await expectProviderError(client.publish(handle), 'transient');
    expect(early.details.code).toBe(NOT_READY);
    sim.setFaults({ neverFinish: false });

    const done = await waitUntil(() => client.getStatus(handle), { until: (s) => s.state !== 'processing', ...POLL });
    expect(done).toEqual({ state: 'published', postId: handle, url: `https://www.youtube.com/shorts/${handle}` });
    expect(await client.publish(handle)).toEqual({ postId: handle, url: `https://www.youtube.com/shorts/${handle}` });
    // One session opened (the paid call), one PUT, then status reads.
    expect(sim.stats().submissions).toBe(1);
  });

  it('resumes after 308 Resume Incomplete from the stored Range', async () => {
    sim.maxBytesPerPut = 1000;
    const { handle } = await client.createUpload(short());
    expect(handle).toBeTruthy();
    // Session + ceil(4096 / 1000) PUTs.
    expect(sim.stats().requests).toBe(1 + Math.ceil(SIM_VIDEO_BYTES / 1000));
  });

  it('after a 5xx mid-upload, queries what was stored and resumes', async () => {
    sim.maxBytesPerPut = 1500;
    sim.failNextPuts = 1;
    const { handle } = await client.createUpload(short());
    expect(handle).toBeTruthy();
    // Session, PUT (503 after 1500 bytes), status query (308), 2 more PUTs.
    expect(sim.stats().requests).toBe(5);
    expect(sim.stats().submissions).toBe(1);
  });

  it('429 with Retry-After is rate_limited with retryAfterMs', async () => {
    sim.setFaults({ rateLimitNext: 1 });
    const err = await expectProviderError(client.createUpload(short()), 'rate_limited');
    expect(err.details).toMatchObject({ status: 429, code: 'rateLimitExceeded', retryAfterMs: 1000 });
  });

  it('5xx is transient', async () => {
    sim.setFaults({ failNext: 1 });
    const err = await expectProviderError(client.getStatus('abc'), 'transient');
    expect(err.details).toMatchObject({ status: 500, code: 'backendError' });
  });

  it('a video host that fails before the upload is marked unsent: no session opened, nothing spent at Google', async () => {
    const before = sim.stats().submissions;
    const err = await expectProviderError(
      client.createUpload({ ...short(), videoUrl: `http://127.0.0.1:${sim.port}/missing.mp4` }),
      'permanent',
    );
    expect(err.message).toContain('video download failed');
    expect(err.details.unsent).toBe(true);
    expect(sim.stats().submissions).toBe(before);
  });

  it('4xx is permanent with the Google message kept', async () => {
    const denied = await expectProviderError(make({ accessToken: '' }).createUpload(short()), 'permanent');
    expect(denied.details).toMatchObject({ status: 401, code: 'required' });
    expect(denied.message).toContain('Request is missing required authentication credential');

    const missingDownload = await expectProviderError(
      client.createUpload({ ...short(), videoUrl: `http://127.0.0.1:${sim.port}/missing.mp4` }),
      'permanent',
    );
    expect(missingDownload.message).toContain('video download failed');
  });

  itClassifiesTransportFaults(sim, (timeoutMs) => (timeoutMs ? make({ timeoutMs }) : client).getStatus('abc'));

  it('failed processing is reported and publish is permanent', async () => {
    sim.setFaults({ failTasks: true });
    const { handle } = await client.createUpload(short());
    const status = await waitUntil(() => client.getStatus(handle), { until: (s) => s.state !== 'processing', ...POLL });
    expect(status).toMatchObject({ state: 'failed', code: 'codec' });
    await expectProviderError(client.publish(handle), 'permanent');
    expect(await client.getStatus('nonexistent')).toMatchObject({ state: 'failed', code: 'notFound' });
  });

  it('stats count sessions and the maximum number of videos processing', async () => {
    sim.setFaults({ neverFinish: true });
    await Promise.all([client.createUpload(short()), client.createUpload(short())]);
    expect(sim.stats()).toMatchObject({ submissions: 2, inFlight: 2, maxInFlight: 2 });
  });

  describe('the cover frame (thumbnails.set)', () => {
    // A JPEG as far as anyone checks without decoding it: SOI marker, some bytes, EOI.
    const jpeg = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
      Buffer.from('reel cover frame '.repeat(64)),
      Buffer.from([0xff, 0xd9]),
    ]);
    const withCover = (name: string, bytes: Buffer) => {
      sim.media.add(name, bytes, { ext: 'jpg' });
      return { ...short(), coverUrl: sim.media.mediaUrl(name) };
    };

    it('is set on the uploaded video with the exact bytes, for 50 units', async () => {
      const upload = await client.createUpload(withCover('cover', jpeg));
      expect(upload).toEqual({ handle: expect.stringMatching(/^[\w-]{11}$/) });
      const [cover, ...more] = sim.thumbnailsSet();
      expect(more).toEqual([]);
      expect(cover).toMatchObject({ videoId: upload.handle, contentType: 'image/jpeg' });
      expect(cover!.bytes.equals(jpeg)).toBe(true);
      // The simulator's one Cloud project spent the upload's units and the cover's.
      expect(sim.units.used('project')).toBe(1_600 + 50);
    });

    it('a cover past the daily units is reported (quotaExceeded), the upload kept', async () => {
      sim.units.configure({ limit: 1_600 + 49 });
      const upload = await client.createUpload(withCover('cover', jpeg));
      expect(upload.coverError).toContain('quotaExceeded');
      expect(sim.stats()).toMatchObject({ submissions: 1, quotaRefusals: 1 });
    });

    it('a channel that may not set thumbnails (403 forbidden): the video is uploaded once and the reason reported', async () => {
      sim.thumbnailsForbidden = true;
      const upload = await make({ coverRetryMs: 10 }).createUpload(withCover('cover', jpeg));
      expect(upload.handle).toMatch(/^[\w-]{11}$/);
      expect(upload.coverError).toContain('may not set custom thumbnails');
      expect(upload.coverError).toContain('(forbidden)');
      expect(sim.thumbnailsSet()).toEqual([]);
      // One upload session (the paid call): nothing about the cover may start a second one.
      expect(sim.stats().submissions).toBe(1);
    });

    it('a transient refusal is tried once more; a second one is reported, not thrown', async () => {
      sim.failNextThumbnails = 1;
      const once = await make({ coverRetryMs: 10 }).createUpload(withCover('cover', jpeg));
      expect(once.coverError).toBeUndefined();
      expect(sim.thumbnailsSet().map((t) => t.videoId)).toEqual([once.handle]);

      sim.failNextThumbnails = 2;
      const twice = await make({ coverRetryMs: 10 }).createUpload(withCover('cover', jpeg));
      expect(twice.coverError).toContain('backendError');
      expect(sim.thumbnailsSet()).toHaveLength(1);
      expect(sim.stats().submissions).toBe(2);
    });

    it('a cover host that never answers: the step ends at coverTimeoutMs, reported, the upload kept', async () => {
      const silent = net.createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const started = Date.now();
        const { port } = silent.address() as AddressInfo;
        const upload = await make({ coverTimeoutMs: 300 }).createUpload({ ...short(), coverUrl: `http://127.0.0.1:${port}/cover.jpg` });
        expect(upload.coverError).toContain('gave up after 300 ms (coverTimeoutMs)');
        expect(Date.now() - started).toBeLessThan(1_500);
        expect(sim.stats().submissions).toBe(1);
      } finally {
        silent.close();
      }
    });

    it('a cover that is not an image is refused by YouTube (400 invalidImage), and the video stays', async () => {
      const upload = await client.createUpload(withCover('not-a-cover', Buffer.from('<html>not found</html>')));
      expect(upload.coverError).toContain('invalidImage');
      expect(sim.thumbnailsSet()).toEqual([]);
      expect(await client.getStatus(upload.handle)).not.toMatchObject({ state: 'failed' });
    });
  });

  it('maps Google error reasons', () => {
    expect(kindForGoogleError(['quotaExceeded'], 403)).toBe('quota_exhausted');
    expect(kindForGoogleError(['dailyLimitExceeded'], 403)).toBe('quota_exhausted');
    expect(kindForGoogleError(['uploadLimitExceeded'], 400)).toBe('quota_exhausted');
    expect(kindForGoogleError(['userRateLimitExceeded'], 403)).toBe('rate_limited');
    expect(kindForGoogleError(['rateLimitExceeded'], 403)).toBe('rate_limited');
    expect(kindForGoogleError(['backendError'], 503)).toBe('transient');
    expect(kindForGoogleError([], 502)).toBe('transient');
    expect(kindForGoogleError(['invalidTitle'], 400)).toBe('permanent');
    expect(kindForGoogleError(['forbidden'], 403)).toBe('permanent');
  });
});
