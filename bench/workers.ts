/**
 * Worker processes for the bench: the real `src/workers/main.ts`, one Node
 * process each, spawned by the tests' spawnEntry (test/helpers/processes.ts).
 *
 * At info the 1000-job scenario would print tens of thousands of lines, so
 * the bench runs workers at warn, keeps only the tail, and asks Temporal
 * instead of waiting for a log line: a worker is ready once its identity
 * (pid@host, the SDK default) polls every task queue it serves.
 */
import os from 'node:os';
import type { ChildProcess } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { PROVIDERS, providerTaskQueue } from '../src/config/providers';
import { spawnEntry } from '../test/helpers/processes';

/** Worker bundling and start-up share two cores with everything else: be generous. */
const READY_TIMEOUT_MS = 120_000;
/** Warnings and errors the worker printed; only the tail is kept (shown when something breaks). */
const TAIL_LINES = 40;

// Numeric values of temporal.api.enums.v1 (@temporalio/proto is not a direct dependency).
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

export interface BenchWorker {
  name: string;
  pid: number;
  /** How Temporal names this process (lastWorkerIdentity of the activities it runs). */
  identity: string;
  child: ChildProcess;
  tail: string[];
  alive(): boolean;
  /** SIGTERM (graceful, escalates to SIGKILL after 10 s) or SIGKILL; resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnBenchWorker(name: string, env: Record<string, string>, client: Client, taskQueue: string): Promise<BenchWorker> {
  const spawned = await spawnEntry('src/workers/main.ts', {
    env: { ...env, LOG_LEVEL: 'warn' },
    keepLines: TAIL_LINES,
    timeoutMs: READY_TIMEOUT_MS,
    what: `worker ${name}`,
    ready: (p) => polling(client, taskQueue, `${p.child.pid}@${os.hostname()}`),
  });
  return {
    name,
    pid: spawned.child.pid!,
    identity: `${spawned.child.pid}@${os.hostname()}`,
    child: spawned.child,
    tail: spawned.lines,
    alive: spawned.alive,
    kill: spawned.kill,
  };
}

/** Whether `identity` polls the base workflow queue and every activity queue. */
async function polling(client: Client, taskQueue: string, identity: string): Promise<boolean> {
  const queues: Array<{ name: string; type: number }> = [
    { name: taskQueue, type: TASK_QUEUE_TYPE_WORKFLOW },
    { name: taskQueue, type: TASK_QUEUE_TYPE_ACTIVITY },
    ...PROVIDERS.map((p) => ({ name: providerTaskQueue(taskQueue, p), type: TASK_QUEUE_TYPE_ACTIVITY })),
  ];
  for (const q of queues) {
    const res = await client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: q.name, kind: TASK_QUEUE_KIND_NORMAL },
      taskQueueType: q.type,
    });
    if (!res.pollers.some((p) => p.identity === identity)) return false;
  }
  return true;
}
