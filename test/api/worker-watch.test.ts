/**
 * The API's worker watch against real PostgreSQL and a local Slack webhook: a task queue with no live worker is
 * announced once after NOTIFY_NO_WORKER_AFTER_MS however many API processes check, and once when it is served again;
 * a restart shorter than that is never announced; a webhook that fails keeps it due until delivered; the Temporal
 * server not answering is announced the same way. (Which workers are live comes from Temporal's pollers,
 * src/temporal/queue-workers.ts, tested in test/integration/workers.test.ts; here it is given.)
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { loadNotificationConfig } from '../../src/notifications/config';
import { startWorkerWatch } from '../../src/notifications/worker-watch';
import type { QueueName } from '../../src/config/providers';
import type { QueueWorkers } from '../../src/temporal/queue-workers';
import { WebhookSimulator } from '../../src/simulators/webhook';
import { sleep } from '../../src/shared/sleep';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test-worker-watch');
const DELAY_MS = 800;
let t: TestDatabase;
let sim: WebhookSimulator;
let live: Partial<Record<QueueName, number>>;
let temporalDown: boolean;
const watches: Array<ReturnType<typeof startWorkerWatch>> = [];

const queues = (): QueueWorkers[] =>
  (['base', 'openai', 'veo3'] as const).map((queue) => ({
    queue,
    taskQueue: queue === 'base' ? 'rf' : `rf-${queue}`,
    workers: live[queue] ?? 1,
    identities: [],
    lastSeenAt: null,
  }));

/** One API process's watch; its timer never fires within a test: the test calls check(). */
function watch(env: Record<string, string> = {}) {
  const config = loadNotificationConfig({ SLACK_WEBHOOK_URL: sim.slackUrl, NOTIFY_NO_WORKER_AFTER_MS: String(DELAY_MS), ...env });
  const w = startWorkerWatch({
    database: t.database,
    log,
    config,
    everyMs: 3_600_000,
    workers: async () => {
      if (temporalDown) throw new Error('14 UNAVAILABLE: connection refused');
      return queues();
    },
  });
  watches.push(w);
  return w;
}
const texts = () => sim.messages().map((m) => m.text);
const rows = async () =>
  (await t.database.pool.query(`SELECT task_queue, announced_at IS NOT NULL AS announced FROM unserved_queues`)).rows;

beforeAll(async () => {
  t = await createTestDatabase();
  sim = await new WebhookSimulator().start();
});
afterAll(async () => {
  await sim?.stop();
  await t?.drop();
});
beforeEach(async () => {
  sim.reset();
  live = {};
  temporalDown = false;
  await t.database.pool.query('DELETE FROM unserved_queues');
});
afterEach(() => {
  for (const w of watches.splice(0)) w.stop();
});

describe('worker watch', () => {
  it('a queue without a worker: announced once after the delay, by one of two API processes; once again when served', async () => {
    const [a, b] = [watch(), watch()];
    live = { veo3: 0 };
    await a.check();
    await b.check();
    expect(texts()).toEqual([]);
    expect(await rows()).toEqual([{ task_queue: 'rf-veo3', announced: false }]);
    await sleep(DELAY_MS + 100);
    await Promise.all([a.check(), b.check()]);
    expect(texts()).toEqual([
      expect.stringMatching(
        /^🚨 No worker: no live worker serves rf-veo3 \(since \d\d:\d\d:\d\d UTC\): its jobs wait, nothing runs\nStart one: npm run worker -- --queue veo3$/,
      ),
    ]);
    await Promise.all([a.check(), b.check()]);
    expect(texts()).toHaveLength(1);

    // The workflows' queue goes too: its own message, the first one not repeated.
    live = { veo3: 0, base: 0 };
    await a.check();
    await sleep(DELAY_MS + 100);
    await Promise.all([a.check(), b.check()]);
    expect(texts()).toHaveLength(2);
    expect(texts()[1]).toMatch(/^🚨 No worker: no live worker serves rf \(since .*\nStart one: npm run worker -- --queue base$/);

    live = {};
    await Promise.all([a.check(), b.check()]);
    expect(texts().slice(2)).toEqual([expect.stringMatching(/^✅ Served again: rf \(after \d+ s\), rf-veo3 \(after \d+ s\)$/)]);
    await a.check();
    expect(texts()).toHaveLength(3);
    expect(await rows()).toEqual([]);
  });

  it('a restart shorter than the delay is never announced; a webhook that fails keeps the outage due until it takes it', async () => {
    const a = watch();
    live = { openai: 0 };
    await a.check();
    live = {};
    await a.check();
    live = { openai: 0 };
    await a.check();
    expect(await rows()).toEqual([{ task_queue: 'rf-openai', announced: false }]);
    live = {};
    await sleep(DELAY_MS + 100);
    await a.check();
    expect(texts()).toEqual([]);
    expect(await rows()).toEqual([]);

    live = { openai: 0 };
    await a.check();
    await sleep(DELAY_MS + 100);
    sim.failFirst(2, 500);
    for (let i = 0; i < 2; i += 1) await expect(a.check()).rejects.toThrow(/slack: webhook answered HTTP 50[03]/);
    expect(await rows()).toEqual([{ task_queue: 'rf-openai', announced: false }]);
    await a.check();
    expect(texts()).toEqual([expect.stringMatching(/^🚨 No worker: no live worker serves rf-openai/)]);
    expect(await rows()).toEqual([{ task_queue: 'rf-openai', announced: true }]);
  });

  it('the Temporal server not answering is announced, and its return; the queues are left as they were meanwhile', async () => {
    const a = watch();
    temporalDown = true;
    await a.check();
    await sleep(DELAY_MS + 100);
    await a.check();
    expect(texts()).toEqual([
      expect.stringMatching(/^🚨 No worker: the Temporal server does not answer \(since \d\d:\d\d:\d\d UTC\): no workflow or job moves$/),
    ]);
    temporalDown = false;
    await a.check();
    expect(texts()[1]).toMatch(/^✅ Served again: the Temporal server \(after \d+ s\)$/);
    expect(await rows()).toEqual([]);
  });

  it('with no channel taking no_workers, nothing is tracked or sent', async () => {
    const a = watch({ NOTIFY_EVENTS: 'failed,stuck' });
    live = { veo3: 0 };
    await a.check();
    await sleep(DELAY_MS + 100);
    await a.check();
    expect(texts()).toEqual([]);
    expect(await rows()).toEqual([]);
  });
});
