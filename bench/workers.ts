/**
 * Worker processes for the bench: the real `src/workers/main.ts`, one Node
 * process each (`node -r tsx/cjs`, so a kill -9 hits the worker itself, not a
 * tsx wrapper).
 *
 * Not test/helpers/processes.ts: that one forces LOG_LEVEL=info and waits for
 * the "workers running" log line. At info the 1000-job scenario would print
 * tens of thousands of lines into pipes the bench has to drain, so the bench
 * runs workers at warn and asks Temporal instead: a worker is ready once its
 * identity (pid@host, the SDK default) polls every task queue it serves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { PROVIDERS, providerTaskQueue } from '../src/config/providers';
import { sleep } from '../src/shared/sleep';

const ROOT = path.resolve(__dirname, '..');
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

export async function spawnBenchWorker(
  name: string,
  env: Record<string, string>,
  client: Client,
  taskQueue: string,
): Promise<BenchWorker> {
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(ROOT, 'src/workers/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    tail.push(...lines.filter((l) => l.trim()));
    if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const worker: BenchWorker = {
    name,
    pid: child.pid!,
    identity: `${child.pid}@${os.hostname()}`,
    child,
    tail,
    alive,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (!alive()) return;
      child.kill(signal);
      const escalate = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(escalate);
    },
  };
  try {
    await waitForPollers(client, taskQueue, worker);
  } catch (err) {
    await worker.kill('SIGKILL');
    throw err;
  }
  return worker;
}

/** Resolves once `worker` polls the base workflow queue and every activity queue. */
async function waitForPollers(client: Client, taskQueue: string, worker: BenchWorker): Promise<void> {
  const queues: Array<{ name: string; type: number }> = [
    { name: taskQueue, type: TASK_QUEUE_TYPE_WORKFLOW },
    { name: taskQueue, type: TASK_QUEUE_TYPE_ACTIVITY },
    ...PROVIDERS.map((p) => ({ name: providerTaskQueue(taskQueue, p), type: TASK_QUEUE_TYPE_ACTIVITY })),
  ];
  const until = Date.now() + READY_TIMEOUT_MS;
  const pending = new Set(queues);
  while (pending.size > 0) {
    if (!worker.alive()) throw new Error(`worker ${worker.name} exited during start-up:\n${worker.tail.join('\n')}`);
    if (Date.now() > until) {
      throw new Error(`worker ${worker.name} not polling after ${READY_TIMEOUT_MS} ms:\n${worker.tail.join('\n')}`);
    }
    for (const q of [...pending]) {
      const res = await client.workflowService
        .describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: q.name, kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType: q.type,
        })
        .catch(() => null);
      if (res?.pollers.some((p) => p.identity === worker.identity)) pending.delete(q);
    }
    if (pending.size > 0) await sleep(250);
  }
}
