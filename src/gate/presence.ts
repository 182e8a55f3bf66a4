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
 * - The watch does not wait for its next look to hear of a death: for each peer with attempts running, it keeps a
 *   session waiting for that peer's key in shared mode (PeerSentinels). The lock is granted the moment the peer's
 *   session ends; the sentinel lets go of it and the watch looks at once. Under load that took a second and more off
 *   the kill (bench faults: found 1.4 s after the kill, the look every second waiting for a CPU).
 * - An attempt Temporal gave a process that died before its first read of the job has no mark. The sentinel knows its
 *   peer's name (the listener's application_name, its workers' Temporal identity): at the death the watch asks Temporal
 *   which attempts of the jobs that may hold one that process started, and fails those by their ids (FailUnmarkedAttempts).
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
import os from 'node:os';
import pg from 'pg';
import type { Logger } from 'pino';
import { QUEUE_NAMES, type QueueName } from '../config/providers';
import { Ticker } from '../shared/ticker';

/**
 * This process's name at Temporal (its workers' identity, the SDK's default form) and at PostgreSQL (its listener's
 * application_name): a sentinel reads it off a peer's session while it lives, to find the attempts Temporal gave
 * that peer which it died before marking.
 */
export function processIdentity(): string {
  return `${process.pid}@${os.hostname()}`;
}

/** PostgreSQL keeps 63 bytes of an application_name. */
export function sameIdentity(temporalIdentity: string, pgName: string): boolean {
  return temporalIdentity === pgName || (pgName.length >= 63 && temporalIdentity.startsWith(pgName));
}

/** The advisory locks' first key: ours, whatever else takes advisory locks in the database. */
export const PRESENCE_LOCK_CLASS = 0x5246_4c57; // "RFLW"
/**
 * The first key of the lock one watcher holds while it asks Temporal about a gone peer's unmarked attempts (second
 * key: hashtext of the peer's name). Those attempts are failed by their ids, which name no attempt: two watchers
 * looking at once (both sentinels fire together) could each fail "the" attempt, the second call landing on the retry
 * the first one started on a live process. One at a time, the second describes after the first's failures.
 */
export const UNMARKED_LOOK_LOCK_CLASS = 0x5246_4c55; // "RFLU"

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

/**
 * Fails, as WorkerLost, the activity attempts of these workflows that Temporal shows started by the process named
 * `identity` (gone): attempts it died before marking on their jobs. Returns how many it failed.
 */
export type FailUnmarkedAttempts = (identity: string, workflowIds: readonly string[]) => Promise<number>;

export interface LostWorkerWatchOptions {
  tickMs: number;
  /** This process's own presence must be this old before it judges others' (they reconnect after an outage too). */
  graceMs: number;
  /** Where sentinel sessions connect (PeerSentinels); without it, the watch only looks every tick. */
  databaseUrl?: string;
  /** This process's own presence key, never waited on. */
  ownKey?: () => number;
  /** A sentinel's wait before it starts again (SENTINEL_WAIT_MS). */
  sentinelWaitMs?: number;
  /** With sentinels: a gone peer's attempts that it died before marking (UNMARKED_SQL). */
  failUnmarked?: FailUnmarkedAttempts;
  /** How long after a peer was found gone (or this watcher last failed attempts) its unmarked attempts are looked for (GONE_LOOK_MS). */
  goneLookMs: number;
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
/**
 * A gone peer's unmarked attempts are looked for again at every round for this long after it was found gone, and
 * after each round of this watcher's that failed attempts: polls it had open at Temporal can still be handed attempts
 * until the server hears its connection close (seconds on a loaded server), retries of the very attempts just failed
 * among them, and only a later look ends those before their heartbeat timeout.
 */
export const GONE_LOOK_MS = 10_000;
const DEFAULTS: LostWorkerWatchOptions = { tickMs: WATCH_TICK_MS, graceMs: PRESENCE_GRACE_MS, goneLookMs: GONE_LOOK_MS };

/**
 * A sentinel's wait for its peer's key ends with lock_timeout this often and starts again if still wanted. A sentinel
 * no longer wanted ends at its next timeout, on its own: cutting its socket mid-wait would leave the server's backend
 * waiting for the lock all the same (it notices a gone client only when it answers).
 */
export const SENTINEL_WAIT_MS = 10_000;
/** At most this many peers are waited on by one process; the watch's regular look covers the rest. */
export const MAX_SENTINELS = 16;
/** lock_not_available: the wait reached lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * The sessions holding a presence key, with their names (application_name): exclusively, as take_lost_activities
 * counts presence (a sentinel's shared hold is not). One row per live worker process.
 */
const PRESENCE_HOLDERS_SQL = `
  SELECT l.objid::int AS key, a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
   WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' AND l.objsubid = 2
     AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
     AND l.classid = $1::oid`;

export interface PresenceHolder {
  key: number;
  name: string;
}

/** The live worker processes' presence keys and names. Also read by the bench, to see which process runs what. */
export async function presenceHolders(db: Pick<pg.Pool, 'query'>): Promise<PresenceHolder[]> {
  return (await db.query<PresenceHolder>(PRESENCE_HOLDERS_SQL, [PRESENCE_LOCK_CLASS])).rows;
}

interface Sentinel {
  client: pg.Client;
  /** The peer's name (its listener's application_name), read while it lived. */
  identity: string | null;
  /** Still among the peers watch() was last given; cleared, the sentinel ends at its next timeout. */
  wanted: boolean;
  /** Its session is open and the peer's name read: a death from now on is told with that name. */
  ready: boolean;
}

/**
 * One session per peer key, waiting for that key in shared mode: granted when the peer's session ends. The lock is
 * let go at once (take_lost_activities counts only exclusive holders as present, drizzle/0022, so the instant it is
 * held hides nothing), then `gone` is called.
 */
export class PeerSentinels {
  private readonly byKey = new Map<number, Sentinel>();
  private stopped = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: Logger,
    private readonly gone: (key: number, identity: string | null) => void,
    private readonly waitMs = SENTINEL_WAIT_MS,
  ) {}

  /** Waits on exactly these keys (up to MAX_SENTINELS): new ones get a sentinel, the others' end. */
  watch(keys: ReadonlySet<number>): void {
    if (this.stopped) return;
    for (const [key, sentinel] of this.byKey) sentinel.wanted = keys.has(key);
    for (const key of keys) if (!this.byKey.has(key) && this.byKey.size < MAX_SENTINELS) this.start(key);
  }

  /**
   * The keys waited on now, by sentinels that know their peer's name. One still connecting (slow under load) would
   * learn no name from a peer that died meanwhile, and its death would be told without one (no unmarked look).
   */
  keys(): number[] {
    return [...this.byKey].flatMap(([key, s]) => (s.wanted && s.ready ? [key] : []));
  }

  /** The process is stopping: every session closed now. */
  stop(): void {
    this.stopped = true;
    for (const { client } of this.byKey.values()) client.end().catch(() => undefined);
    this.byKey.clear();
  }

  private start(key: number): void {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('error', () => undefined); // reported by the query in flight, below
    const sentinel: Sentinel = { client, identity: null, wanted: true, ready: false };
    this.byKey.set(key, sentinel);
    void this.run(key, sentinel);
  }

  private async run(key: number, sentinel: Sentinel): Promise<void> {
    const { client } = sentinel;
    try {
      await client.connect();
      await client.query(`SET lock_timeout = ${Math.round(this.waitMs)}`);
      const holders = await presenceHolders(client);
      sentinel.identity = holders.find((h) => h.key === key)?.name || null;
      sentinel.ready = true;
      while (sentinel.wanted && !this.stopped) {
        try {
          await client.query('SELECT pg_advisory_lock_shared($1, $2)', [PRESENCE_LOCK_CLASS, key]);
        } catch (err) {
          if ((err as { code?: string }).code === LOCK_NOT_AVAILABLE) continue;
          throw err;
        }
        await client.query('SELECT pg_advisory_unlock_shared($1, $2)', [PRESENCE_LOCK_CLASS, key]);
        if (this.stopped) return;
        // Told even when no longer wanted: the watch's regular look may have taken the peer's marked attempts (and so
        // dropped it) between the death and this grant, and only this sentinel knows the peer's name, which its
        // unmarked attempts are found by. A lock granted means the peer's session ended, wanted or not.
        this.log.info({ key, identity: sentinel.identity }, 'a worker process left PostgreSQL: looking for its attempts now');
        this.gone(key, sentinel.identity);
        return;
      }
    } catch (err) {
      // Its connection lost (PostgreSQL restarting): the watch's regular look still finds a death.
      if (!this.stopped) this.log.debug({ err, key }, 'presence sentinel stopped');
    } finally {
      if (this.byKey.get(key) === sentinel) this.byKey.delete(key);
      client.end().catch(() => undefined);
    }
  }
}

/**
 * A row naming a live attempt of its job: marked by it (SlotGate.markActivity) and not taken as lost since, which names
 * it `lost:<token>` (drizzle/0064: every write fenced on that attempt's token is then refused). Unqualified columns.
 */
export const NAMES_LIVE_ATTEMPT = `activity_token IS NOT NULL AND activity_token NOT LIKE 'lost:%'`;

/**
 * One round trip a look: the lost attempts taken, and the keys of the processes running the others (the sentinels'
 * peers). The keys come from the statement's snapshot, before the take: those just taken are left out by the caller.
 */
const LOOK_SQL = `
  WITH lost AS (SELECT job_id, workflow_id, token, worker FROM take_lost_activities($1))
  SELECT job_id, workflow_id, token, worker FROM lost
  UNION ALL
  SELECT NULL, NULL, NULL, q.activity_worker FROM automation_queue q
   WHERE ${NAMES_LIVE_ATTEMPT} AND q.status IN ('queued', 'processing') AND q.activity_worker IS NOT NULL
   GROUP BY q.activity_worker`;

/**
 * Workflows whose job may have an activity attempt started and not yet marked: running (processing), or in line
 * with its activity started (hot, or called up from its workflow). Not a parked job's: its workflow starts no
 * activity before its call-up. Those just taken by the look are left out (failed by their token).
 */
const UNMARKED_SQL = `
  SELECT DISTINCT q.workflow_id FROM automation_queue q
   WHERE q.status IN ('queued', 'processing') AND NOT (${NAMES_LIVE_ATTEMPT}) AND NOT (q.id = ANY($1::uuid[]))
     AND (q.status = 'processing' OR (q.waiting_since IS NOT NULL AND (NOT q.parked OR q.called_up_at IS NOT NULL)))
   LIMIT 500`;

export class LostWorkerWatch {
  private readonly ticker: Ticker;
  private readonly opts: LostWorkerWatchOptions;
  private readonly sentinels: PeerSentinels | null;
  /** Peers gone, by name: when each was found gone, and when its looks' window last began (goneLookMs from then). */
  private readonly goneNames = new Map<string, { goneAt: number; lookFrom: number }>();

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
      // The sentinels' peers are learned by a look: the first one at once (it does nothing within the grace).
      runAtStart: true,
      onError: (err) => this.log.warn({ err }, 'lost-worker watch round failed; retrying next tick'),
    });
    const { databaseUrl, sentinelWaitMs } = this.opts;
    const gone = (_key: number, identity: string | null) => {
      if (identity && this.opts.failUnmarked && !this.goneNames.has(identity)) {
        const now = Date.now();
        this.goneNames.set(identity, { goneAt: now, lookFrom: now });
      }
      this.ticker.poke();
    };
    this.sentinels = databaseUrl ? new PeerSentinels(databaseUrl, log, gone, sentinelWaitMs) : null;
  }

  start(): void {
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
    this.sentinels?.stop();
  }

  /** The peer keys waited on now (for tests). */
  watchedKeys(): number[] {
    return this.sentinels?.keys() ?? [];
  }

  private async round(): Promise<void> {
    const since = this.presentSince();
    if (since === null || Date.now() - since < this.opts.graceMs) return;
    const { rows } = await this.pool.query<{ job_id: string | null; workflow_id: string; token: string; worker: number | null }>(LOOK_SQL, [
      PRESENCE_LOCK_CLASS,
    ]);
    const lost = rows.filter((r) => r.job_id !== null);
    if (this.sentinels) {
      const own = this.opts.ownKey?.();
      const taken = new Set(lost.map((r) => r.worker)); // dead: nothing left to wait for
      this.sentinels.watch(new Set(rows.flatMap((r) => (r.worker !== null && r.worker !== own && !taken.has(r.worker) ? [r.worker] : []))));
    }
    const [, failedUnmarked] = await Promise.all([
      Promise.all(lost.map((r) => this.failOne({ jobId: r.job_id!, workflowId: r.workflow_id, token: r.token }))),
      this.failUnmarked(lost.map((r) => r.job_id!)),
    ]);
    // Each failure just sent schedules a retry, which Temporal can hand a dead peer's still open polls: the looks go on
    // for goneLookMs from here. Under load a failure takes seconds (bench faults, 2026-12-05: 3.7 s on the dev server,
    // up to 5.7 s on the cluster), and counted from the death the looks had ended before those retries were handed
    // out: two ran out their heartbeat timeout (17 s after the kill).
    if (lost.length || failedUnmarked) for (const gone of this.goneNames.values()) gone.lookFrom = Date.now();
  }

  /**
   * A peer's attempts Temporal had given it that it died before marking (it died between Temporal's dispatch and
   * its first read of the job): no row names them, so Temporal's record of who started each is asked. Without
   * this only the heartbeat timeout ended them (bench faults: 1 of 12 attempts of a killed worker, 11 s). Asked again
   * at every round for GONE_LOOK_MS (see round()): attempts handed to the peer's open polls after the first look. Returns
   * how many it failed.
   */
  private async failUnmarked(taken: string[]): Promise<number> {
    const failUnmarked = this.opts.failUnmarked;
    const now = Date.now();
    for (const [name, { lookFrom }] of this.goneNames) if (now - lookFrom > this.opts.goneLookMs) this.goneNames.delete(name);
    if (!failUnmarked || !this.goneNames.size) return 0;
    // A process whose listener came back on a new key (its old session ended later) is alive: not judged by name.
    const holders = await presenceHolders(this.pool);
    for (const name of this.goneNames.keys()) if (holders.some((h) => h.name === name)) this.goneNames.delete(name);
    const names = [...this.goneNames];
    if (!names.length) return 0;
    const { rows } = await this.pool.query<{ workflow_id: string }>(UNMARKED_SQL, [taken]);
    if (!rows.length) return 0;
    const workflowIds = rows.map((r) => r.workflow_id);
    let total = 0;
    for (const [identity, { goneAt }] of names) {
      const t0 = Date.now();
      const session = await this.pool.connect();
      try {
        await session.query('BEGIN');
        const { rows: got } = await session.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok', [
          UNMARKED_LOOK_LOCK_CLASS,
          identity,
        ]);
        if (!got[0]!.ok) continue; // another watcher is looking: this one looks at its next round
        const failed = await failUnmarked(identity, workflowIds);
        total += failed;
        const look = { identity, failed, looked: workflowIds.length, ms: Date.now() - t0, sinceGoneMs: t0 - goneAt };
        if (failed) this.log.warn(look, 'worker process lost before marking attempts it had started: they resume elsewhere');
        else this.log.info(look, "looked for a lost worker's unmarked attempts: none");
      } catch (err) {
        this.log.warn({ err, identity }, "could not look for a lost worker's unmarked attempts; their heartbeat timeout will end them");
      } finally {
        // The lock ends with the transaction; a session whose COMMIT fails (PostgreSQL gone) is not put back.
        await session.query('COMMIT').then(
          () => session.release(),
          (err: Error) => session.release(err),
        );
      }
    }
    return total;
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
