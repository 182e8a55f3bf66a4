/**
 * What every workflow that runs provider jobs shares: a job lost with its workers is run again (resuming its
 * provider task), and a failure read back to its type and its provider's own message. No Node imports (sandbox).
 */
import * as wf from '@temporalio/workflow';
import { ActivityFailure, ApplicationFailure, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { MAX_WORKER_LOSSES } from '../config/providers';
import { FAILURE_TYPES } from '../shared/messages';

/**
 * Runs a provider activity again (same job, resuming its task) when its last attempts were lost
 * with their workers (WorkerLost or heartbeat timeout: killed or frozen; WorkerShutdown: a deploy).
 */
export async function surviveWorkerLoss<R>(run: () => Promise<R>): Promise<R> {
  for (let lost = 0; ;) {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const shutdown = failureType(err) === FAILURE_TYPES.workerShutdown;
      // Killed: found by the lost-worker watch (WorkerLost), or, frozen, by the heartbeat timeout.
      const died =
        failureType(err) === FAILURE_TYPES.workerLost ||
        (err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.HEARTBEAT);
      if (!shutdown && !(died && lost < MAX_WORKER_LOSSES)) throw err;
      if (died) lost++;
      wf.log.warn('provider activity lost its workers; running it again', { lost, shutdown });
    }
  }
}

export function failureType(err: unknown): string | undefined {
  let e: unknown = err;
  while (e) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function rootMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
