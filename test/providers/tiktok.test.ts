import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NOT_READY } from '../../src/providers/errors';
import { kindForTikTokCode, quotePostIds, TikTokClient } from '../../src/providers/tiktok/client';
import { TikTokSimulator } from '../../src/simulators/tiktok';
import { expectProviderError, itClassifiesTransportFaults, TASK_MS, POLL } from './support';
import { waitUntil } from '../helpers/wait';

describe('TikTok client against its simulator', () => {
  const sim = new TikTokSimulator({ taskDurationMs: TASK_MS });
  let client: TikTokClient;
  const post = () => ({ videoUrl: sim.mediaUrl('clip'), caption: 'Gol de chilena #futbol', title: 'Chilena' });
  const make = (overrides: Partial<ConstructorParameters<typeof TikTokClient>[0]> = {}) =>
    new TikTokClient({ baseUrl: sim.url, accessToken: 'token', privacyLevel: 'SELF_ONLY', timeoutMs: 2_000, ...overrides });

  beforeAll(async () => {
    await sim.start();
    client = make();
  });
  afterEach(() => sim.reset());
  afterAll(() => sim.stop());

  it('inits a PULL_FROM_URL post and reports the int64 post id exactly', async () => {
    sim.setFaults({ neverFinish: true });
    const { handle } = await client.createUpload(post());
    expect(handle).toMatch(/^v_pub_url~v2-1\./);
    expect(await client.getStatus(handle)).toEqual({ state: 'processing' });
    const early = await expectProviderError(client.publish(handle), 'transient');
    expect(early.details.code).toBe(NOT_READY);
    sim.setFaults({ neverFinish: false });

    const done = await waitUntil(() => client.getStatus(handle), { until: (s) => s.state !== 'processing', ...POLL });
    const raw = await fetch(`${sim.url}/v2/post/publish/status/fetch/`, {
      method: 'POST',
      headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' },
      body: JSON.stringify({ publish_id: handle }),
    }).then((r) => r.text());
    const wireId = /"publicaly_available_post_id":\[(\d+)\]/.exec(raw)?.[1];
    expect(wireId).toMatch(/^\d{19}$/);
    expect(done).toEqual({ state: 'published', postId: wireId });
    expect(await client.publish(handle)).toEqual({ postId: wireId });
    expect(sim.stats().submissions).toBe(1);
  });

  it("names the reel's cover frame by its time (video_cover_timestamp_ms); without one TikTok picks", async () => {
    await client.createUpload({ ...post(), coverUrl: 'https://media.example.com/r1/cover.jpg', coverAtMs: 1_500 });
    await client.createUpload(post());
    expect(sim.coverTimestamps()).toEqual([1_500, null]);
  });

  it('429 with Retry-After is rate_limited with retryAfterMs', async () => {
    sim.setFaults({ rateLimitNext: 1 });
    const err = await expectProviderError(client.createUpload(post()), 'rate_limited');
    expect(err.details).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retryAfterMs: 1000 });
    expect(err.message).toContain('log_id');
  });

  it('5xx is transient', async () => {
    sim.setFaults({ failNext: 2 });
    await expectProviderError(client.createUpload(post()), 'transient');
    const err = await expectProviderError(client.getStatus('x'), 'transient');
    expect(err.details).toMatchObject({ status: 503, code: 'internal_error' });
  });

  it('4xx is permanent with the TikTok message kept', async () => {
    const bad = await expectProviderError(make({ privacyLevel: 'EVERYONE' }).createUpload(post()), 'permanent');
    expect(bad.details).toMatchObject({ status: 400, code: 'invalid_params' });
    expect(bad.message).toContain('privacy_level');

    const denied = await expectProviderError(make({ accessToken: '' }).createUpload(post()), 'permanent');
    expect(denied.details).toMatchObject({ status: 401, code: 'access_token_invalid' });
  });

  itClassifiesTransportFaults(sim, (timeoutMs) => (timeoutMs ? make({ timeoutMs }) : client).getStatus('x'));

  it('FAILED carries fail_reason; publish is permanent', async () => {
    sim.setFaults({ failTasks: true });
    const { handle } = await client.createUpload(post());
    const status = await waitUntil(() => client.getStatus(handle), { until: (s) => s.state !== 'processing', ...POLL });
    expect(status).toMatchObject({ state: 'failed', code: 'file_format_check_failed' });
    const err = await expectProviderError(client.publish(handle), 'permanent');
    expect(err.details.code).toBe('file_format_check_failed');
  });

  it('stats count inits and the maximum in flight', async () => {
    sim.setFaults({ neverFinish: true });
    await client.createUpload(post());
    await client.createUpload(post());
    expect(sim.stats()).toMatchObject({ submissions: 2, inFlight: 2, maxInFlight: 2 });
  });

  it('maps TikTok error codes and keeps int64 ids as strings', () => {
    expect(kindForTikTokCode('rate_limit_exceeded', 429)).toBe('rate_limited');
    expect(kindForTikTokCode('spam_risk_too_many_posts', 403)).toBe('quota_exhausted');
    expect(kindForTikTokCode('reached_active_user_cap', 403)).toBe('rate_limited');
    expect(kindForTikTokCode('internal_error', 500)).toBe('transient');
    expect(kindForTikTokCode('url_ownership_unverified', 403)).toBe('permanent');
    expect(kindForTikTokCode('invalid_params', 200)).toBe('permanent');
    expect(JSON.parse(quotePostIds('{"publicaly_available_post_id": [7234567890123456789, 7234567890123456790]}'))).toEqual({
      publicaly_available_post_id: ['7234567890123456789', '7234567890123456790'],
    });
    expect(quotePostIds('{"publicaly_available_post_id":[]}')).toBe('{"publicaly_available_post_id":[]}');
  });
});
