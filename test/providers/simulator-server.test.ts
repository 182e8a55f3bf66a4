import { describe, expect, it } from 'vitest';
import { HttpClient, parseRetryAfter, kindForStatus } from '../../src/providers/http';
import { Veo3Simulator } from '../../src/simulators/veo3';
import { startSimulators } from '../../src/simulators/index';
import { expectProviderError } from './support';
import { sleep } from '../../src/shared/sleep';

describe('simulator infrastructure', () => {
  it('faults and stats are driven over HTTP', async () => {
    const sim = await new Veo3Simulator().start();
    try {
      const post = (path: string, body?: unknown) =>
        fetch(`${sim.url}${path}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });

      const faults = await (await post('/__sim/faults', { rateLimitNext: 2, latencyMs: 5 })).json();
      expect(faults).toMatchObject({ rateLimitNext: 2, latencyMs: 5, taskDurationMs: 3000, hang: false });
      expect(sim.faults.rateLimitNext).toBe(2);

      const rejected = await post('/__sim/faults', { rateLimitNext: -1 });
      expect(rejected.status).toBe(400);
      expect(await post('/__sim/faults', { bogus: true }).then((r) => r.status)).toBe(400);

      const limited = await fetch(`${sim.url}/api/v1/veo/record-info?taskId=x`, { headers: { Authorization: 'Bearer k' } });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');

      const stats = await (await fetch(`${sim.url}/__sim/stats`)).json();
      expect(stats).toEqual({
        requests: 1,
        submissions: 0,
        inFlight: 0,
        maxInFlight: 0,
        submitTimes: [],
        rateLimited: 1,
        quotaRefusals: 0,
      });

      expect((await post('/__sim/reset')).status).toBe(200);
      expect(sim.stats().requests).toBe(0);
      expect(sim.faults.rateLimitNext).toBe(0);
    } finally {
      await sim.stop();
    }
  });

  it('stop() ends hanging requests and releases the port quickly', async () => {
    const sim = await new Veo3Simulator().start();
    sim.setFaults({ hang: true });
    const client = new HttpClient({ provider: 'veo3', baseUrl: sim.url, timeoutMs: 5_000 });
    const pending = client.send({ method: 'GET', path: '/api/v1/veo/record-info', query: { taskId: 'x' } });
    await sleep(50);
    const started = Date.now();
    await sim.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expectProviderError(pending, 'transient');
    // Connection refused after stop is transient too.
    await expectProviderError(client.send({ method: 'GET', path: '/' }), 'transient');
  });

  it('clearing hang releases held requests', async () => {
    const sim = await new Veo3Simulator().start();
    try {
      sim.setFaults({ hang: true });
      const held = fetch(`${sim.url}/api/v1/veo/record-info?taskId=x`, { headers: { Authorization: 'Bearer k' } });
      await sleep(50);
      sim.setFaults({ hang: false });
      expect((await held).status).toBe(422);
    } finally {
      await sim.stop();
    }
  });

  it('startSimulators starts all six and points the env at them', async () => {
    const running = await startSimulators({ taskDurationMs: { veo3: 100 } });
    try {
      expect(Object.keys(running.env).sort()).toEqual(
        [
          'INSTAGRAM_BASE_URL',
          'KIE_BASE_URL',
          'OPENAI_BASE_URL',
          'TIKTOK_BASE_URL',
          'YOUTUBE_API_BASE_URL',
          'YOUTUBE_UPLOAD_BASE_URL',
          'YOUTUBE_FEED_BASE_URL',
          'YOUTUBE_DATA_API_BASE_URL',
          'INSTAGRAM_GRAPH_BASE_URL',
          'INSTAGRAM_GRAPH_ACCESS_TOKEN',
          'INSTAGRAM_GRAPH_USER_ID',
          'API_FOOTBALL_BASE_URL',
          'MEDIA_ALLOW_PRIVATE_HOSTS',
        ].sort(),
      );
      expect(running.env.OPENAI_BASE_URL).toBe(`${running.sims.openai.url}/v1`);
      expect(running.sims.veo3.faults.taskDurationMs).toBe(100);
      expect(running.sims.tiktok.faults.taskDurationMs).toBe(3000);
      expect(running.sims.openai.faults.taskDurationMs).toBe(500);
      const ports = new Set(Object.values(running.sims).map((s) => s.port));
      expect(ports.size).toBe(6);
    } finally {
      await running.stop();
    }
  });

  it('binds to one host and advertises another in the URLs it hands out', async () => {
    const sim = await new Veo3Simulator({ host: '0.0.0.0', publicHost: 'simulators', taskDurationMs: 0 }).start();
    try {
      expect(sim.url).toBe(`http://simulators:${sim.port}`);
      const headers = { Authorization: 'Bearer k', 'Content-Type': 'application/json' };
      const direct = `http://127.0.0.1:${sim.port}/api/v1/veo`;
      const created = (await (
        await fetch(`${direct}/generate`, { method: 'POST', headers, body: JSON.stringify({ prompt: 'x' }) })
      ).json()) as {
        data: { taskId: string };
      };
      const info = (await (await fetch(`${direct}/record-info?taskId=${created.data.taskId}`, { headers })).json()) as {
        data: { response: { resultUrls: string[] } };
      };
      expect(info.data.response.resultUrls).toEqual([`http://simulators:${sim.port}/videos/${created.data.taskId}.mp4`]);
    } finally {
      await sim.stop();
    }
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(kindForStatus(429)).toBe('rate_limited');
    expect(kindForStatus(503)).toBe('transient');
    expect(kindForStatus(408)).toBe('transient');
    expect(kindForStatus(404)).toBe('permanent');
  });
});
