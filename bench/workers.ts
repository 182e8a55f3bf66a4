/**
 * Worker processes for the bench: the real `src/workers/main.ts`, one Node
 * process each, spawned by the tests' spawnEntry (test/helpers/processes.ts).
 *
 * At info the 1000-job scenario would print tens of thousands of lines, so
 * the bench runs workers at warn, keeps only the tail, and asks Temporal
 * instead of waiting for a log line: a worker is ready once its identity
 * (pid@host, the SDK default) polls every task queue it serves.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { QUEUE_NAMES, providerTaskQueue, type QueueName } from '../src/config/providers';
import { spawnEntry } from '../test/helpers/processes';

/** Worker bundling and start-up share two cores with everything else: be generous. */
const READY_TIMEOUT_MS = 120_000;
/** Warnings and errors the worker printed; only the tail is kept (shown when something breaks). */
const TAIL_LINES = 40;
/** A directory: each worker's whole output is kept there as <name>-<pid>.log (BENCH_WORKER_LOGS; otherwise only its tail). */
const LOG_DIR = process.env.BENCH_WORKER_LOGS;
// Made here: a worker's log stream opening in a missing directory would crash the bench.
if (LOG_DIR) mkdirSync(LOG_DIR, { recursive: true });

// Numeric values of temporal.api.enums.v1 (@temporalio/proto is not a direct dependency).
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

/** A worker process to start: a name, and the queues it serves (`--queue`; every queue when unset). */
export type WorkerSpec = string | { name: string; queues: readonly QueueName[] };

export interface BenchWorker {
  name: string;
  /** The queues it serves. */
  queues: readonly QueueName[];
  pid: number;
  /** How Temporal names this process (lastWorkerIdentity of the activities it runs). */
  identity: string;
  child: ChildProcess;
  tail: string[];
  alive(): boolean;
  /** SIGTERM (graceful, escalates to SIGKILL after 10 s) or SIGKILL; resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnBenchWorker(
  spec: WorkerSpec,
  env: Record<string, string>,
  client: Client,
  taskQueue: string,
): Promise<BenchWorker> {
  const { name, queues } = typeof spec === 'string' ? { name: spec, queues: QUEUE_NAMES } : spec;
  const spawned = await spawnEntry('src/workers/main.ts', {
    args: queues === QUEUE_NAMES ? [] : queues.flatMap((q) => ['--queue', q]),
    env: { ...env, LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'warn' },
    keepLines: TAIL_LINES,
    timeoutMs: READY_TIMEOUT_MS,
    what: `worker ${name}`,
    ...(LOG_DIR ? { logFile: (pid: number) => path.join(LOG_DIR, `${name}-${pid}.log`) } : {}),
    ready: (p) => polling(client, taskQueue, queues, `${p.child.pid}@${os.hostname()}`),
  });
  return {
    name,
    queues,
    pid: spawned.child.pid!,
    identity: `${spawned.child.pid}@${os.hostname()}`,
    child: spawned.child,
    tail: spawned.lines,
    alive: spawned.alive,
    kill: spawned.kill,
  };
}

/** Whether `identity` polls each of `served`'s task queues (the base queue: workflows and activities). */
async function polling(client: Client, taskQueue: string, served: readonly QueueName[], identity: string): Promise<boolean> {
  const queues: Array<{ name: string; type: number }> = served.flatMap((q) =>
    q === 'base'
      ? [
          { name: taskQueue, type: TASK_QUEUE_TYPE_WORKFLOW },
          { name: taskQueue, type: TASK_QUEUE_TYPE_ACTIVITY },
        ]
      : [{ name: providerTaskQueue(taskQueue, q), type: TASK_QUEUE_TYPE_ACTIVITY }],
  );
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

/**
 * The workers as docker-compose.yml runs them: one process for the workflows and every queue but VEO3's
 * (worker-core), and VEO3's queue on two processes of its own (worker-veo3, 2 replicas), so a render's
 * hand-over never waits behind a workflow task, an ffprobe or a publish in the same event loop.
 */
export const SHIPPED_WORKERS: readonly WorkerSpec[] = [
  { name: 'core', queues: QUEUE_NAMES.filter((q) => q !== 'veo3') },
  { name: 'veo3-1', queues: ['veo3'] },
  { name: 'veo3-2', queues: ['veo3'] },
];
