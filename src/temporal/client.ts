/** Connecting to Temporal with an error that says what to do when it is down. */
import { ApplicationFailure } from '@temporalio/common';
import {
  ActivityNotFoundError,
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type FullActivityId,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { DeliverTurn } from '../gate/line-courier';
import { TemporalUnavailableError } from '../shared/errors';
import { sameIdentity, type FailLostActivity, type FailUnmarkedAttempts } from '../gate/presence';
import { mapLimit } from '../shared/map-limit';
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
 * A client whether or not the server answers now, for what can do without it for a while (the API's dashboard, the
 * CLI's database reads): `down` says why it did not answer. Such a client dials on its first call; a call made while
 * the server is still down fails as UNAVAILABLE (the API answers it 503), and once it is back calls work again after
 * grpc-js's reconnect backoff: measured here, within 8 s of the server's return after 30 s away, asked every second
 * (a server restarted with `npm run temporal` takes its own start on top).
 */
export async function connectTemporalOrLater(address: string, namespace: string): Promise<{ client: Client; down?: string }> {
  try {
    return { client: await connectTemporal(address, namespace) };
  } catch (err) {
    if (!(err instanceof TemporalUnavailableError)) throw err;
    return { client: new Client({ connection: Connection.lazy({ address }), namespace }), down: err.message };
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
  return async ({ token }) => ((await failWorkerLost(client, Buffer.from(token, 'base64'))) ? 'failed' : 'gone');
}

/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED: a worker has the attempt. */
export const ACTIVITY_STARTED = 2;

/** Temporal shows this pending activity's attempt started, by the process named `identity` (its PostgreSQL name). */
function startedBy(a: { state?: number | null; lastWorkerIdentity?: string | null }, identity: string): boolean {
  return a.state === ACTIVITY_STARTED && sameIdentity(a.lastWorkerIdentity ?? '', identity);
}

/** Workflows described at once while looking for a lost process's unmarked attempts. */
const DESCRIBES_AT_ONCE = 10;

/**
 * The lost-worker watch's look for attempts a lost process died before marking (src/gate/presence.ts): each
 * workflow's pending activities, as Temporal records who started them; those started by the lost process fail as
 * WorkerLost, by their ids (no token was recorded).
 */
export function failUnmarkedAttempts(client: Client): FailUnmarkedAttempts {
  return async (identity, workflowIds) => {
    const failed = await mapLimit(workflowIds, DESCRIBES_AT_ONCE, async (workflowId) => {
      const described = await client.workflow
        .getHandle(workflowId)
        .describe()
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return null;
          throw err;
        });
      let n = 0;
      for (const a of described?.raw.pendingActivities ?? []) {
        if (!a.activityId || !startedBy(a, identity)) continue;
        if (await failWorkerLost(client, { workflowId, runId: described!.runId, activityId: a.activityId })) n++;
      }
      return n;
    });
    return failed.reduce((sum, n) => sum + n, 0);
  };
}

/** Fails one attempt as WorkerLost, retryable at once; false when Temporal no longer runs it. */
async function failWorkerLost(client: Client, attempt: Uint8Array | FullActivityId): Promise<boolean> {
  const failure = ApplicationFailure.create({
    message: 'the worker process running this attempt is gone (its PostgreSQL session ended)',
    type: FAILURE_TYPES.workerLost,
    nextRetryDelay: LOST_RETRY_DELAY,
  });
  try {
    // Two overloads: by the attempt's token, or by its ids (the current attempt).
    await (attempt instanceof Uint8Array ? client.activity.fail(attempt, failure) : client.activity.fail(attempt, failure));
    return true;
  } catch (err) {
    if (err instanceof ActivityNotFoundError) return false;
    throw err;
  }
}
