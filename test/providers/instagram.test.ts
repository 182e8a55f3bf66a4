import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NOT_READY } from '../../src/providers/errors';
import { InstagramClient, kindForGraphError } from '../../src/providers/instagram/client';
import { InstagramSimulator } from '../../src/simulators/instagram';
import { expectProviderError, itClassifiesTransportFaults, TASK_MS, POLL } from './support';
import { waitUntil } from '../helpers/wait';
import { sleep } from '../../src/shared/sleep';

const USER = '17841400000000001';

describe('Instagram client against its simulator', () => {
  const sim = new InstagramSimulator({ taskDurationMs: TASK_MS });
  let client: InstagramClient;
  const reel = () => ({ videoUrl: sim.mediaUrl('clip'), caption: 'Gol de chilena #futbol', title: 'Chilena' });
  const make = (overrides: Partial<ConstructorParameters<typeof InstagramClient>[0]> = {}) =>
    new InstagramClient({ baseUrl: `${sim.url}/v24.0`, accessToken: 'token', userId: USER, timeoutMs: 2_000, ...overrides });

  beforeAll(async () => {
    await sim.start();
    client = make();
  });
  afterEach(() => {
    sim.reset();
    sim.publishQuota = Number.POSITIVE_INFINITY;
  });
  afterAll(() => sim.stop());

  it('creates a container, waits for FINISHED, publishes once', async () => {
    sim.setFaults({ neverFinish: true });
    const { handle } = await client.createUpload(reel());
    expect(await client.getStatus(handle)).toEqual({ state: 'processing' });
    const early = await expectProviderError(client.publish(handle), 'transient');
    expect(early.details.code).toBe(NOT_READY);
    sim.setFaults({ neverFinish: false });

    await waitUntil(() => client.getStatus(handle), { until: (s) => s.state === 'ready', ...POLL });
    const post = await client.publish(handle);
    expect(post.postId).toMatch(/^\d{15,}$/);
    expect(await client.getStatus(handle)).toEqual({ state: 'published', postId: post.postId });

    // A retry after a lost answer reads PUBLISHED instead of publishing again.
    expect(await client.publish(handle)).toEqual({ postId: post.postId });
    expect(sim.stats().submissions).toBe(1);

    // A fresh worker without the remembered id finds the media on the account.
    const fresh = await make().getStatus(handle);
    expect(fresh).toMatchObject({ state: 'published', postId: post.postId });
    expect(fresh.state === 'published' && fresh.url).toMatch(/^https:\/\/www\.instagram\.com\/reel\//);
  });

  it('the simulator refuses a second media_publish on the same container', async () => {
    const { handle } = await client.createUpload(reel());
    await waitUntil(() => client.getStatus(handle), { until: (s) => s.state === 'ready', ...POLL });
    await client.publish(handle);
    const again = await fetch(`${sim.url}/v24.0/${USER}/media_publish?creation_id=${handle}&access_token=t`, { method: 'POST' });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: { code: 100, message: 'The media has already been published' } });
  });

  it('429 with Retry-After is rate_limited with retryAfterMs', async () => {
    sim.setFaults({ rateLimitNext: 1 });
    const err = await expectProviderError(client.createUpload(reel()), 'rate_limited');
    expect(err.details).toMatchObject({ status: 429, code: 4, retryAfterMs: 1000 });
    expect(err.message).toContain('fbtrace_id');
  });

  it('the publishing limit (9 / 2207042) is quota_exhausted for the IG user', async () => {
    sim.publishQuota = 1;
    for (const expectOk of [true, false]) {
      const { handle } = await client.createUpload(reel());
      await waitUntil(() => client.getStatus(handle), { until: (s) => s.state === 'ready', ...POLL });
      if (expectOk) await client.publish(handle);
      else
        expect((await expectProviderError(client.publish(handle), 'quota_exhausted')).details).toMatchObject({
          code: 2207042,
          account: USER,
        });
    }
  });

  it('5xx is transient', async () => {
    sim.setFaults({ failNext: 2 });
    await expectProviderError(client.createUpload(reel()), 'transient');
    await expectProviderError(client.getStatus('1'), 'transient');
  });

  it('4xx is permanent with the Graph message kept', async () => {
    const bad = await expectProviderError(client.createUpload({ ...reel(), videoUrl: 'not a url' }), 'permanent');
    expect(bad.message).toContain('video_url');
    expect(bad.details).toMatchObject({ status: 400, code: 100 });

    const denied = await expectProviderError(make({ accessToken: '' }).createUpload(reel()), 'permanent');
    expect(denied.message).toContain('Invalid OAuth access token');
    expect(denied.details).toMatchObject({ status: 401, code: 190 });
  });

  itClassifiesTransportFaults(sim, (timeoutMs) => (timeoutMs ? make({ timeoutMs }) : client).createUpload(reel()));

  it('a failed container is ERROR with its subcode; publish is permanent', async () => {
    sim.setFaults({ failTasks: true });
    const { handle } = await client.createUpload(reel());
    const status = await waitUntil(() => client.getStatus(handle), { until: (s) => s.state !== 'processing', ...POLL });
    expect(status).toMatchObject({ state: 'failed', code: 2207053 });
    await expectProviderError(client.publish(handle), 'permanent');
  });

  it('an old container reads EXPIRED', async () => {
    sim.containerTtlMs = 0;
    try {
      const { handle } = await client.createUpload(reel());
      await sleep(TASK_MS + 20);
      expect(await client.getStatus(handle)).toEqual({ state: 'expired' });
    } finally {
      sim.containerTtlMs = 86_400_000;
    }
  });

  it('a container Graph no longer has (100/33) reads as expired, so a new one is made instead of failing the job', async () => {
    expect(await client.getStatus('17999999999999999')).toEqual({ state: 'expired' });
    // Publishing an id Graph does not have is still an error.
    await expectProviderError(client.publish('17999999999999999'), 'permanent');
  });

  it('stats count container creations and the maximum in flight', async () => {
    sim.setFaults({ neverFinish: true });
    await Promise.all([client.createUpload(reel()), client.createUpload(reel())]);
    expect(sim.stats()).toMatchObject({ submissions: 2, inFlight: 2, maxInFlight: 2 });
  });

  it('classifies Graph error codes per the error table', () => {
    const k = (code: number, subcode?: number, is_transient?: boolean, status = 400) =>
      kindForGraphError(
        { message: 'm', code, ...(subcode ? { error_subcode: subcode } : {}), ...(is_transient !== undefined ? { is_transient } : {}) },
        status,
      );
    expect(k(4)).toBe('rate_limited');
    expect(k(17)).toBe('rate_limited');
    expect(k(32)).toBe('rate_limited');
    expect(k(613)).toBe('rate_limited');
    expect(k(80002)).toBe('rate_limited');
    expect(k(9, 2207042)).toBe('quota_exhausted');
    expect(k(9)).toBe('rate_limited');
    expect(k(4, 2207051)).toBe('permanent');
    expect(k(-2, 2207003)).toBe('transient');
    expect(k(1, 2207057)).toBe('permanent');
    expect(k(24, 2207006)).toBe('permanent');
    expect(k(100, undefined, true)).toBe('transient');
    expect(k(100)).toBe('permanent');
    expect(k(1)).toBe('transient');
    expect(k(190, undefined, false, 500)).toBe('transient');
  });
});
