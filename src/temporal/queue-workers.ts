/**
 * Which task queues a live worker serves, from the Temporal server's own view
 * (DescribeTaskQueue pollers). A queue nobody polls is the one stuck state the
 * database cannot see: its jobs stay 'queued', no activity starts, no heartbeat
 * goes missing and nothing is "running past its estimate". The dashboard, the
 * API, /metrics and `reelflow workers` all read it from here.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { providerTaskQueue, QUEUE_NAMES, type QueueName } from '../config/providers';

/**
 * A live worker's long poll lasts up to about 70 s and the server stamps its
 * last access when a poll starts or ends, so a stamp older than this is a
 * worker that has gone (the server lists pollers for minutes after they die).
 */
const WORKER_FRESH_MS = 90_000;

export interface QueueWorkers {
  queue: QueueName;
  taskQueue: string;
  /** Distinct worker identities that polled within WORKER_FRESH_MS. */
  workers: number;
  identities: string[];
  /** The most recent poll by anyone, or null if the server has none on record. */
  lastSeenAt: Date | null;
}

const { TaskQueueKind, TaskQueueType } = temporal.api.enums.v1;

/** How long the answer may take: the dashboard and /metrics wait for it. */
const ASK_TIMEOUT_MS = 5_000;

export async function queueWorkers(client: Client, baseQueue: string, now = Date.now()): Promise<QueueWorkers[]> {
  const ask = async (queue: QueueName): Promise<QueueWorkers> => {
    const taskQueue = queue === 'base' ? baseQueue : providerTaskQueue(baseQueue, queue);
    // The base queue runs the workflows: its workflow pollers are the ones that matter.
    const res = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: queue === 'base' ? TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    const seen = res.pollers.map((p) => ({
      identity: p.identity ?? '?',
      at: p.lastAccessTime ? Number(p.lastAccessTime.seconds ?? 0) * 1_000 + Math.floor((p.lastAccessTime.nanos ?? 0) / 1e6) : 0,
    }));
    const live = [...new Set(seen.filter((p) => now - p.at <= WORKER_FRESH_MS).map((p) => p.identity))].sort();
    const last = Math.max(0, ...seen.map((p) => p.at));
    return { queue, taskQueue, workers: live.length, identities: live, lastSeenAt: last ? new Date(last) : null };
  };
  return client.connection.withDeadline(now + ASK_TIMEOUT_MS, () => Promise.all(QUEUE_NAMES.map(ask)));
}
