/**
 * Worker presence: a killed worker's jobs resume elsewhere within seconds, not at the heartbeat timeout (issue 18).
 *
 * - Each worker process holds an advisory lock (PRESENCE_LOCK_CLASS, its own key) on its gate's listener session
 *   (src/gate/slot-gate.ts) for as long as it lives; the listener takes it again after every reconnection (a new
 *   key, its running attempts moved to it, while the server still keeps the old session open).
 * - Each provider activity attempt records its process's key and its Temporal task token on its job
 *   (SlotGate.markActivity, beside the attempt's first read of its job: no extra wait).
 * - A process killed with -9 (crashed, OOM-killed) has its sockets closed by the kernel: PostgreSQL ends its
 *   sessions at once, which releases the lock. The watch below (every worker process, once a second or every 2 s; the
 *   first to look takes each attempt) takes the attempts whose lock is gone (take_lost_activities,
 *   drizzle/0018) and fails each at Temporal as WorkerLost. The activity's retry (at once: no backoff for a
 *   lost process) resumes the job on a live process: the same slot, the same provider task, never a second submit.
 *
 * A machine lost, or a network cut, leaves its sessions open until TCP gives up (PostgreSQL's tcp_keepalives_*
 * settings): the heartbeat timeout finds those first, as before.
 *
 * Why not a shorter heartbeat timeout: at 4 s, heartbeats delayed by a saturated machine (a 10,000-job fill)
 * failed 97 healthy analyses. The heartbeat timeout (10 s) stays, for a frozen process whose session is still up.
 *
 * A process whose listener lost PostgreSQL for longer than the grace has its attempts failed too: they resume
 * elsewhere, and its own stop at their next heartbeat (Temporal no longer knows them). A watcher acts only once its
 * own presence is older than the grace, so after a PostgreSQL restart every process has had time to take its lock again.
 */
import { randomInt } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { QUEUE_NAMES, type QueueName } from '../config/providers';
import { Ticker } from '../shared/ticker';

/** The advisory locks' first key: ours, whatever else takes advisory locks in the database. */
export const PRESENCE_LOCK_CLASS = 0x5246_4c57; // "RFLW"

/** One process's presence key: the lock's second key, and automation_queue.activity_worker. */
export function newPresenceKey(): number {
  return randomInt(1, 2 ** 31 - 1);
}

/**
 * Takes this process's presence lock on `client` (its listener session). Another live process holding the same
 * key (1 in 2^31) must not be waited for: a fresh key is drawn instead. Returns the key held.
 */
export async function takePresence(client: pg.Client, key: number): Promise<number> {
  for (let k = key; ; k = newPresenceKey()) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [PRESENCE_LOCK_CLASS, k]);
    if (rows[0]!.ok) return k;
  }
}

export interface LostActivity {
  jobId: string;
  workflowId: string;
  /** The attempt's task token, base64. */
  token: string;
}

/** Fails the lost attempt at Temporal (retryable, WorkerLost); 'gone' when Temporal no longer runs that attempt. */
export type FailLostActivity = (lost: LostActivity) => Promise<'failed' | 'gone'>;

export interface LostWorkerWatchOptions {
  tickMs: number;
  /** This process's own presence must be this old before it judges others' (they reconnect after an outage too). */
  graceMs: number;
}

/** How old a watcher's own presence must be before it judges others' (LostWorkerWatchOptions.graceMs). */
export const PRESENCE_GRACE_MS = 5_000;
/** How often a watcher looks: once a second. */
export const WATCH_TICK_MS = 1_000;
/**
 * A process that also runs the workflows looks every 2 s instead: under load it is the busiest, and the failure it
 * sends reaches Temporal last (bench faults: 2.2-5.5 s for the call). A provider-only process then usually looks
 * first; with none left, the lost attempt is still found within 2 s.
 */
export const BUSY_WATCH_TICK_MS = 2_000;

/** How often a process serving `queues` looks: less often when it runs the workflows beside provider-only processes. */
export function watchTickMs(queues: readonly QueueName[]): number {
  return queues.includes('base') && queues.length < QUEUE_NAMES.length ? BUSY_WATCH_TICK_MS : WATCH_TICK_MS;
}
const DEFAULTS: LostWorkerWatchOptions = { tickMs: WATCH_TICK_MS, graceMs: PRESENCE_GRACE_MS };

export class LostWorkerWatch {
  private readonly ticker: Ticker;
  private readonly opts: LostWorkerWatchOptions;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly fail: FailLostActivity,
    /** When this process's presence lock was last taken; null while it holds none. */
    private readonly presentSince: () => number | null,
    options: Partial<LostWorkerWatchOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...options };
    this.ticker = new Ticker(() => this.round(), {
      everyMs: this.opts.tickMs,
      onError: (err) => this.log.warn({ err }, 'lost-worker watch round failed; retrying next tick'),
    });
  }

  start(): void {
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
  }

  private async round(): Promise<void> {
    const since = this.presentSince();
    if (since === null || Date.now() - since < this.opts.graceMs) return;
    const { rows } = await this.pool.query<{ job_id: string; workflow_id: string; token: string }>(
      'SELECT job_id, workflow_id, token FROM take_lost_activities($1)',
      [PRESENCE_LOCK_CLASS],
    );
    await Promise.all(rows.map((r) => this.failOne({ jobId: r.job_id, workflowId: r.workflow_id, token: r.token })));
  }

  private async failOne(lost: LostActivity): Promise<void> {
    const t0 = Date.now();
    try {
      const outcome = await this.fail(lost);
      // failMs: how long Temporal took to hear it (the job's retry waits for that).
      this.log.warn(
        { jobId: lost.jobId, workflowId: lost.workflowId, outcome, failMs: Date.now() - t0 },
        'worker process lost: its job resumes elsewhere',
      );
    } catch (err) {
      // The token was taken: the heartbeat timeout still ends that attempt, only later.
      this.log.warn({ err, jobId: lost.jobId }, 'could not fail the lost worker attempt; its heartbeat timeout will');
    }
  }
}
