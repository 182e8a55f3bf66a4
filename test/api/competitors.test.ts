/**
 * /api/competitors and /api/competitor-videos against a real server: roles
 * (read lists, operator writes), validation naming the field, nothing stored
 * for a channel the platform does not know, an audit row per write, a check
 * through the real workflow and gate, add-video once per URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscoveryClients } from '../../src/providers/discovery-clients';
import { createCompetitorChannelService } from '../../src/services/competitor-channels';
import { startHarness, type Harness } from '../helpers/harness';
import { startTestApi, type TestApi } from './support';

let h: Harness;
let api: TestApi;
beforeAll(async () => {
  h = await startHarness({
    limits: { youtube_data: { minStartIntervalMs: 0, pollIntervalMs: 50 } },
    env: { COMPETITOR_VIEW_READS: '86400' },
  });
  const competitors = createCompetitorChannelService({
    database: h.db.database,
    discovery: createDiscoveryClients(h.env),
    client: h.client,
    taskQueue: h.taskQueue,
  });
  api = await startTestApi(h.db, { service: h.service, competitors });
});
afterAll(async () => {
  await api?.app.close();
  await h?.stop();
});

const channels = async () => Number((await h.db.database.pool.query('SELECT count(*) AS n FROM competitor_channels')).rows[0].n);
const audits = async (action: string) =>
  Number((await h.db.database.pool.query('SELECT count(*) AS n FROM audit_log WHERE action = $1', [action])).rows[0].n);

describe('competitor routes', () => {
  it('needs a token to list and the operator role to write', async () => {
    expect((await api.call(null, { method: 'GET', url: '/api/competitors' })).statusCode).toBe(401);
    expect((await api.call('read', { method: 'GET', url: '/api/competitors' })).statusCode).toBe(200);
    const body = { platform: 'manual', channel: 'Radio Fantasy' };
    expect((await api.call('read', { method: 'POST', url: '/api/competitors', payload: body })).statusCode).toBe(403);
    expect(
      (await api.call('read', { method: 'POST', url: '/api/competitor-videos', payload: { url: 'https://example.com/v' } })).statusCode,
    ).toBe(403);
    expect(await channels()).toBe(0);
  });

  it('rejects bad input naming the field, and stores nothing for a channel the platform does not know', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ platform: 'myspace', channel: 'x' }, /platform must be one of youtube, instagram, manual/],
      [{ platform: 'youtube' }, /channel is required/],
      [{ platform: 'youtube', channel: 'UCxxxxxxxxxxxxxxxxxxxxxx', extra: 1 }, /unknown field "extra"/],
      [{ platform: 'youtube', channel: '@chollos' }, /needs YOUTUBE_DATA_API_KEY/],
      [{ platform: 'youtube', channel: 'UCzzzzzzzzzzzzzzzzzzzzzz' }, /no feed for channel UCzzzzzzzzzzzzzzzzzzzzzz/],
      [{ platform: 'instagram', channel: 'nobody_here' }, /no Instagram business or creator account/],
    ];
    for (const [payload, message] of cases) {
      const res = await api.call('operator', { method: 'POST', url: '/api/competitors', payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.message).toMatch(message);
    }
    const video = await api.call('operator', { method: 'POST', url: '/api/competitor-videos', payload: { url: 'not a url' } });
    expect(video.statusCode).toBe(400);
    expect(video.json().error.message).toMatch(/url must be a URL/);
    expect(await channels()).toBe(0);
  });

  it('adds (once), lists, checks through the workflow, and removes a channel, each write audited', async () => {
    const sim = h.sims.youtube.discovery.addChannel({ title: 'Fantasy Diario', videos: 3 });
    const [addsBefore, removesBefore] = [await audits('competitor.add'), await audits('competitor.remove')];
    const added = await api.call('operator', {
      method: 'POST',
      url: '/api/competitors',
      payload: { platform: 'youtube', channel: sim.id },
    });
    expect(added.statusCode).toBe(201);
    expect(added.json().data).toMatchObject({ externalId: sim.id, displayName: 'Fantasy Diario', created: true });
    const again = await api.call('operator', {
      method: 'POST',
      url: '/api/competitors',
      payload: { platform: 'youtube', channel: sim.id },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().data.created).toBe(false);
    expect(await audits('competitor.add')).toBe(addsBefore + 2);

    const id = added.json().data.id as string;
    const checked = await api.call('operator', { method: 'POST', url: `/api/competitors/${id}/check` });
    expect(checked.statusCode).toBe(200);
    expect(checked.json().data.found).toHaveLength(3);
    expect(checked.json().data.links.temporal).toContain('competitor-check-');

    const listed = await api.call('read', { method: 'GET', url: '/api/competitors' });
    expect(listed.json().data).toEqual([
      expect.objectContaining({ id, videosFound: 3, lastError: null, lastCheckedAt: expect.any(String) }),
    ]);

    expect((await api.call('read', { method: 'DELETE', url: `/api/competitors/${id}` })).statusCode).toBe(403);
    expect((await api.call('operator', { method: 'DELETE', url: `/api/competitors/${id}` })).statusCode).toBe(200);
    expect((await api.call('operator', { method: 'DELETE', url: `/api/competitors/${id}` })).statusCode).toBe(404);
    // Refused calls have their row too (the read token's 403 and the 404).
    expect(await audits('competitor.remove')).toBe(removesBefore + 3);
    expect(await channels()).toBe(0);
  }, 60_000);

  it('starts a one-off video once, with its platform from the host, and not at all once analysed', async () => {
    const url = 'https://www.tiktok.com/@rival/video/7300000000000000001';
    const before = await audits('competitor.add_video');
    const first = await api.call('operator', { method: 'POST', url: '/api/competitor-videos', payload: { url, name: 'Rival' } });
    expect(first.statusCode).toBe(202);
    expect(first.json().data).toMatchObject({ platform: 'tiktok', started: true });
    await h.db.database.pool.query(`INSERT INTO competitive_videos (url, channel, title, platform) VALUES ($1, 'Rival', 't', 'tiktok')`, [
      url,
    ]);
    const again = await api.call('operator', { method: 'POST', url: '/api/competitor-videos', payload: { url } });
    expect(again.statusCode).toBe(200);
    expect(again.json().data.started).toBe(false);
    expect(await audits('competitor.add_video')).toBe(before + 2);
  }, 30_000);
});
