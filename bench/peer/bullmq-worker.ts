/**
 * One BullMQ worker process of the bench's peer (bench/peer/bullmq.ts spawns them): a BullMQ 6.7 Worker on the
 * provider's queue, doing the paid VEO3 render the way a careful BullMQ user would.
 *
 * - concurrency = the provider's cap (the queue's global concurrency holds it across processes);
 * - the rate limiter (max 1 per PEER_SPACING_MS, counted by BullMQ in Redis) spaces the starts;
 * - lockDuration and stalledInterval left at BullMQ's defaults (30 s each): they decide how long a killed worker's
 *   job waits before another worker runs it again;
 * - pay once as far as BullMQ allows: the task id goes into the job's data (job.updateData) before polling, so a job
 *   run again after a stall polls the same render instead of paying for another;
 * - the end of a render is noticed as ours is: KIE's callback (a small HTTP server in this process) or the poll,
 *   whichever first.
 *
 * Every step is a JSON line on stdout ({event, jobId, at, pid}), which the bench reads.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker, type Job } from 'bullmq';
import { KieVideoClient } from '../../src/providers/veo3/client';
import { sleep } from '../../src/shared/sleep';
import type { PeerEvent, PeerEventName, PeerJobData } from './bullmq';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required (bench/peer/bullmq.ts sets it)`);
  return value;
};

function emit(event: PeerEventName, job: Job<PeerJobData>): void {
  const line: PeerEvent = { event, jobId: job.id!, at: Date.now(), pid: process.pid };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Waiters for KIE's callback, by task id; a callback that comes before its waiter is kept. */
const ended = new Set<string>();
const waiters = new Map<string, () => void>();

function callbackServer(): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const taskId = (JSON.parse(body || '{}') as { data?: { taskId?: string } }).data?.taskId;
      if (taskId) {
        ended.add(taskId);
        waiters.get(taskId)?.();
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/kie`)),
  );
}

/** Resolves when the callback for `taskId` arrives (or already has). */
function callbackFor(taskId: string): { done: Promise<void>; cancel(): void } {
  let cancel = () => {};
  const done = new Promise<void>((resolve) => {
    if (ended.has(taskId)) return resolve();
    waiters.set(taskId, resolve);
    cancel = () => waiters.delete(taskId);
  });
  return { done, cancel };
}

async function main(): Promise<void> {
  const pollMs = Number(env('PEER_POLL_MS'));
  const kie = new KieVideoClient({ baseUrl: env('KIE_BASE_URL'), apiKey: 'bench-peer', callBackUrl: await callbackServer() });

  async function render(job: Job<PeerJobData>): Promise<void> {
    emit('started', job);
    let taskId = job.data.taskId;
    if (taskId) emit('resumed', job);
    else {
      emit('provider_call', job);
      taskId = (await kie.submit({ prompt: job.data.title, aspectRatio: '9:16' })).taskId;
      await job.updateData({ ...job.data, taskId });
    }
    const callback = callbackFor(taskId);
    try {
      for (;;) {
        const status = await kie.getStatus(taskId);
        if (status.state === 'failed') throw new Error(`render ${taskId} failed: ${status.message}`);
        if (status.state === 'succeeded') break;
        await Promise.race([sleep(pollMs), callback.done]);
      }
    } finally {
      callback.cancel();
    }
    emit('completed', job);
  }

  const spacingMs = Number(env('PEER_SPACING_MS'));
  const worker = new Worker<PeerJobData>(
    env('PEER_QUEUE'),
    (job) => render(job).catch((err: unknown) => (emit('failed', job), Promise.reject(err))),
    {
      connection: { host: env('PEER_REDIS_HOST'), port: Number(env('PEER_REDIS_PORT')), maxRetriesPerRequest: null },
      prefix: env('PEER_PREFIX'),
      concurrency: Number(env('PEER_CONCURRENCY')),
      ...(spacingMs > 0 ? { limiter: { max: 1, duration: spacingMs } } : {}),
    },
  );
  worker.on('error', (err) => process.stderr.write(`peer worker error: ${err.message}\n`));
  await worker.waitUntilReady();
  process.once('SIGTERM', () => void worker.close(true).finally(() => process.exit(0)));
  process.stdout.write('peer worker ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`peer worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
