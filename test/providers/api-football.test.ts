/**
 * The API-Football client: the `errors` envelope ([] when fine, an object when
 * not, on HTTP 200), each error's kind, paging and the rate-limit headers,
 * against its simulator and against a bare server for the shapes the
 * simulator does not send.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API_FOOTBALL_CODES, ApiFootballClient, currentSeason, msUntilReset } from '../../src/providers/api-football/client';
import { SIM_PLAYERS } from '../../src/simulators/api-football-data';
import { API_FOOTBALL_PAGE_SIZE, ApiFootballSimulator } from '../../src/simulators/api-football';
import { expectProviderError, itClassifiesTransportFaults } from './support';

const LEAGUE = 140;
const SEASON = 2025;

describe('API-Football client against its simulator', () => {
  const sim = new ApiFootballSimulator();
  const make = (overrides: Partial<ConstructorParameters<typeof ApiFootballClient>[0]> = {}) =>
    new ApiFootballClient({ baseUrl: sim.url, apiKey: 'key', timeoutMs: 2_000, ...overrides });

  beforeAll(() => sim.start());
  afterEach(() => sim.reset());
  afterAll(() => sim.stop());

  it('reads every players page (20 a page, paging.total) and the rate-limit headers of each answer', async () => {
    const client = make();
    const first = await client.playersPage({ league: LEAGUE, season: SEASON, page: 1 });
    const total = Math.ceil(SIM_PLAYERS.length / API_FOOTBALL_PAGE_SIZE);
    expect(first.paging).toEqual({ current: 1, total });
    expect(total).toBeGreaterThanOrEqual(4);
    const ids = first.items.map((i) => i.player.id);
    for (let page = 2; page <= total; page++) {
      const next = await client.playersPage({ league: LEAGUE, season: SEASON, page });
      expect(next.paging.current).toBe(page);
      ids.push(...next.items.map((i) => i.player.id));
      expect(next.rateLimit).toEqual({ dailyLimit: 100, dailyRemaining: 100 - page, minuteLimit: 10, minuteRemaining: 10 - page });
    }
    expect(ids).toEqual(SIM_PLAYERS.map((p) => p.id));
    expect(first.items[0]!.statistics[0]!.games?.rating).toBeTypeOf('number');
    // Only the key header goes out (extra headers are said to get calls refused).
    expect(sim.state.log.map((l) => l.query.page)).toEqual(Array.from({ length: total }, (_, i) => String(i + 1)));
  });

  it('reads injuries and next fixtures; season goes with next only when configured', async () => {
    const injuries = await make().injuries({ league: LEAGUE, season: SEASON });
    expect(injuries.items.map((i) => i.player.type)).toContain('Questionable');
    const fixtures = await make().nextFixtures({ league: LEAGUE, season: SEASON, next: 10 });
    expect(fixtures.items).toHaveLength(10);
    await make({ fixturesWithSeason: true }).nextFixtures({ league: LEAGUE, season: SEASON, next: 5 });
    expect(sim.state.log.filter((l) => l.path === '/fixtures').map((l) => l.query)).toEqual([
      { league: '140', next: '10' },
      { league: '140', next: '5', season: String(SEASON) },
    ]);
  });

  it('a refused key is permanent (errors.token on HTTP 200)', async () => {
    sim.configure({ validKey: 'the-real-key' });
    const err = await expectProviderError(make({ apiKey: 'wrong' }).injuries({ league: LEAGUE, season: SEASON }), 'permanent');
    expect(err.details).toMatchObject({ status: 200, code: API_FOOTBALL_CODES.badKey });
    expect(err.message).toMatch(/API key was refused \(errors\.token: Error\/Missing application key/);
    await make({ apiKey: 'the-real-key' }).injuries({ league: LEAGUE, season: SEASON });
  });

  it('a spent daily quota is quota_exhausted until the configured reset (errors.requests on HTTP 200)', async () => {
    sim.configure({ perDay: 1 });
    const now = Date.parse('2026-11-29T22:30:00Z');
    const client = make({ quotaResetUtc: '00:00', now: () => now });
    await client.injuries({ league: LEAGUE, season: SEASON });
    const err = await expectProviderError(client.injuries({ league: LEAGUE, season: SEASON }), 'quota_exhausted');
    expect(err.details).toMatchObject({
      status: 200,
      code: API_FOOTBALL_CODES.dailyQuota,
      retryAfterMs: 90 * 60_000,
      resetAt: '2026-11-30T00:00:00.000Z',
      account: 'default',
    });
    expect(err.message).toMatch(/daily request quota is spent .* resets around 2026-11-30T00:00:00.000Z/);
  });

  it('the per-minute cap is HTTP 429 errors.rateLimit, rate_limited for the configured wait', async () => {
    sim.configure({ perMinute: 1 });
    const client = make({ rateLimitWaitMs: 61_000 });
    await client.injuries({ league: LEAGUE, season: SEASON });
    const err = await expectProviderError(client.injuries({ league: LEAGUE, season: SEASON }), 'rate_limited');
    expect(err.details).toMatchObject({ status: 429, code: API_FOOTBALL_CODES.perMinute, retryAfterMs: 61_000 });
  });

  it('a bad parameter is permanent and names it; 499 and 500 {message} are transient', async () => {
    const bad = await expectProviderError(make().playersPage({ league: LEAGUE, season: SEASON, page: 99 }), 'permanent');
    expect(bad.message).toMatch(/errors\.page: The Page field/);
    sim.setFaults({ failNext: 2 });
    expect((await expectProviderError(make().injuries({ league: LEAGUE, season: SEASON }), 'transient')).message).toMatch(/HTTP 500/);
    expect((await expectProviderError(make().injuries({ league: LEAGUE, season: SEASON }), 'transient')).message).toMatch(
      /HTTP 499: Time Out/,
    );
  });

  it('takes its quota knobs over HTTP (/__sim/api-football/quota) for a simulator in another process', async () => {
    const post = (body: unknown) =>
      fetch(`${sim.url}/__sim/api-football/quota`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ perDay: 0 })).status).toBe(200);
    await expectProviderError(make().injuries({ league: LEAGUE, season: SEASON }), 'quota_exhausted');
    const bad = await post({ perDay: -1 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/perDay/);
    expect(await (await fetch(`${sim.url}/__sim/api-football/quota`)).json()).toMatchObject({ perDay: 0, perMinute: 10 });
  });

  itClassifiesTransportFaults(sim, (timeoutMs) => make(timeoutMs ? { timeoutMs } : {}).injuries({ league: LEAGUE, season: SEASON }));
});

describe('API-Football envelope', () => {
  let body: unknown = {};
  let status = 200;
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  let client: ApiFootballClient;
  const item = {
    player: { id: 1, name: 'A. Player', photo: null },
    statistics: [{ team: { id: 2, name: 'Getafe' }, games: { appearences: null, minutes: null, rating: null, position: 'Defender' } }],
  };
  const envelope = (errors: unknown, response: unknown[] = []) => ({
    get: 'players',
    parameters: {},
    errors,
    results: response.length,
    paging: { current: 1, total: 1 },
    response,
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new ApiFootballClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k' });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('errors [] and errors {} both mean fine; null counters and a null rating pass', async () => {
    status = 200;
    body = envelope([], [item]);
    expect((await client.playersPage({ league: 1, season: 2025, page: 1 })).items).toHaveLength(1);
    body = envelope({}, [item]);
    const page = await client.playersPage({ league: 1, season: 2025, page: 1 });
    expect(page.items[0]!.statistics[0]!.games).toMatchObject({ appearences: null, minutes: null, rating: null });
    expect(page.rateLimit).toEqual({ dailyLimit: null, dailyRemaining: null, minuteLimit: null, minuteRemaining: null });
  });

  it('an errors object is an error whatever else the body holds; an unknown key is a permanent bad request', async () => {
    body = envelope({ season: 'The Season field must contain 4 digits.' }, [item]);
    const err = await expectProviderError(client.playersPage({ league: 1, season: 2025, page: 1 }), 'permanent');
    expect(err.details.code).toBe(API_FOOTBALL_CODES.badRequest);
    expect(err.message).toMatch(/errors\.season: The Season field/);
  });

  it('a 429 without errors.rateLimit is still the per-minute cap; a body that breaks the shape is malformed', async () => {
    status = 429;
    body = { message: 'Too many requests' };
    expect((await expectProviderError(client.injuries({ league: 1, season: 2025 }), 'rate_limited')).details.code).toBe(
      API_FOOTBALL_CODES.perMinute,
    );
    status = 200;
    body = envelope([], [{ player: { name: 'no id' } }]);
    await expectProviderError(client.playersPage({ league: 1, season: 2025, page: 1 }), 'malformed');
  });

  it('seasons are start years; the quota reset is the next HH:MM UTC', () => {
    expect(currentSeason(new Date('2026-11-29T00:00:00Z'))).toBe(2026);
    expect(currentSeason(new Date('2026-03-01T00:00:00Z'))).toBe(2025);
    expect(currentSeason(new Date('2026-07-01T00:00:00Z'))).toBe(2026);
    expect(msUntilReset(Date.parse('2026-11-29T22:00:00Z'), '00:00')).toBe(2 * 3_600_000);
    expect(msUntilReset(Date.parse('2026-11-29T22:00:00Z'), '23:30')).toBe(90 * 60_000);
  });
});
