/**
 * Slack/Discord notifications against local webhook receivers that fail
 * first and recover: exactly one message per event, whether the retry comes
 * from Temporal, from a repeated activity call, an overlapping attempt, or
 * the same event being raised twice. And the API's worker watch (no_workers).
 */
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, inject } from 'vitest';
import { dashboardSnapshot } from '../../src/api/stats';
import { createLogger } from '../../src/logger';
import { createNotificationActivities, deliveryKey } from '../../src/notifications/activities';
import { loadNotificationConfig, NOTIFICATION_EVENTS } from '../../src/notifications/config';
import { notificationEventKey, notificationText, startNotification } from '../../src/notifications/notify';
import { notificationWorkflowId } from '../../src/shared/workflow-ids';
import { WebhookSimulator } from '../../src/simulators/webhook';
import { startWorkerWatch } from '../../src/notifications/worker-watch';
import type { QueueName } from '../../src/config/providers';
import type { QueueWorkers } from '../../src/temporal/queue-workers';
import { sleep } from '../../src/shared/sleep';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db';
import { bundleWorkflowFile } from '../helpers/workflow-bundle';

let t: TestDatabase;
let sim: WebhookSimulator;
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test-notify');
const env = () => ({ SLACK_WEBHOOK_URL: sim.slackUrl, DISCORD_WEBHOOK_URL: sim.discordUrl });
const q = async (text: string, params: unknown[] = []) => (await t.database.pool.query(text, params)).rows;

beforeAll(async () => {
  t = await createTestDatabase();
  sim = await new WebhookSimulator().start();
});
afterAll(async () => {
  await sim?.stop();
  await t?.drop();
});
beforeEach(() => sim.reset());

/** The rejection of a promise (fails the test if it resolves). */
async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    (v) => {
      throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('configuration', () => {
  it('enables a channel by its URL and routes events per channel', () => {
    const c = loadNotificationConfig({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x', DISCORD_NOTIFY_EVENTS: 'failed' });
    expect(c.webhooks).toEqual({ slack: 'https://hooks.slack.com/services/T/B/x' });
    // By default a channel takes every event.
    expect(c.events.slack).toEqual([...NOTIFICATION_EVENTS]);
    const both = loadNotificationConfig({ ...env(), NOTIFY_EVENTS: 'failed,stuck', DISCORD_NOTIFY_EVENTS: 'completed' });
    expect(both.events).toEqual({ slack: ['failed', 'stuck'], discord: ['completed'] });
    expect(() => loadNotificationConfig({ NOTIFY_EVENTS: 'failed,exploded' })).toThrow(
      /NOTIFY_EVENTS.*must list events among completed, partially_published, failed, stuck, expired, approval, no_workers, quota_parked/,
    );
    expect(() => loadNotificationConfig({ SLACK_WEBHOOK_URL: 'not a url' })).toThrow(/SLACK_WEBHOOK_URL/);
  });
});

describe('deliverNotification (the activity)', () => {
  it('throws retryable failures while the receiver is down, then delivers once and never again', async () => {
    const acts = createNotificationActivities({ database: t.database, log, env: env() });
    const input = {
      eventKey: notificationEventKey('failed', 'job-a'),
      event: 'failed' as const,
      text: 'job A failed',
      channel: 'slack' as const,
    };
    sim.failFirst(2, 500);
    for (let i = 0; i < 2; i += 1) {
      const failure = await failureOf(acts.deliverNotification(input));
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(/slack: webhook answered HTTP 50[03]/);
      // The secret part of the URL never reaches errors or logs.
      expect(failure.message).not.toContain('simsecret');
    }
    expect(await acts.deliverNotification(input)).toBe('delivered');
    expect(await acts.deliverNotification(input)).toBe('already_delivered');
    expect(sim.messages('slack').map((m) => m.text)).toEqual(['job A failed']);
    expect(
      await q(`SELECT event_key, channel, delivered FROM notifications_sent WHERE event_key = $1`, [deliveryKey(input.eventKey, 'slack')]),
    ).toEqual([{ event_key: `${input.eventKey}:slack`, channel: 'slack', delivered: true }]);
  });

  it('honours Retry-After on 429 (Slack header, Discord body) and keeps channels independent', async () => {
    const acts = createNotificationActivities({ database: t.database, log, env: env() });
    const base = { eventKey: notificationEventKey('stuck', 'job-b'), event: 'stuck' as const, text: 'job B is stuck' };
    sim.failFirst(1, 429);
    const slow = await failureOf(acts.deliverNotification({ ...base, channel: 'discord' }));
    expect(slow.nonRetryable).toBe(false);
    expect(slow.nextRetryDelay).toBe(1000);
    expect(await acts.deliverNotification({ ...base, channel: 'discord' })).toBe('delivered');
    // Same event, other channel: its own delivery.
    expect(await acts.deliverNotification({ ...base, channel: 'slack' })).toBe('delivered');
    expect(sim.messages().map((m) => m.channel)).toEqual(['discord', 'slack']);
  });

  it('escapes & < > for Slack, so a title cannot ping the channel or forge a link; Discord gets the text as it is', async () => {
    const acts = createNotificationActivities({ database: t.database, log, env: env() });
    const text = 'job "<!channel> Pedri & <https://evil.example|Gavi>" failed';
    const base = { eventKey: notificationEventKey('failed', 'job-esc'), event: 'failed' as const, text };
    expect(await acts.deliverNotification({ ...base, channel: 'slack' })).toBe('delivered');
    expect(await acts.deliverNotification({ ...base, channel: 'discord' })).toBe('delivered');
    expect(sim.messages('slack').map((m) => m.text)).toEqual([
      'job "&lt;!channel&gt; Pedri &amp; &lt;https://evil.example|Gavi&gt;" failed',
    ]);
    expect(sim.messages('discord').map((m) => m.text)).toEqual([text]);
  });

  it('posts once when two attempts of the same event overlap (an activity timed out while still sending)', async () => {
    const acts = createNotificationActivities({ database: t.database, log, env: env() });
    sim.setFaults({ latencyMs: 300 });
    const input = {
      eventKey: notificationEventKey('completed', 'job-c'),
      event: 'completed' as const,
      text: 'job C done',
      channel: 'slack' as const,
    };
    const outcomes = await Promise.all([acts.deliverNotification(input), acts.deliverNotification(input)]);
    expect(outcomes.sort()).toEqual(['already_delivered', 'delivered']);
    expect(sim.messages()).toHaveLength(1);
  });

  it('gives up at once when the webhook refuses the message (revoked URL)', async () => {
    const acts = createNotificationActivities({
      database: t.database,
      log,
      env: { SLACK_WEBHOOK_URL: `${sim.url}/services/T0/B0/revoked/extra` },
    });
    const failure = await failureOf(acts.deliverNotification({ eventKey: 'k-404', event: 'failed', text: 'x', channel: 'slack' }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/HTTP 404: no_service/);
    // Not marked delivered, but kept as refused: the dashboard says so (every later alert is lost the same way).
    expect(await q(`SELECT delivered, refused_reason, message FROM notifications_sent WHERE event_key = 'k-404:slack'`)).toEqual([
      { delivered: false, refused_reason: expect.stringMatching(/HTTP 404: no_service/), message: 'x' },
    ]);
    const refused = async () => (await dashboardSnapshot(t.database.pool)).refused;
    expect(await refused()).toEqual([
      { channel: 'slack', count: 1, lastAt: expect.any(Date), reason: expect.stringMatching(/HTTP 404/), message: 'x' },
    ]);
    // The URL fixed: the next message on the channel is delivered, and the alert goes (the refused one is sent again
    // by resetting its workflow: delivered, its row never marked refused again).
    const fixed = createNotificationActivities({ database: t.database, log, env: env() });
    expect(await fixed.deliverNotification({ eventKey: 'k-next', event: 'failed', text: 'y', channel: 'slack' })).toBe('delivered');
    expect(await refused()).toEqual([]);
    expect(await fixed.deliverNotification({ eventKey: 'k-404', event: 'failed', text: 'x', channel: 'slack' })).toBe('delivered');
    expect(await q(`SELECT delivered FROM notifications_sent WHERE event_key = 'k-404:slack'`)).toEqual([{ delivered: true }]);
  });

  it('skips a channel that has no URL', async () => {
    const acts = createNotificationActivities({ database: t.database, log, env: { SLACK_WEBHOOK_URL: sim.slackUrl } });
    expect(await acts.deliverNotification({ eventKey: 'k-none', event: 'failed', text: 'x', channel: 'discord' })).toBe('not_configured');
    expect(await acts.notificationChannels('failed')).toEqual(['slack']);
  });
});

describe('notificationWorkflow on Temporal', () => {
  let connection: NativeConnection;
  let clientConnection: Connection;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `notify-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    const address = inject('temporalAddress');
    connection = await NativeConnection.connect({ address });
    clientConnection = await Connection.connect({ address });
    client = new Client({ connection: clientConnection });
    worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: await bundleWorkflowFile('notification.ts'),
      activities: createNotificationActivities({
        database: t.database,
        log,
        // Slack hears about everything, Discord only about failures.
        env: { ...env(), DISCORD_NOTIFY_EVENTS: 'failed' },
      }),
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await clientConnection?.close();
  });

  it('delivers through an outage, exactly one message per channel, and ignores the same event raised again', async () => {
    sim.failFirst(2, 500); // Slack and Discord both see failures first (the fault counter is shared).
    const eventKey = notificationEventKey('failed', randomBytes(8).toString('hex'));
    const text = notificationText({
      event: 'failed',
      title: 'Chollo: Carlos Álvarez',
      priority: 'P1',
      provider: 'veo3',
      workflowId: 'recommendation-x',
      error: 'veo3: HTTP 500',
      temporalUiUrl: 'http://127.0.0.1:8233',
    });
    const first = await startNotification(client, taskQueue, { eventKey, event: 'failed', text });
    expect(first).toEqual({ workflowId: notificationWorkflowId(eventKey), started: true });
    // Raised again while the first is still retrying, and again after it finished.
    expect(await startNotification(client, taskQueue, { eventKey, event: 'failed', text })).toMatchObject({ started: false });
    const result = await client.workflow.getHandle(first.workflowId).result();
    expect(result).toEqual({ eventKey, deliveries: { slack: 'delivered', discord: 'delivered' } });
    expect(await startNotification(client, taskQueue, { eventKey, event: 'failed', text })).toMatchObject({ started: false });

    expect(sim.stats().requests).toBe(4); // two failed posts, then one per channel
    expect(sim.messages('slack').map((m) => m.text)).toEqual([text]);
    expect(sim.messages('discord').map((m) => m.text)).toEqual([text]);
    expect(text).toContain('http://127.0.0.1:8233/namespaces/default/workflows/recommendation-x');
  });

  it('sends an event only to the channels configured for it', async () => {
    const eventKey = notificationEventKey('completed', randomBytes(8).toString('hex'));
    const { workflowId } = await startNotification(client, taskQueue, { eventKey, event: 'completed', text: 'published' });
    expect(await client.workflow.getHandle(workflowId).result()).toEqual({ eventKey, deliveries: { slack: 'delivered' } });
    expect(sim.messages().map((m) => m.channel)).toEqual(['slack']);
  });
});

/**
 * The API's worker watch: a task queue with no live worker is announced once after NOTIFY_NO_WORKER_AFTER_MS however many
 * API processes check, and once when it is served again; a restart shorter than that is never announced; a webhook
 * that fails keeps it due until delivered; the Temporal server not answering is announced the same way. (Which workers
 * are live comes from Temporal's pollers, src/temporal/queue-workers.ts, tested in workers.test.ts; here it is given.)
 */
const DELAY_MS = 800;
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
function watch(env: Record<string, string> = {}, senders: Parameters<typeof startWorkerWatch>[0]['senders'] = {}) {
  const config = loadNotificationConfig({ SLACK_WEBHOOK_URL: sim.slackUrl, NOTIFY_NO_WORKER_AFTER_MS: String(DELAY_MS), ...env });
  const w = startWorkerWatch({
    database: t.database,
    log,
    config,
    senders,
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

describe('worker watch (the API, no_workers)', () => {
  beforeEach(async () => {
    live = {};
    temporalDown = false;
    await t.database.pool.query('DELETE FROM unserved_queues');
  });
  afterEach(() => {
    for (const w of watches.splice(0)) w.stop();
  });

  it('a queue without a worker: announced once after the delay, by one of two API processes; once again when served', async () => {
    const [a, b] = [watch(), watch()];
    live = { veo3: 0 };
    await a.check();
    await b.check();
    expect(texts()).toEqual([]);
    expect(await rows()).toEqual([{ task_queue: 'rf-veo3', announced: false }]);
    await sleep(DELAY_MS + 100);
    await Promise.all([a.check(), b.check()]);
    expect(texts()).toHaveLength(1);
    expect(texts()[0]!.split('\n')).toEqual([
      expect.stringMatching(/^🚨 No worker: no live worker serves rf-veo3 \(since \d\d:\d\d:\d\d UTC\): its jobs wait$/),
      'Start one: npm run worker -- --queue veo3',
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

    // Every queue at once: one line for it all, as the dashboard says.
    live = { veo3: 0, base: 0, openai: 0 };
    await a.check();
    await sleep(DELAY_MS + 100);
    await a.check();
    expect(texts()[3]).toMatch(
      /^🚨 No worker: no worker is running \(since \d\d:\d\d:\d\d UTC\): nothing moves\nStart them: npm run worker$/,
    );
    live = {};
    await a.check();
    expect(texts()[4]).toMatch(/^✅ Served again: every queue \(after \d+ s\)$/);
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
    expect(texts()).toEqual([expect.stringMatching(/^🚨 No worker: no live worker serves rf-openai \(since .*\): its jobs wait\n/)]);
    expect(await rows()).toEqual([{ task_queue: 'rf-openai', announced: true }]);
  });

  it('a channel that fails gets the message once it recovers; the one that took it is not sent it again', async () => {
    const discord: string[] = [];
    let discordFailures = 2;
    const a = watch(
      { DISCORD_WEBHOOK_URL: 'https://discord.com/api/webhooks/1/x' },
      {
        discord: {
          send: async (text) => {
            if (discordFailures-- > 0) throw new Error('discord: connection reset');
            discord.push(text);
          },
        },
      },
    );
    live = { veo3: 0 };
    await a.check();
    await sleep(DELAY_MS + 100);
    for (let i = 0; i < 2; i += 1) await expect(a.check()).rejects.toThrow(/discord: connection reset/);
    expect(texts()).toHaveLength(1);
    expect(await rows()).toEqual([{ task_queue: 'rf-veo3', announced: false }]);
    await a.check();
    expect(discord).toEqual(texts());
    expect(texts()).toEqual([expect.stringMatching(/^🚨 No worker: no live worker serves rf-veo3/)]);
    expect(await rows()).toEqual([{ task_queue: 'rf-veo3', announced: true }]);
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
