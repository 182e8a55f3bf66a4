/**
 * A task queue nobody serves is the stuck state the database cannot see: its
 * jobs stay queued and nothing runs late. Temporal's pollers say which queues
 * have a live worker; the API, /metrics, the dashboard's data and the CLI
 * report it, here with no VEO3 worker until one is started.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerTaskQueue, QUEUE_NAMES } from '../../src/config/providers';
import { queueWorkers } from '../../src/temporal/queue-workers';
import { startTestApi, type TestApi } from '../api/support';
import { runCli, startHarness, type Harness } from '../helpers/harness';
import { spawnWorker, type WorkerProcess } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';

let h: Harness;
let api: TestApi;
let veo3Worker: WorkerProcess | undefined;
beforeAll(async () => {
  // Every queue but VEO3's is served (in process).
  h = await startHarness({ queues: QUEUE_NAMES.filter((q) => q !== 'veo3') });
  api = await startTestApi(h.db, { service: h.service, workers: () => queueWorkers(h.client, h.taskQueue) });
});
afterAll(async () => {
  await veo3Worker?.kill('SIGKILL');
  await api?.app.close();
  await h?.stop();
});

const cli = (args: string[]) => runCli(h, args);
const workersOf = async (queue: string) => (await queueWorkers(h.client, h.taskQueue)).find((w) => w.queue === queue)!;

describe('live workers per task queue', () => {
  it('sees the served queues and none on VEO3', async () => {
    // Each queue's worker polls once it has started, one after another: wait for every served one, not one of them.
    const all = await waitUntil(
      async () => {
        const seen = await queueWorkers(h.client, h.taskQueue);
        return seen.every((w) => w.queue === 'veo3' || w.workers > 0) ? seen : null;
      },
      { what: 'pollers on every served queue' },
    );
    expect(Object.fromEntries(all.map((w) => [w.queue, w.workers]))).toEqual(
      Object.fromEntries(QUEUE_NAMES.map((q) => [q, q === 'veo3' ? 0 : 1])),
    );
    expect(all.find((w) => w.queue === 'veo3')).toMatchObject({
      taskQueue: providerTaskQueue(h.taskQueue, 'veo3'),
      identities: [],
      lastSeenAt: null,
    });
  });

  it('says so through the API, the dashboard data and /metrics', async () => {
    const res = await api.call('read', { method: 'GET', url: '/api/workers' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.find((w: { queue: string }) => w.queue === 'veo3').workers).toBe(0);
    const dashboard = (await api.call('read', { method: 'GET', url: '/api/dashboard' })).json().data;
    expect(dashboard.workers.filter((w: { workers: number }) => w.workers === 0).map((w: { queue: string }) => w.queue)).toEqual(['veo3']);
    const metrics = (await api.call('read', { method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('reelflow_queue_workers{queue="veo3"} 0');
    expect(metrics).toContain('reelflow_queue_workers{queue="openai"} 1');
  });

  it('`reelflow workers` exits 1 naming the unserved queue, and 0 once a worker serves it', async () => {
    const before = await cli(['workers']);
    expect(before.code).toBe(1);
    expect(before.stderr.trim()).toBe(
      `reelflow: no live worker on ${providerTaskQueue(h.taskQueue, 'veo3')}; start one with \`npm run worker -- --queue veo3\``,
    );
    expect(before.stdout).toMatch(/task_queue\s+workers\s+last_poll/);

    veo3Worker = await spawnWorker(h.childEnv, ['veo3']);
    await waitUntil(async () => (await workersOf('veo3')).workers === 1, { what: 'the VEO3 worker polling' });
    const after = await cli(['workers', '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).every((w: { workers: number }) => w.workers >= 1)).toBe(true);
  });
});
