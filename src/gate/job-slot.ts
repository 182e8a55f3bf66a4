/**
 * One job's passage through the gate, as a provider activity sees it:
 *
 *   takeSlot (join the line, or take over the slot a previous attempt holds)
 *   -> call (start spacing claimed at each provider call that counts as a start)
 *   -> pollUntil (nap between status reads; a provider event cuts the nap short)
 *   -> leave (the lease stops being renewed; complete/fail/cancel freed the slot)
 *
 * Nothing here knows Temporal: the activity side (heartbeats, failures,
 * completion) is runProviderJob in src/activities/provider-job.ts.
 */
import type { Provider } from '../config/providers';
import { sleep } from '../shared/sleep';
import { whenRequestLeaves } from '../providers/http-transport';
import type { AcquireOptions, ClaimOptions, SlotGate } from './slot-gate';

export interface PollOptions {
  intervalMs: number;
  signal?: AbortSignal;
  /** providerEventKey of the task: its callback ends the nap at once. */
  wakeKey?: string;
  /** Each status read (the activity heartbeats it). */
  onStatus?: (state: string) => void;
}

export interface JobSlot {
  jobId: string;
  provider: Provider;
  /** The job already held its slot (a retried attempt resuming after a crash or a deploy). */
  resumed: boolean;
  /**
   * A provider call that counts as a start: waits for the provider's start
   * spacing (any process), records the start (and with markSubmit, that a paid
   * submit is leaving), then calls `fn`.
   */
  call<R>(fn: () => Promise<R>, opts?: ClaimOptions): Promise<R>;
  /** Reads `read` until `done`, napping `intervalMs` between reads. */
  pollUntil<S extends { state: string }>(read: () => Promise<S>, done: (s: S) => boolean, opts: PollOptions): Promise<S>;
  /**
   * The job was cancelled while its provider task, which the provider cannot
   * cancel, still runs: keep the slot (lease renewed) until the task ends, then
   * free it. Gives up at `until` or on `signal` (this process stopping): the
   * hold-until written by the cancel then bounds the slot. Returns how the task ended, or null.
   */
  followToEnd<S extends { state: string }>(
    read: () => Promise<S>,
    done: (s: S) => boolean,
    opts: Omit<PollOptions, 'signal'> & { until: Date; signal?: AbortSignal },
  ): Promise<string | null>;
  /**
   * The job was cancelled while its task ran, and the task has ended (state:
   * how): free the slot the cancel kept counted. A no-op when no slot is held.
   */
  taskEnded(state: string): Promise<void>;
  /** Stops renewing the lease (the job's end was recorded, which freed the slot). */
  leave(): void;
}

/** Resolves once `jobId` holds a slot of `provider` (priority order, global cap, deadline). */
export async function takeSlot(gate: SlotGate, jobId: string, provider: Provider, opts: AcquireOptions): Promise<JobSlot> {
  const { resumed } = await gate.acquire(jobId, provider, opts);
  const slot: JobSlot = {
    jobId,
    provider,
    resumed,
    async call(fn, callOpts = {}) {
      const claim = await gate.claimStart(jobId, provider, callOpts);
      // Spaced starts: when the request left late after its stamp, the next start is spaced from when it left.
      return claim ? whenRequestLeaves(() => void gate.startLeft(jobId, provider, claim), fn) : fn();
    },
    async pollUntil(read, done, pollOpts) {
      for (;;) {
        pollOpts.signal?.throwIfAborted();
        const status = await read();
        pollOpts.onStatus?.(status.state);
        if (done(status)) return status;
        if (pollOpts.wakeKey) await gate.nap(pollOpts.wakeKey, pollOpts.intervalMs, pollOpts.signal);
        else await sleep(pollOpts.intervalMs, pollOpts.signal);
      }
    },
    async followToEnd<S extends { state: string }>(
      read: () => Promise<S>,
      done: (s: S) => boolean,
      followOpts: Omit<PollOptions, 'signal'> & { until: Date; signal?: AbortSignal },
    ) {
      const giveUp = new AbortController();
      const timer = setTimeout(() => giveUp.abort(new Error('hold bound reached')), Math.max(0, followOpts.until.getTime() - Date.now()));
      const signal = followOpts.signal ? AbortSignal.any([followOpts.signal, giveUp.signal]) : giveUp.signal;
      try {
        // A failed read is not the end of the task: keep asking until the bound.
        const status = await slot.pollUntil<{ state: string }>(
          () => read().catch(() => ({ state: 'unknown' })),
          (s) => s.state !== 'unknown' && done(s as S),
          { ...followOpts, signal },
        );
        await gate.releaseFollowed(jobId, status.state);
        return status.state;
      } catch {
        return null;
      } finally {
        clearTimeout(timer);
        gate.forget(jobId, opts.attemptToken);
      }
    },
    taskEnded(state) {
      return gate.releaseFollowed(jobId, state);
    },
    leave() {
      gate.forget(jobId, opts.attemptToken);
    },
  };
  return slot;
}
