/**
 * Provider quotas (issue 14), client and simulator together: each simulator refuses in its provider's own words
 * once a quota is spent (Graph 9/2207042, quotaExceeded, uploadLimitExceeded, spam_risk_too_many_posts,
 * errors.requests; KIE's 402 is in kie-credits.test.ts), each client reads that as quota_exhausted with the account and, where computable,
 * the reset; the figures the providers publish (content_publishing_limit, API-Football's headers)
 * read back the simulator's numbers; a moving window frees one unit when its oldest post leaves; a calendar
 * window frees all at the turn of the period; the counters survive a restart with a state file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API_FOOTBALL_CODES, ApiFootballClient } from '../../src/providers/api-football/client';
import { localDate, nextMidnight, PACIFIC } from '../../src/providers/calendar';
import { InstagramClient } from '../../src/providers/instagram/client';
import { TikTokClient } from '../../src/providers/tiktok/client';
import { YouTubeClient } from '../../src/providers/youtube/client';
import { YouTubeDiscoveryClient } from '../../src/providers/youtube/discovery-client';
import { sleep } from '../../src/shared/sleep';
import { ApiFootballSimulator } from '../../src/simulators/api-football';
import { InstagramSimulator } from '../../src/simulators/instagram';
import type { SimulatorServer } from '../../src/simulators/server';
import { TikTokSimulator } from '../../src/simulators/tiktok';
import { YouTubeSimulator } from '../../src/simulators/youtube';
import { waitUntil } from '../helpers/wait';
import { expectProviderError, POLL, TASK_MS } from './support';

/** POST /__sim/quotas, as a test or bench in another process would. */
async function setQuotas(sim: SimulatorServer, body: unknown): Promise<Response> {
  return fetch(`${sim.url}/__sim/quotas`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

async function quotaRefusals(sim: SimulatorServer): Promise<number> {
  const stats = (await (await fetch(`${sim.url}/__sim/stats`)).json()) as { quotaRefusals: number };
  return stats.quotaRefusals;
}

/**
 * Waits for the start of a period of `windowMs` (periods count from the epoch), so a test's requests all fall
 * in one period and a turn of the period is the test's own doing.
 */
async function startOfPeriod(windowMs: number): Promise<number> {
  await sleep(windowMs - (Date.now() % windowMs) + 10);
  return Math.floor(Date.now() / windowMs + 1) * windowMs;
}

describe('calendar days', () => {
  it('midnight Pacific is 08:00 UTC in winter and 07:00 UTC in summer, also across the days the clocks change', () => {
    const at = (iso: string) => nextMidnight(PACIFIC, new Date(iso)).toISOString();
    expect(at('2026-01-15T23:00:00Z')).toBe('2026-01-16T08:00:00.000Z');
    expect(at('2026-07-15T23:00:00Z')).toBe('2026-07-16T07:00:00.000Z');
    // 2026-03-08 starts in PST and ends in PDT; 2026-11-01 the other way round.
    expect(at('2026-03-07T20:00:00Z')).toBe('2026-03-08T08:00:00.000Z');
    expect(at('2026-03-08T19:00:00Z')).toBe('2026-03-09T07:00:00.000Z');
    expect(at('2026-11-01T06:00:00Z')).toBe('2026-11-01T07:00:00.000Z');
    expect(at('2026-11-01T12:00:00Z')).toBe('2026-11-02T08:00:00.000Z');
    // The instant of midnight already belongs to the new day.
    expect(at('2026-11-30T08:00:00Z')).toBe('2026-12-01T08:00:00.000Z');
    expect(localDate(PACIFIC, new Date('2026-11-30T07:59:59Z'))).toBe('2026-11-29');
    expect(nextMidnight('UTC', new Date('2026-11-30T01:00:00Z')).toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });
});

describe('Instagram publishing limit (moving window per IG user)', () => {
  const USER = '17841400000000001';
  const OTHER = '17841400000000002';
  const sim = new InstagramSimulator({ taskDurationMs: TASK_MS });
  const make = (userId = USER) => new InstagramClient({ baseUrl: `${sim.url}/v24.0`, accessToken: 'token', userId, timeoutMs: 2_000 });
  const ready = async (client: InstagramClient): Promise<string> => {
    const { handle } = await client.createUpload({ videoUrl: sim.mediaUrl('clip'), caption: 'Gol', title: 'Gol' });
    await waitUntil(() => client.getStatus(handle), { until: (s) => s.state === 'ready', ...POLL });
    return handle;
  };

  beforeAll(() => sim.start());
  afterEach(() => sim.reset());
  afterAll(() => sim.stop());

  it('content_publishing_limit reads the simulator figures; the knobs are settable over HTTP and refused when bad', async () => {
    expect((await setQuotas(sim, { publishQuota: 3, publishWindowMs: 60_000 })).status).toBe(200);
    const client = make();
    expect(await client.getPublishingLimit()).toEqual({ used: 0, limit: 3, windowSeconds: 60 });
    await client.publish(await ready(client));
    expect(await client.getPublishingLimit()).toEqual({ used: 1, limit: 3, windowSeconds: 60 });
    // Another account's window is its own.
    expect(await make(OTHER).getPublishingLimit()).toEqual({ used: 0, limit: 3, windowSeconds: 60 });

    const bad = await setQuotas(sim, { publishQuota: -1 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/publishQuota/);
    expect(await (await fetch(`${sim.url}/__sim/quotas`)).json()).toEqual({ publishQuota: 3, publishWindowMs: 60_000 });
  });

  it('past the limit publish is quota_exhausted for that user, reset when the oldest post leaves; then one unit frees', async () => {
    const windowMs = 1_500;
    await setQuotas(sim, { publishQuota: 2, publishWindowMs: windowMs });
    const client = make();
    const [c1, c2, c3, c4] = [await ready(client), await ready(client), await ready(client), await ready(client)];
    const before = Date.now();
    await client.publish(c1!);
    const after = Date.now();
    await sleep(300);
    await client.publish(c2!);

    const err = await expectProviderError(client.publish(c3!), 'quota_exhausted');
    expect(err.details).toMatchObject({ code: 2207042, account: USER, status: 400 });
    // Graph stamps posts to the second, so the reset is that stamp + 1 s + the window: never early, at most 1 s late.
    const resetAt = Date.parse(err.details.resetAt!);
    expect(resetAt).toBeGreaterThanOrEqual(before + windowMs);
    expect(resetAt).toBeLessThanOrEqual(after + windowMs + 1_000);
    expect(err.details.retryAfterMs).toBeGreaterThan(0);
    // The same figure the gate can ask for before posting.
    expect((await client.publishingLimitResetAt())?.toISOString()).toBe(err.details.resetAt);
    expect(await make(OTHER).publishingLimitResetAt()).toBeNull();
    // The other account is not parked by this one's quota.
    await make(OTHER).publish(await ready(make(OTHER)));
    expect(await quotaRefusals(sim)).toBe(1);

    // c1 leaves the window: one unit is free, c2 still holds the other.
    await sleep(Math.max(0, after + windowMs + 20 - Date.now()));
    await client.publish(c3!);
    await expectProviderError(client.publish(c4!), 'quota_exhausted');
    expect(await client.getPublishingLimit()).toMatchObject({ used: 2, limit: 2 });
    expect(await quotaRefusals(sim)).toBe(2);
  });
});

describe('YouTube quotas (project units and channel uploads, on the Pacific day)', () => {
  const sim = new YouTubeSimulator({ taskDurationMs: TASK_MS });
  const short = () => ({ videoUrl: sim.mediaUrl('clip'), caption: 'Gol #shorts', title: 'Gol' });
  const make = (overrides: Partial<ConstructorParameters<typeof YouTubeClient>[0]> = {}) =>
    new YouTubeClient({
      uploadBaseUrl: `${sim.url}/upload/youtube/v3`,
      apiBaseUrl: `${sim.url}/youtube/v3`,
      accessToken: 'channel-a',
      timeoutMs: 2_000,
      ...overrides,
    });

  beforeAll(() => sim.start());
  afterEach(() => sim.reset());
  afterAll(() => sim.stop());

  it('videos.insert past the units is 403 quotaExceeded: quota_exhausted until midnight Pacific (DST-correct)', async () => {
    await setQuotas(sim, { dailyUnits: 3_300 });
    expect(await (await fetch(`${sim.url}/__sim/quotas`)).json()).toMatchObject({ dailyUnits: 3_300, insertCost: 1_600, listCost: 1 });
    const summer = make({ account: 'UC-channel-a', now: () => Date.parse('2026-07-15T23:00:00Z') });
    await summer.createUpload(short());
    await summer.createUpload(short());
    const err = await expectProviderError(summer.createUpload(short()), 'quota_exhausted');
    expect(err.details).toMatchObject({
      status: 403,
      code: 'quotaExceeded',
      account: 'UC-channel-a',
      resetAt: '2026-07-16T07:00:00.000Z',
      retryAfterMs: 8 * 3_600_000,
    });
    const winter = make({ now: () => Date.parse('2026-01-15T23:00:00Z') });
    expect((await expectProviderError(winter.createUpload(short()), 'quota_exhausted')).details).toMatchObject({
      account: 'default',
      resetAt: '2026-01-16T08:00:00.000Z',
    });
    expect(sim.stats()).toMatchObject({ submissions: 2, quotaRefusals: 2 });
  });

  it("the channel's upload cap is 400 uploadLimitExceeded, per channel (token)", async () => {
    await setQuotas(sim, { channelUploadsPerDay: 1 });
    await make().createUpload(short());
    const err = await expectProviderError(make({ account: 'UC-a' }).createUpload(short()), 'quota_exhausted');
    expect(err.details).toMatchObject({ status: 400, code: 'uploadLimitExceeded', account: 'UC-a' });
    expect(Date.parse(err.details.resetAt!)).toBe(nextMidnight(PACIFIC).getTime());
    await make({ accessToken: 'channel-b' }).createUpload(short());
    expect(sim.stats()).toMatchObject({ submissions: 2, quotaRefusals: 1 });
  });

  it('a compressed day gives every unit back when it turns; status reads spend listCost', async () => {
    const windowMs = 2_000;
    await setQuotas(sim, { dailyUnits: 1_601, windowMs });
    const turn = await startOfPeriod(windowMs);
    const client = make();
    const { handle } = await client.createUpload(short());
    await client.getStatus(handle);
    // 1600 + 1 spent: even a status read is refused now.
    await expectProviderError(client.getStatus(handle), 'quota_exhausted');
    await expectProviderError(client.createUpload(short()), 'quota_exhausted');
    await sleep(Math.max(0, turn + 20 - Date.now()));
    await client.createUpload(short());
    expect(sim.stats()).toMatchObject({ submissions: 2, quotaRefusals: 2 });
  });

  it('Data API reads (discovery) past their units are quota_exhausted until midnight Pacific, not rate_limited', async () => {
    const channel = sim.discovery.addChannel({ videos: 2 });
    const discovery = new YouTubeDiscoveryClient({
      feedBaseUrl: sim.url,
      apiBaseUrl: `${sim.url}/youtube/v3`,
      apiKey: 'key',
      account: 'project-1',
      timeoutMs: 2_000,
    });
    sim.discovery.setFaults({ quotaUnits: 0 });
    const err = await expectProviderError(discovery.resolve(channel.id), 'quota_exhausted');
    expect(err.details).toMatchObject({ status: 403, code: 'quotaExceeded', account: 'project-1' });
    expect(Math.abs(Date.parse(err.details.resetAt!) - nextMidnight(PACIFIC).getTime())).toBeLessThan(1_000);
    expect(err.message).toMatch(/midnight Pacific/);
    expect(sim.stats().quotaRefusals).toBe(1);
  });
});

describe("TikTok creator's daily posts", () => {
  const sim = new TikTokSimulator({ taskDurationMs: TASK_MS });
  const post = () => ({ videoUrl: sim.mediaUrl('clip'), caption: 'Gol', title: 'Gol' });
  const make = (overrides: Partial<ConstructorParameters<typeof TikTokClient>[0]> = {}) =>
    new TikTokClient({ baseUrl: sim.url, accessToken: 'creator-a', timeoutMs: 2_000, ...overrides });

  beforeAll(() => sim.start());
  afterEach(() => sim.reset());
  afterAll(() => sim.stop());

  it('past the cap init is 403 spam_risk_too_many_posts: quota_exhausted for that creator until the configured midnight', async () => {
    await setQuotas(sim, { creatorPostsPerDay: 1 });
    const now = () => Date.parse('2026-11-30T01:00:00Z');
    await make().createUpload(post());
    const err = await expectProviderError(make({ account: 'open-id-a', now }).createUpload(post()), 'quota_exhausted');
    expect(err.details).toMatchObject({
      status: 403,
      code: 'spam_risk_too_many_posts',
      account: 'open-id-a',
      resetAt: '2026-12-01T00:00:00.000Z',
    });
    // TikTok names no reset: the zone is a setting.
    const madrid = await expectProviderError(make({ now, quotaResetTimeZone: 'Europe/Madrid' }).createUpload(post()), 'quota_exhausted');
    expect(madrid.details).toMatchObject({ account: 'default', resetAt: '2026-11-30T23:00:00.000Z' });
    // Another creator (token) has a day of their own.
    await make({ accessToken: 'creator-b' }).createUpload(post());
    expect(sim.stats()).toMatchObject({ submissions: 2, quotaRefusals: 2 });
  });

  it('a compressed day gives the posts back when it turns; bad knobs are refused naming the field', async () => {
    const windowMs = 1_500;
    await setQuotas(sim, { creatorPostsPerDay: 1, windowMs });
    const turn = await startOfPeriod(windowMs);
    await make().createUpload(post());
    await expectProviderError(make().createUpload(post()), 'quota_exhausted');
    await sleep(Math.max(0, turn + 20 - Date.now()));
    await make().createUpload(post());
    expect(sim.stats().quotaRefusals).toBe(1);

    const bad = await setQuotas(sim, { timeZone: 'Mars/Olympus_Mons' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/timeZone/);
  });
});

describe('TikTok daily cap reported by the status (fail_reason)', () => {
  // Third-party code reports spam_risk_too_many_posts as a FAILED publish's fail_reason too; the simulator refuses
  // at init, so a bare server plays this answer.
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ data: { status: 'FAILED', fail_reason: 'spam_risk_too_many_posts' }, error: { code: 'ok', message: '' } }));
  });
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is quota_exhausted for the creator, not a permanent failure', async () => {
    const client = new TikTokClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      accessToken: 't',
      account: 'open-id-a',
      now: () => Date.parse('2026-11-30T01:00:00Z'),
    });
    const err = await expectProviderError(client.publish('v_pub_url~1'), 'quota_exhausted');
    expect(err.details).toMatchObject({ code: 'spam_risk_too_many_posts', account: 'open-id-a', resetAt: '2026-12-01T00:00:00.000Z' });
  });
});

describe('API-Football daily requests', () => {
  const sim = new ApiFootballSimulator();
  const make = () => new ApiFootballClient({ baseUrl: sim.url, apiKey: 'key', timeoutMs: 2_000 });
  const injuries = (client: ApiFootballClient) => client.injuries({ league: 140, season: 2025 });

  beforeAll(() => sim.start());
  afterEach(() => sim.reset());
  afterAll(() => sim.stop());

  it('lastQuota() reads the remaining-requests headers, errors included', async () => {
    await setQuotas(sim, { perDay: 2 });
    const client = make();
    expect(client.lastQuota()).toBeNull();
    const before = Date.now();
    await injuries(client);
    expect(client.lastQuota()).toMatchObject({ remaining: 1, limit: 2 });
    expect(client.lastQuota()!.at.getTime()).toBeGreaterThanOrEqual(before);
    await injuries(client);
    expect(client.lastQuota()).toMatchObject({ remaining: 0, limit: 2 });
    const err = await expectProviderError(injuries(client), 'quota_exhausted');
    expect(err.details).toMatchObject({
      code: API_FOOTBALL_CODES.dailyQuota,
      account: 'default',
      resetAt: nextMidnight('UTC').toISOString(),
    });
    expect(client.lastQuota()).toMatchObject({ remaining: 0, limit: 2 });
    expect(sim.stats().quotaRefusals).toBe(1);
  });

  it('a compressed day gives the requests back when it turns', async () => {
    const dayWindowMs = 1_500;
    await setQuotas(sim, { perDay: 1, dayWindowMs });
    const turn = await startOfPeriod(dayWindowMs);
    const client = make();
    await injuries(client);
    await expectProviderError(injuries(client), 'quota_exhausted');
    await sleep(Math.max(0, turn + 20 - Date.now()));
    await injuries(client);
    expect(client.lastQuota()).toMatchObject({ remaining: 0, limit: 1 });
    expect(sim.stats().quotaRefusals).toBe(1);
  });
});

describe('quota counters outlive a restart (state file)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'reelflow-quota-state-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("TikTok's posts of the day and YouTube's units are where the last run left them", async () => {
    const stateFile = (name: string) => path.join(dir, `${name}.json`);
    const runs = async <S extends SimulatorServer>(create: () => S, first: (s: S) => Promise<void>, second: (s: S) => Promise<void>) => {
      const a = await create().start();
      await first(a);
      await a.stop();
      const b = await create().start();
      try {
        await second(b);
      } finally {
        await b.stop();
      }
    };

    await runs(
      () => new TikTokSimulator({ stateFile: stateFile('tiktok'), creatorPostsPerDay: 1 }),
      (s) =>
        new TikTokClient({ baseUrl: s.url, accessToken: 'c' })
          .createUpload({ videoUrl: s.mediaUrl('v'), caption: 'x', title: 'x' })
          .then(() => undefined),
      async (s) => {
        await expectProviderError(
          new TikTokClient({ baseUrl: s.url, accessToken: 'c' }).createUpload({ videoUrl: s.mediaUrl('v'), caption: 'x', title: 'x' }),
          'quota_exhausted',
        );
      },
    );

    const yt = (s: YouTubeSimulator) =>
      new YouTubeClient({ uploadBaseUrl: `${s.url}/upload/youtube/v3`, apiBaseUrl: `${s.url}/youtube/v3`, accessToken: 't' });
    await runs(
      () => new YouTubeSimulator({ stateFile: stateFile('youtube'), dailyUnits: 2_000 }),
      (s) =>
        yt(s)
          .createUpload({ videoUrl: s.mediaUrl('v'), caption: 'x', title: 'x' })
          .then(() => undefined),
      async (s) => {
        await expectProviderError(yt(s).createUpload({ videoUrl: s.mediaUrl('v'), caption: 'x', title: 'x' }), 'quota_exhausted');
        expect(s.stats()).toMatchObject({ submissions: 1, quotaRefusals: 1 });
      },
    );
  });
});
