/**
 * Tells the team when a task queue has no live worker (Slack/Discord, event `no_workers`), and when it is served
 * again. A queue nobody polls is the stuck state nothing else reports: its jobs stay queued, no activity starts, no
 * heartbeat goes missing, and the stuck watch and the workflows' own notifications run in the workers that are gone.
 * The dashboard, /metrics and `reelflow workers` show it to whoever looks; this runs in the API, so that with every
 * worker down something is left to say so. The Temporal server not answering is announced the same way.
 *
 * Each outage is one row of `unserved_queues` (drizzle/0043) from the first check that saw it, shared by every API
 * process: the one that finds it due (NOTIFY_NO_WORKER_AFTER_MS) locks it, sends one message for all the queues due
 * then, and marks them announced in the same transaction; a webhook that fails leaves them due for the next check.
 * An outage shorter than the delay (a deploy's restarts) is forgotten unannounced.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../db/client';
import type { QueueWorkers } from '../temporal/queue-workers';
import { Ticker } from '../shared/ticker';
import { createNotificationActivities } from './activities';
import { channelsFor, type Channel, type NotificationConfig } from './config';
import { EVENT_LABEL } from './notify';
import type { WebhookSender } from './webhook';

/** The row that stands for the Temporal server itself not answering (no queue can be read then). */
export const TEMPORAL_UNREACHABLE = '(temporal server)';

export interface WorkerWatchOptions {
  database: Database;
  log: Logger;
  config: NotificationConfig;
  /** Live workers per task queue (src/temporal/queue-workers.ts); throws when the Temporal server does not answer. */
  workers: () => Promise<QueueWorkers[]>;
  /** Replaces the HTTP senders (tests). */
  senders?: Partial<Record<Channel, WebhookSender>>;
  /** Between checks; default a quarter of the delay, between 1 and 30 s. */
  everyMs?: number;
}

interface Outage {
  task_queue: string;
  since: Date;
  announced?: boolean;
}

export function startWorkerWatch(opts: WorkerWatchOptions) {
  const { pool } = opts.database;
  // The channels with a webhook URL that take the event (channelsFor); each one's delivery once per message
  // (deliverNotification, notifications_sent): Discord down must not repeat Slack's every check.
  const channels = channelsFor(opts.config, 'no_workers');
  const delivery = createNotificationActivities({ database: opts.database, log: opts.log, config: opts.config, senders: opts.senders });
  /** The worker to start for each queue last seen, for the message. */
  const queueOf = new Map<string, string>();

  async function check(): Promise<void> {
    if (!channels.length) return;
    let unserved: string[];
    let served: string[];
    try {
      const list = await opts.workers();
      for (const w of list) queueOf.set(w.taskQueue, w.queue);
      unserved = list.filter((w) => w.workers === 0).map((w) => w.taskQueue);
      served = [...list.filter((w) => w.workers > 0).map((w) => w.taskQueue), TEMPORAL_UNREACHABLE];
    } catch (err) {
      // The queues cannot be read: left as they are; the server's silence is the outage.
      opts.log.debug({ err }, 'worker watch: the Temporal server did not answer');
      unserved = [TEMPORAL_UNREACHABLE];
      served = [];
    }
    await pool.query('INSERT INTO unserved_queues (task_queue) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [unserved]);
    await inTransaction(async (c) => {
      const { rows } = await c.query<Outage>(
        `DELETE FROM unserved_queues WHERE task_queue = ANY($1) RETURNING task_queue, since, announced_at IS NOT NULL AS announced`,
        [served],
      );
      const back = rows.filter((r) => r.announced).sort((x, y) => x.task_queue.localeCompare(y.task_queue));
      if (!back.length) return;
      const queues = back.filter((r) => r.task_queue !== TEMPORAL_UNREACHABLE);
      // Every queue back at once (the workers restarted): one line, as for their going.
      const parts =
        queues.length > 1 && queues.length === queueOf.size
          ? [...back.filter((r) => !queues.includes(r)).map(part), `every queue (after ${lasted(queues[0]!.since)})`]
          : back.map(part);
      await send(outageKey('back', back), `✅ Served again: ${parts.join(', ')}`);
    });
    await inTransaction(async (c) => {
      const { rows } = await c.query<Outage>(
        `SELECT task_queue, since FROM unserved_queues
          WHERE announced_at IS NULL AND since <= now() - make_interval(secs => $1::float8 / 1000)
          ORDER BY task_queue FOR UPDATE SKIP LOCKED`,
        [opts.config.noWorkerAfterMs],
      );
      if (!rows.length) return;
      await send(outageKey('down', rows), downText(rows));
      await c.query('UPDATE unserved_queues SET announced_at = now() WHERE task_queue = ANY($1)', [rows.map((r) => r.task_queue)]);
    });
  }

  function downText(rows: Outage[]): string {
    const since = (r: Outage) => `since ${r.since.toISOString().slice(11, 19)} UTC`;
    const server = rows.find((r) => r.task_queue === TEMPORAL_UNREACHABLE);
    const queues = rows.filter((r) => r !== server);
    const lines: string[] = [];
    if (server) lines.push(`the Temporal server does not answer (${since(server)}): no workflow or job moves`);
    if (queues.length && queues.length === queueOf.size) {
      lines.push(`no worker is running (${since(queues[0]!)}): nothing moves`, 'Start them: npm run worker');
    } else if (queues.length) {
      const first = queues.reduce((a, b) => (b.since < a.since ? b : a));
      const names = queues.map((r) => r.task_queue).join(', ');
      lines.push(`no live worker serves ${names} (${since(first)}): ${queues.length > 1 ? 'their' : 'its'} jobs wait`);
      const flags = queues.map((r) => queueOf.get(r.task_queue)).filter((q) => q !== undefined);
      if (flags.length)
        lines.push(`Start ${flags.length > 1 ? 'them' : 'one'}: npm run worker -- ${flags.map((q) => `--queue ${q}`).join(' ')}`);
    }
    return `${EVENT_LABEL.no_workers}: ${lines.join('\n')}`;
  }

  /**
   * One message to every channel, each delivered once under its key; a failure throws, so the transaction around it
   * leaves the rows due, and the next check sends it where it is still missing.
   */
  async function send(eventKey: string, text: string): Promise<void> {
    for (const channel of channels) await delivery.deliverNotification({ eventKey, event: 'no_workers', text, channel });
  }

  async function inTransaction(fn: (c: pg.PoolClient) => Promise<void>): Promise<void> {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await fn(c);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  const everyMs = opts.everyMs ?? Math.min(30_000, Math.max(1_000, opts.config.noWorkerAfterMs / 4));
  const ticker = new Ticker(check, { everyMs, onError: (err) => opts.log.warn({ err }, 'worker watch: check failed; next one soon') });
  if (channels.length) ticker.start();
  return { check, stop: () => ticker.stop() };
}

/** The same outages' message has the same key, whichever API process and check sends it. */
function outageKey(what: 'down' | 'back', rows: Outage[]): string {
  const since = Math.min(...rows.map((r) => r.since.getTime()));
  return `no_workers:${what}:${since}:${rows
    .map((r) => r.task_queue)
    .sort()
    .join(',')}`;
}

function part(r: Outage): string {
  return `${r.task_queue === TEMPORAL_UNREACHABLE ? 'the Temporal server' : r.task_queue} (after ${lasted(r.since)})`;
}

function lasted(since: Date): string {
  const s = Math.max(0, Math.round((Date.now() - since.getTime()) / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}
