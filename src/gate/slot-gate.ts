/**
 * The process-side half of the provider gate. The SQL half (grant_slots,
 * release_slot in drizzle/0001) decides who gets a slot; this class waits for
 * that decision without polling:
 *
 * - a job joins its provider's line (wait_for_slot) and asks for a grant;
 * - any release runs grant_slots in the same transaction, which NOTIFYs the
 *   granted job id; the process hosting that job wakes it within milliseconds;
 * - a sweeper re-runs the grant every second for providers with local waiters
 *   (leases of dead processes, a missed notification);
 * - start spacing is claimed at the provider call itself (claimStart), or, for an attempt armed with its paid
 *   submit, by the grant itself: the NOTIFY then carries the claim and the submit leaves on it (drizzle/0033);
 * - one batched heartbeat keeps waiting jobs in line and held slots leased;
 * - the same listener carries provider events (a task ended), which cut a poll's nap short;
 * - with serveLine, each grant also pokes the line courier, which calls up parked jobs' workflows;
 * - the listener's session holds this process's presence lock: with watchLostWorkers, attempts of processes
 *   gone from PostgreSQL are failed at once (src/gate/presence.ts).
 *
 * Why PostgreSQL and not Temporal for this: worker options cap one process,
 * not the deployment, and Temporal 1.29 cannot reorder or reprioritise queued
 * tasks; a row per job in automation_queue ordered by (priority, enqueue time)
 * can, and reporting reads the same rows.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { SLOT_LEASE, type Provider } from '../config/providers';
import { FREED_WAKE_DELAY_MS, PROVIDER_EVENTS_CHANNEL, SLOT_FREED_SUFFIX } from './provider-events';
import { DeadlineExpiredError, JobClosedError, ReturnedToLineError, SupersededAttemptError } from '../shared/errors';
import { sleep } from '../shared/sleep';
import { DB_CLOCK_SQL, DbClock } from './db-clock';
import { LineCourier, type DeliverTurn } from './line-courier';
import {
  LostWorkerWatch,
  NAMES_LIVE_ATTEMPT,
  newPresenceKey,
  processIdentity,
  takePresence,
  type FailLostActivity,
  type LostWorkerWatchOptions,
} from './presence';

/** How long an event nobody waited for yet is kept (it may arrive while its poller is mid-request). */
const EVENT_MEMORY_MS = 60_000;
/** Times a late start is claimed again before the whole start margin is allowed (SlotGate.claimStart). */
const LATE_CLAIM_TRIES = 3;

/** record_start's refusal of a marked submit by an attempt its row no longer names (drizzle/0054). */
const SUPERSEDED_SQLSTATE = 'RF409';
/** record_start's refusal to mark a paid submit for a job closed meanwhile (a cancel during the spacing wait, 0056). */
const CLOSED_SQLSTATE = 'RF410';

/** An attempt's Temporal task token as the row keeps it (activity_token). */
export function attemptToken(taskToken: Uint8Array): string {
  return Buffer.from(taskToken).toString('base64');
}

/** A database refusal of an attempt its row no longer names (RF409, drizzle/0054 and 0059), as the error it means. */
export function supersededOr(err: unknown): unknown {
  // Through drizzle, the driver's error is the cause of a DrizzleQueryError.
  const pgErr = (err as { code?: string }).code ? err : (err as { cause?: unknown }).cause;
  const code = (pgErr as { code?: string } | undefined)?.code;
  return code === SUPERSEDED_SQLSTATE ? new SupersededAttemptError((pgErr as Error).message) : err;
}

/** Who holds a slot in this process's `holding`: the attempt's token, or '' for a caller without one. */
const holder = (taskToken: Uint8Array | undefined): string => (taskToken ? attemptToken(taskToken) : '');

interface Waiter {
  jobId: string;
  provider: Provider;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface AcquireOptions {
  attempt: number;
  signal?: AbortSignal;
  deadline?: Date | null;
  /** The attempt's Temporal task token (markActivity's): it leaves the line only while its row names it. */
  attemptToken?: Uint8Array;
}

export interface AcquireResult {
  /** True when the job already held its slot (a retried attempt resuming after a crash). */
  resumed: boolean;
}

export interface ClaimOptions {
  signal?: AbortSignal;
  /** A paid submit is leaving: recorded (submit_attempted_at) with the start. */
  markSubmit?: boolean;
  /** The submit's callback key, recorded (a 'submit_key' event) with the start, in the same round trip. */
  submitKey?: string;
  /**
   * The attempt's Temporal task token (markActivity's): a marked submit is claimed only while the row names this
   * attempt, else the claim throws SupersededAttemptError (drizzle/0054).
   */
  attemptToken?: Uint8Array;
}

/** A start claimed for a provider with spacing: its margin, and how long ago (ms) its stamp was taken. */
export interface StartClaim {
  marginMs: number;
  lateBy: () => number;
}

/** A start claimed in the grant (claim_armed_start): its stamp by the database's clock, and the provider's margin. */
interface GrantClaim {
  at: number;
  marginMs: number | null;
  /** The armed key the start was claimed for: only the attempt armed with it sends on the claim. */
  key: string;
}

interface GrantResult {
  granted: string[];
  claimed?: Record<string, GrantClaim>;
}

export class SlotGate {
  private readonly waiters = new Map<string, Waiter>();
  /**
   * Jobs of this process holding a slot, each with the attempt that holds it ('' for a caller without a token): their
   * lease is renewed by the heartbeat. An earlier attempt of the job still alive here forgets only its own hold.
   */
  private readonly holding = new Map<string, string>();
  /** Polls napping until a provider event for their key (or their interval) ends the nap. */
  private readonly nappers = new Map<string, Set<() => void>>();
  /** Events that found no napper, by key, with their arrival time (insertion order = age). */
  private readonly unclaimedEvents = new Map<string, number>();
  private listener: pg.Client | null = null;
  /** Every LISTEN client not yet closed: stop() closes them all, so none keeps the process alive. */
  private readonly clients = new Set<pg.Client>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private courier: LineCourier | null = null;
  private lostWorkers: LostWorkerWatch | null = null;
  /** This process's presence key (src/gate/presence.ts), held by the listener's session. */
  private presenceKey = newPresenceKey();
  /** Keys this process held before, whose attempts are not yet moved to presenceKey (listen). */
  private readonly oldKeys = new Set<number>();
  /** When the listener in service took the presence lock; null while none is connected. */
  private presentSince: number | null = null;
  /** This process's attempts armed with their paid submit's key (markActivity), until the submit claims. */
  private readonly armed = new Map<string, string>();
  /** Starts the grant claimed for armed attempts of this process, until their submit takes them. */
  private readonly claims = new Map<string, GrantClaim>();
  private readonly dbClock = new DbClock();

  constructor(
    private readonly pool: pg.Pool,
    private readonly databaseUrl: string,
    private readonly log: Logger,
    readonly lease: { readonly [K in keyof typeof SLOT_LEASE]: number } = SLOT_LEASE,
  ) {}

  async start(): Promise<void> {
    await this.listen();
    this.timers.push(setInterval(() => void this.sweep(), this.lease.sweepMs));
    this.timers.push(setInterval(() => void this.heartbeat(), this.lease.leaseRenewMs));
    for (const t of this.timers) t.unref();
  }

  /**
   * Serve the durable line from this process (a process that runs workflows): parked jobs' workflows are
   * signalled through `deliver` when granted or called up. Once per process; later calls change nothing.
   */
  serveLine(deliver: DeliverTurn): void {
    if (this.courier || this.stopped) return;
    this.courier = new LineCourier(this.pool, this.log, deliver);
    this.courier.start();
  }

  /**
   * Fail at Temporal the activity attempts of worker processes gone from PostgreSQL (every worker process, with
   * a client). Once per process; later calls change nothing.
   */
  watchLostWorkers(fail: FailLostActivity, opts?: Partial<LostWorkerWatchOptions>): void {
    if (this.lostWorkers || this.stopped) return;
    this.lostWorkers = new LostWorkerWatch(this.pool, this.log, fail, () => this.presentSince, {
      ...opts,
      databaseUrl: this.databaseUrl,
      ownKey: () => this.presenceKey,
    });
    this.lostWorkers.start();
  }

  /**
   * Records that this process runs `jobId`'s activity attempt `taskToken`: if the process dies, another one's
   * watch fails that attempt and the retry resumes the job elsewhere. With `armedSubmitKey`, the attempt's first
   * provider call is a paid submit with that key: a grant while it waits hot claims that start (drizzle/0033), and
   * claimStart with the same key then sends at once. Without, any earlier attempt's arm is cleared.
   */
  async markActivity(jobId: string, taskToken: Uint8Array, armedSubmitKey: string | null = null): Promise<void> {
    const token = attemptToken(taskToken);
    if (armedSubmitKey) this.armed.set(jobId, armedSubmitKey);
    // The key changed while this ran (listen): marked again with the key now held, or the move there missed it.
    for (let key = -1; key !== this.presenceKey;) {
      key = this.presenceKey;
      await this.pool.query('UPDATE automation_queue SET activity_worker = $2, activity_token = $3, armed_submit_key = $4 WHERE id = $1', [
        jobId,
        key,
        token,
        armedSubmitKey,
      ]);
    }
  }

  /**
   * The attempt's arm, if its submit never claimed with it: true when the attempt stops without having sent it,
   * so a start the grant claimed for it must be given back (release_unused_claim).
   */
  disarm(jobId: string, key: string): boolean {
    // Another attempt of the job armed in this process since (this one given up on by Temporal): its arm stays.
    if (this.armed.get(jobId) !== key) return false;
    this.claims.delete(jobId);
    return this.armed.delete(jobId);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.courier?.stop();
    this.lostWorkers?.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const listener = this.listener;
    this.listener = null;
    this.presentSince = null;
    if (listener) await this.unmarkOwnAttempts(listener);
    await Promise.all([...this.clients].map((c) => this.close(c)));
  }

  /**
   * Stopped after its workers (Runtime.close), this process runs no attempt any more: its marks go before its
   * presence does. Left on the rows it handed back, they read as a lost worker's to every watch once its session
   * ended, and each was failed at Temporal for nothing ("worker process lost … outcome=gone" at the demo's next
   * start after a Ctrl-C, and after every deploy). On the listener's own session, so a PostgreSQL that does not
   * answer costs the stop a second at most: the watches then take them as before.
   */
  private async unmarkOwnAttempts(listener: pg.Client): Promise<void> {
    const unmark = listener.query(
      `UPDATE automation_queue SET activity_token = NULL WHERE activity_worker = ANY($1::int[]) AND ${NAMES_LIVE_ATTEMPT}`,
      [[this.presenceKey, ...this.oldKeys]],
    );
    if (!(await answeredWithin(unmark, 1_000))) this.log.debug("could not unmark this process's attempts at its stop");
  }

  /**
   * Ends a LISTEN client; if the server does not answer the goodbye (a
   * connection that died silently), drops its socket, so a stopping worker
   * never waits on it.
   */
  private async close(client: pg.Client): Promise<void> {
    this.clients.delete(client);
    if (!(await answeredWithin(client.end(), 1_000))) {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    }
  }

  /** Resolves once `jobId` holds a slot of `provider`. */
  async acquire(jobId: string, provider: Provider, opts: AcquireOptions): Promise<AcquireResult> {
    for (let turn = 1; ; turn++) {
      // A previous attempt of this job may still hold (or hold-until) its slot: take it over.
      const held = await this.pool.query<{ resumed: boolean }>('SELECT resume_job($1, $2, $3) AS resumed', [
        jobId,
        opts.attempt,
        this.lease.leaseTtlMs,
      ]);
      if (held.rows[0]!.resumed) {
        this.holding.set(jobId, holder(opts.attemptToken));
        return { resumed: true };
      }
      // The previous attempt died holding no slot any more: back in line.
      await this.pool.query('SELECT requeue_job($1)', [jobId]);
      const joined = await this.pool.query('SELECT 1 FROM wait_for_slot($1, $2) WHERE id IS NOT NULL', [jobId, opts.attempt]);
      if (joined.rowCount) break;
      // Not in line: closed, or granted a slot between the two steps above. The latter happens when
      // an earlier try of this join lost its connection before it could leave the line (the row
      // stayed in line, and another process's grant picked it): the next turn resumes that slot.
      const { rows } = await this.pool.query<{ open: boolean }>(
        `SELECT status IN ('queued', 'processing') AS open FROM automation_queue WHERE id = $1`,
        [jobId],
      );
      if (!rows[0]?.open) throw new JobClosedError(`job ${jobId} is no longer open (cancelled, completed or failed)`);
      if (turn >= 3) throw new Error(`job ${jobId} could not join its line: granted and released ${turn} times while joining`);
    }
    if (opts.deadline && opts.deadline.getTime() <= Date.now()) {
      await this.leaveLine(jobId);
      throw new DeadlineExpiredError(`deadline ${opts.deadline.toISOString()} passed before the job got a slot`);
    }

    let waiter: Waiter | undefined;
    const granted = new Promise<void>((resolve, reject) => {
      waiter = { jobId, provider, resolve, reject };
      this.waiters.set(jobId, waiter);
    });
    // Sent back to its workflow (returnPassed) while the grant below is still out: handled by the race after it.
    granted.catch(() => undefined);
    const cleanups: Array<() => void> = [];
    const abort = new Promise<never>((_, reject) => {
      if (opts.signal) {
        const onAbort = () => reject(opts.signal!.reason ?? new Error('cancelled'));
        if (opts.signal.aborted) onAbort();
        opts.signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => opts.signal!.removeEventListener('abort', onAbort));
      }
      if (opts.deadline) {
        const ms = Math.max(0, opts.deadline.getTime() - Date.now());
        const timer = setTimeout(
          () => reject(new DeadlineExpiredError(`deadline ${opts.deadline!.toISOString()} passed before the job got a slot`)),
          Math.min(ms, 2 ** 31 - 1),
        );
        cleanups.push(() => clearTimeout(timer));
      }
    });
    abort.catch(() => undefined);
    try {
      // Granted by another process between joining and the waiter above: its wake found no waiter.
      await this.grant(provider, jobId);
      await Promise.race([granted, abort]);
      this.holding.set(jobId, holder(opts.attemptToken));
      return { resumed: false };
    } catch (err) {
      // Sent back to its workflow: it stays in line, parked.
      if (!(err instanceof ReturnedToLineError)) await this.leaveLine(jobId, opts.attemptToken);
      throw err;
    } finally {
      // Another attempt of the job may wait in this process now (this one given up on by Temporal): its waiter stays.
      if (this.waiters.get(jobId) === waiter) this.waiters.delete(jobId);
      for (const c of cleanups) c();
    }
  }

  /**
   * Stops renewing the lease (the job's end was recorded by complete/fail/cancel, which freed the slot). With the
   * attempt's token, only that attempt's hold: a later attempt that resumed the slot in this process keeps it renewed.
   */
  forget(jobId: string, attempt?: Uint8Array): void {
    if (attempt === undefined || this.holding.get(jobId) === holder(attempt)) this.holding.delete(jobId);
  }

  /**
   * The uncancellable provider task of a cancelled job ended (state: how): the
   * slot its cancel kept counted is free again, and goes to the next job.
   */
  async releaseFollowed(jobId: string, state: string): Promise<void> {
    this.holding.delete(jobId);
    await this.pool.query('SELECT release_followed_slot($1, $2)', [jobId, state]);
  }

  /** Leaves the line, or gives back a slot granted in the meantime. */
  /** With the attempt's token, only while its row names that attempt: a later one waiting in line keeps its place. */
  private async leaveLine(jobId: string, token?: Uint8Array): Promise<void> {
    await this.pool
      .query('SELECT leave_line($1, $2)', [jobId, token ? attemptToken(token) : null])
      .catch((err) => this.log.warn({ err, jobId }, 'could not leave the slot line'));
  }

  /**
   * Grants what is free, waking this process's jobs granted. With `own`, also wakes that job if it held a slot
   * already (granted before this statement, by anyone), in the same round trip: grant_slots reports only its own grants.
   */
  private async grant(provider: Provider, own: string | null = null): Promise<void> {
    const { rows } = await this.pool.query<{ result: GrantResult; held: boolean }>(
      'SELECT grant_slots($1, $2) AS result, EXISTS (SELECT 1 FROM provider_slots WHERE job_id = $3) AS held',
      [provider, this.lease.leaseTtlMs, own],
    );
    const { granted, claimed } = rows[0]!.result;
    for (const id of granted) {
      this.heldClaim(id, claimed?.[id]);
      this.wake(id);
    }
    if (own && rows[0]!.held) this.wake(own);
  }

  /**
   * Start spacing, checked at the provider call itself: waits until the
   * provider's minimum interval since the last start (any process) has passed,
   * then records this start (and, with markSubmit, that a paid submit is
   * leaving, and its callback key). Call it immediately before the request.
   *
   * The start is stamped by the database, somewhere inside the round trip; the
   * request leaves only when this process gets to run again. When that took
   * longer than half the provider's start margin (a loaded event loop), the stamp is moved to now
   * and checked again before sending: else the next start, spaced from the
   * early stamp, could reach the provider closer than the interval (seen here:
   * 189 ms apart for a 300 ms interval under a full test run).
   */
  async claimStart(jobId: string, provider: Provider, opts: ClaimOptions = {}): Promise<StartClaim | null> {
    const inGrant = this.takeClaim(jobId, opts);
    let { margin, lateBy } = inGrant
      ? { margin: inGrant.marginMs, lateBy: () => this.dbClock.msSince(inGrant.at) }
      : await this.claimWhenDue(jobId, provider, opts, false);
    // The start is recorded (a paid submit marked as leaving): from here on the request leaves, whatever happens.
    for (let refreshes = 1; margin !== null; refreshes++) {
      const lateMs = Math.round(lateBy());
      // Half the margin is for this wait, half for the request itself (a new TCP connection). After a few tries
      // the whole margin is allowed, so a process that stays that slow still sends.
      if (lateMs <= (refreshes <= LATE_CLAIM_TRIES ? margin / 2 : margin)) return { marginMs: margin, lateBy };
      this.log.info({ jobId, provider, lateMs, refreshes }, 'start claimed too long before the request could leave; claiming it again');
      const asClaimed: StartClaim = { marginMs: margin, lateBy };
      try {
        ({ margin, lateBy } = await this.claimWhenDue(jobId, provider, opts, true));
      } catch (err) {
        this.log.warn({ err, jobId, provider }, 'could not claim a late start again; the request leaves as first claimed');
        return asClaimed;
      }
    }
    return null;
  }

  /**
   * The claimed start's request has left (its bytes handed to the OS). The check in claimStart stops before the
   * request is written: a process stalled after it (a new connection's round trip, a GC pause, a busy event loop)
   * sends later than its stamp says, and the next start, spaced from the stamp, could reach the provider closer
   * than the interval (seen: 193 ms for a 300 ms interval in a CI run). When the request left more than half the
   * margin after its stamp, the spacing clock moves to now, unless another start was recorded since. The next
   * start cannot be due before the stamp plus the interval and the margin, so a delay shorter than that is always
   * caught here in time; a longer one is logged. Never throws: the request has left either way.
   */
  async startLeft(jobId: string, provider: Provider, claim: StartClaim): Promise<void> {
    const lateMs = Math.round(claim.lateBy());
    if (lateMs <= claim.marginMs / 2) return;
    try {
      const moved = await this.pool.query(
        `UPDATE provider_limits SET last_start_at = clock_timestamp()
          WHERE provider = $1 AND last_start_job = $2 AND last_start_at < clock_timestamp()`,
        [provider, jobId],
      );
      if (moved.rowCount)
        this.log.info({ jobId, provider, lateMs }, 'start left late after its claim; the next start is spaced from when it left');
      else
        this.log.warn(
          { jobId, provider, lateMs },
          'start left late after its claim and another start was recorded since: ' +
            'the provider may have seen the two closer than the interval',
        );
    } catch (err) {
      this.log.warn({ err, jobId, provider, lateMs }, 'start left late after its claim; could not move the spacing clock');
    }
  }

  /**
   * The start the grant claimed for this attempt's submit (`opts` names the armed key), if it did. The arm is spent
   * by the submit's claim either way: claimed or not, the submit is leaving.
   */
  private takeClaim(jobId: string, opts: ClaimOptions): GrantClaim | null {
    const key = this.armed.get(jobId);
    if (!key || !opts.markSubmit || opts.submitKey !== key) return null;
    this.armed.delete(jobId);
    const claim = this.claims.get(jobId) ?? null;
    this.claims.delete(jobId);
    return claim;
  }

  /**
   * A claim granted to an armed attempt of this process, kept for its submit: only for the attempt armed with the key
   * it was claimed for (an attempt Temporal gave up on, still waiting here, must not send on its successor's claim).
   */
  private heldClaim(jobId: string, claim: GrantClaim | undefined): void {
    if (claim && this.armed.get(jobId) === claim.key) this.claims.set(jobId, claim);
  }

  /**
   * claim_start until it claims, sleeping the waits it answers: the provider's margin (null without spacing:
   * nothing to keep apart) and how long ago the claim that succeeded was asked. A first claim stops on the
   * signal; a refresh does not (its start is recorded already).
   */
  private async claimWhenDue(jobId: string, provider: Provider, opts: ClaimOptions, refresh: boolean) {
    for (;;) {
      if (!refresh) opts.signal?.throwIfAborted();
      const asked = performance.now();
      const { rows } = await this.pool
        .query<{ wait: number; margin: number | null }>(
          'SELECT wait_ms AS wait, margin_ms AS margin FROM claim_start($1, $2, $3, $4, $5, p_attempt => $6)',
          [
            provider,
            jobId,
            opts.markSubmit ?? false,
            opts.submitKey ?? null,
            refresh,
            opts.attemptToken ? attemptToken(opts.attemptToken) : null,
          ],
        )
        .catch((err: unknown) => {
          if ((err as { code?: string }).code === CLOSED_SQLSTATE) throw new JobClosedError((err as Error).message);
          throw supersededOr(err);
        });
      const { wait, margin } = rows[0]!;
      if (wait <= 0) return { margin, lateBy: () => performance.now() - asked };
      await sleep(wait);
    }
  }

  /**
   * Sleeps `ms`, or less when a provider event for `key` arrives (or arrived
   * since the last nap on that key). Rejects with the signal's reason on abort.
   */
  nap(key: string, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.unclaimedEvents.delete(key)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const set = this.nappers.get(key) ?? new Set<() => void>();
      this.nappers.set(key, set);
      const finish = (err?: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        set.delete(wakeUp);
        if (!set.size) this.nappers.delete(key);
        if (err === undefined) resolve();
        else reject(err);
      };
      const wakeUp = () => finish();
      const onAbort = () => finish(signal!.reason ?? new Error('aborted'));
      const timer = setTimeout(wakeUp, ms);
      set.add(wakeUp);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private providerEvent(key: string): void {
    if (key.endsWith(SLOT_FREED_SUFFIX)) {
      setTimeout(() => this.providerEvent(key.slice(0, -SLOT_FREED_SUFFIX.length)), FREED_WAKE_DELAY_MS).unref();
      return;
    }
    const set = this.nappers.get(key);
    if (set?.size) {
      for (const wakeUp of [...set]) wakeUp();
      return;
    }
    // Every process hears every event; remember briefly in case this one's poller is mid-request.
    const now = Date.now();
    this.unclaimedEvents.delete(key);
    this.unclaimedEvents.set(key, now);
    for (const [k, at] of this.unclaimedEvents) {
      if (at > now - EVENT_MEMORY_MS) break;
      this.unclaimedEvents.delete(k);
    }
  }

  private wake(jobId: string): void {
    this.takeWaiter(jobId)?.resolve();
  }

  /** The job's waiter, no longer waiting: its wait ends once (granted, or sent back). */
  private takeWaiter(jobId: string): Waiter | undefined {
    const waiter = this.waiters.get(jobId);
    this.waiters.delete(jobId);
    return waiter;
  }

  private async sweep(): Promise<void> {
    if (this.stopped || this.waiters.size === 0) return;
    try {
      const providers = new Set([...this.waiters.values()].map((w) => w.provider));
      for (const provider of providers) await this.grant(provider);
      // A notification lost while the listener reconnected: the slot row is the truth.
      const ids = [...this.waiters.keys()];
      const { rows } = await this.pool.query<{ job_id: string }>('SELECT job_id FROM provider_slots WHERE job_id = ANY($1::uuid[])', [ids]);
      for (const r of rows) this.wake(r.job_id);
    } catch (err) {
      this.log.warn({ err }, 'slot sweep failed; retrying next tick');
    }
  }

  private async heartbeat(): Promise<void> {
    const waiting = [...this.waiters.keys()];
    const ids = [...waiting, ...this.holding.keys()];
    if (this.stopped || ids.length === 0) return;
    await this.dbClock
      .sampled(() =>
        this.pool.query<{ db_ms: number }>(`SELECT heartbeat_jobs($1::uuid[], $2), ${DB_CLOCK_SQL} AS db_ms`, [ids, this.lease.leaseTtlMs]),
      )
      .catch((err) => this.log.warn({ err }, 'slot heartbeat failed; retrying next tick'));
    if (waiting.length) await this.returnPassed(waiting);
  }

  /**
   * Waiters pushed back in their line by later, higher-priority jobs go back to their workflows (drizzle/0021):
   * a waiting activity heartbeats Temporal and PostgreSQL, a parked job costs nothing until its turn comes.
   */
  private async returnPassed(waiting: string[]): Promise<void> {
    try {
      const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM return_to_line($1::uuid[]) AS id', [waiting]);
      for (const { id } of rows) {
        const waiter = this.takeWaiter(id);
        if (waiter) waiter.reject(new ReturnedToLineError(`job ${id} was pushed back in its line: it waits in its workflow again`));
        // Granted after it was sent back, and woken before the answer came: its activity runs the job after all.
        else await this.pool.query('UPDATE automation_queue SET parked = false WHERE id = $1', [id]);
      }
    } catch (err) {
      this.log.warn({ err }, 'could not send passed waiters back to their workflows; trying again next tick');
    }
  }

  /**
   * The sweeper keeps grants flowing (1 s latency) while the listener is down.
   * One reconnection at a time: a lost connection reports itself more than once
   * (a socket error, then its end; a failed LISTEN, then the client's error),
   * and each report used to start its own client, all but one left open.
   */
  private reconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.listen().catch(() => this.reconnect());
    }, 1_000);
    this.reconnectTimer.unref();
  }

  private async listen(): Promise<void> {
    // Named as this process's workers are at Temporal: a peer's sentinel reads it (src/gate/presence.ts).
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: processIdentity() });
    this.clients.add(client);
    client.on('notification', (msg) => {
      if (msg.channel === 'reelflow_slots' && msg.payload) {
        // '<job id>', or '<job id> <stamp ms> <margin ms or empty> <key>' when the grant claimed the job's start for
        // the attempt armed with that key (drizzle/0033, 0054).
        const [jobId, at, margin, key] = msg.payload.split(' ');
        if (at && key) this.heldClaim(jobId!, { at: Number(at), marginMs: margin ? Number(margin) : null, key });
        this.wake(jobId!);
        this.courier?.poke();
      }
      if (msg.channel === PROVIDER_EVENTS_CHANNEL && msg.payload) this.providerEvent(msg.payload);
    });
    client.on('error', (err) => {
      // Only the client in service reconnects; one that failed while connecting is retried by listen's caller.
      if (this.listener !== client) return;
      this.log.warn({ err }, 'slot listener lost its connection; reconnecting');
      this.listener = null;
      this.presentSince = null;
      void this.close(client);
      this.reconnect();
    });
    try {
      await client.connect();
      const before = this.presenceKey;
      this.presenceKey = await takePresence(client, before);
      // The old key is still held by this process's previous session (a network cut leaves it open on the server
      // until TCP gives up): this process's running attempts move to the new key, or every watcher would fail them
      // as lost once that session ends. Kept until moved: a move cut short is made by the next connection.
      if (this.presenceKey !== before) this.oldKeys.add(before);
      if (this.oldKeys.size) {
        const moved = await client.query(
          `UPDATE automation_queue SET activity_worker = $2 WHERE activity_worker = ANY($1::int[]) AND ${NAMES_LIVE_ATTEMPT}`,
          [[...this.oldKeys], this.presenceKey],
        );
        this.log.info(
          { oldKeys: [...this.oldKeys], key: this.presenceKey, attempts: moved.rowCount },
          'running attempts moved from presence keys an old session held to this one',
        );
        this.oldKeys.clear();
      }
      await this.dbClock.sampled(() => client.query<{ db_ms: number }>(`SELECT ${DB_CLOCK_SQL} AS db_ms`));
      await client.query('LISTEN reelflow_slots');
      await client.query(`LISTEN ${PROVIDER_EVENTS_CHANNEL}`);
    } catch (err) {
      await this.close(client);
      throw err;
    }
    if (this.stopped) {
      await this.close(client);
      return;
    }
    this.listener = client;
    this.presentSince = Date.now();
  }
}

/** Whether `call` succeeded within `ms` (false when it failed or did not answer in time); the timer goes with the answer. */
async function answeredWithin(call: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const answered = call.then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
