/** Connecting to Temporal with an error that says what to do when it is down. */
import { ApplicationFailure } from '@temporalio/common';
import {
  ActivityNotFoundError,
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { DeliverTurn } from '../gate/line-courier';
import { TemporalUnavailableError } from '../shared/errors';
import type { FailLostActivity } from '../gate/presence';
import { FAILURE_TYPES, lineTurnSignal } from '../shared/messages';

export async function connectTemporal(address: string, namespace: string): Promise<Client> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '5 seconds' });
    await connection.workflowService.getSystemInfo({});
    return new Client({ connection, namespace });
  } catch (err) {
    throw new TemporalUnavailableError(
      `cannot reach the Temporal server at ${address} (${(err as Error).message.split('\n')[0]}); start it with \`npm run temporal\``,
    );
  }
}

/**
 * Starts a workflow under its id; false when the id is taken (a run of it is open, or closed where the reuse
 * policy refuses it): the callers' "once" (a post's metrics series, a republish).
 */
export async function startWorkflowOnce(client: Client, workflowType: string, options: WorkflowStartOptions): Promise<boolean> {
  try {
    await client.workflow.start(workflowType, options);
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/** The line courier's delivery (src/gate/line-courier.ts): a lineTurn signal to the parked job's workflow. */
export function signalLineTurn(client: Client): DeliverTurn {
  return async ({ jobId, workflowId, granted }) => {
    try {
      await client.workflow.getHandle(workflowId).signal(lineTurnSignal, { jobId, granted });
      return 'delivered';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'gone';
      throw err;
    }
  };
}

/**
 * A lost attempt's retry is not backed off: its process is known gone, nothing to wait out (the retry policy's
 * first interval, 500 ms, is for a failure that may recur).
 */
const LOST_RETRY_DELAY = '10 ms';

/**
 * The lost-worker watch's failure (src/gate/presence.ts): the attempt fails as WorkerLost, retryable, so its
 * retry runs it again at once on a live process; 'gone' when Temporal no longer runs that attempt.
 */
export function failLostActivity(client: Client): FailLostActivity {
  return async ({ token }) => {
    try {
      await client.activity.fail(
        Buffer.from(token, 'base64'),
        ApplicationFailure.create({
          message: 'the worker process running this attempt is gone (its PostgreSQL session ended)',
          type: FAILURE_TYPES.workerLost,
          nextRetryDelay: LOST_RETRY_DELAY,
        }),
      );
      return 'failed';
    } catch (err) {
      if (err instanceof ActivityNotFoundError) return 'gone';
      throw err;
    }
  };
}
