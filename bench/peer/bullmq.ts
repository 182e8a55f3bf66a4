/**
 * The BullMQ peer: BullMQ 6.7 on Redis, run by the scenarios on their own traces in the same bench run, so the
 * BullMQ column is measured beside ours rather than typed in. Apart from production code; nothing here is Reelflow.
 *
 * The provider discipline, the best way BullMQ allows it: a queue per provider (only VEO3 is measured), BullMQ
 * priorities (P0 = 1 … P3 = 4), worker concurrency = the provider's cap with the queue's global concurrency holding it
 * across worker processes, the rate limiter (1 start per spacing) for the minimum start interval, lockDuration and
 * stalledInterval at their defaults (bullmq-worker.ts). The paid submit goes to a VEO3 simulator of its own (the
 * same simulator class and settings the bench's engine uses), so the provider's counts are the peer's alone.
 *
 * Isolation: each run gets a fresh simulator, a queue under its own key prefix (obliterated at the end) and fresh
 * worker processes, and stops them whatever happens; Redis is the one answering on 127.0.0.1:6379 or, if none
 * does, a redis-server the run starts on a free port and stops.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Queue } from 'bullmq';
import { Veo3Simulator } from '../../src/simulators/veo3';
import { priorityRank, type Priority } from '../../src/config/priorities';
import { freePort, spawnEntry, type SpawnedProcess } from '../../test/helpers/processes';
import { waitUntil } from '../../test/helpers/wait';
import type { Recorder } from '../scenario';
import { POLL_INTERVAL_MS, type Bench } from '../setup';

export const BULLMQ_VERSION = '6.7.0';

/** What a peer job carries: the task id once the paid submit answered. */
export interface PeerJobData {
  title: string;
  taskId?: string;
}

/** The steps a peer worker reports (one JSON line each on its stdout, as bench/measure.ts's JobEvent), named like our job events. */
export type PeerEventName = 'started' | 'provider_call' | 'resumed' | 'completed' | 'failed';
export interface PeerEvent {
  event: PeerEventName;
  jobId: string;
  /** Epoch ms, this host's clock (the simulator's too). */
  at: number;
  pid: number;
}

/** BullMQ's priority for ours: P0 = 1 … P3 = 4 (1 is BullMQ's highest; 0, none, would run before all of them). */
export const bullmqPriority = (p: Priority): number => priorityRank(p) + 1;

export interface PeerOptions {
  /** The provider's cap: each worker's concurrency and the queue's global concurrency. */
  cap: number;
  /** The rate limiter's interval (1 start per this many ms); 0 for none. */
  spacingMs: number;
  /** Simulated render time at the peer's VEO3 simulator. */
  taskMs: number;
  /** Worker processes (ours run 2). Default 2. */
  workers?: number;
  /** The status poll's interval, for a render whose callback has not come. Default POLL_INTERVAL_MS. */
  pollMs?: number;
}

export interface PeerWorker {
  name: string;
  pid: number;
  alive(): boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface Peer {
  sim: Veo3Simulator;
  queue: Queue<PeerJobData>;
  workers: PeerWorker[];
  /** Every event the workers reported so far, in time order. */
  events(): PeerEvent[];
  /** Where Redis is, for the notes. */
  redis: string;
}

const REDIS_DEFAULT_PORT = 6379;
const QUEUE = 'veo3';
const READY_TIMEOUT_MS = 60_000;

/** Whether a Redis answers PING on 127.0.0.1:port. */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** The local Redis, or one started on a free port (no persistence) with the means to stop it. */
async function localRedis(): Promise<{ port: number; started: boolean; stop(): Promise<void> }> {
  if (await redisAnswers(REDIS_DEFAULT_PORT)) return { port: REDIS_DEFAULT_PORT, started: false, stop: async () => {} };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitUntil(() => redisAnswers(port), { timeoutMs: 10_000, intervalMs: 50, what: `redis-server on ${port}` });
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, started: true, stop };
}

function peerEvents(spawned: SpawnedProcess): PeerEvent[] {
  return spawned.lines.filter((l) => l.startsWith('{"event"')).map((l) => JSON.parse(l) as PeerEvent);
}

/**
 * Runs `body` against a fresh peer (Redis, simulator, queue, workers) and tears everything down afterwards,
 * whether `body` succeeded or not.
 */
export async function withPeer<T>(opts: PeerOptions, body: (peer: Peer) => Promise<T>): Promise<T> {
  const undo: Array<() => Promise<unknown>> = [];
  try {
    const redis = await localRedis();
    undo.push(() => redis.stop());
    const sim = new Veo3Simulator({ taskDurationMs: opts.taskMs });
    await sim.start();
    undo.push(() => sim.stop());

    const prefix = `reelflow-bench-peer-${randomBytes(4).toString('hex')}`;
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    const queue = new Queue<PeerJobData>(QUEUE, { connection, prefix });
    undo.push(() => queue.close());
    undo.push(() => queue.obliterate({ force: true }));
    await queue.setGlobalConcurrency(opts.cap);

    const spawned: SpawnedProcess[] = [];
    const names = Array.from({ length: opts.workers ?? 2 }, (_, i) => `bullmq-${String.fromCharCode(65 + i)}`);
    for (const name of names) {
      const worker = await spawnEntry('bench/peer/bullmq-worker.ts', {
        env: {
          PEER_REDIS_HOST: '127.0.0.1',
          PEER_REDIS_PORT: String(redis.port),
          PEER_PREFIX: prefix,
          PEER_QUEUE: QUEUE,
          PEER_CONCURRENCY: String(opts.cap),
          PEER_SPACING_MS: String(opts.spacingMs),
          PEER_POLL_MS: String(opts.pollMs ?? POLL_INTERVAL_MS),
          KIE_BASE_URL: sim.url,
        },
        ready: /^peer worker ready$/,
        what: `BullMQ peer worker ${name}`,
        timeoutMs: READY_TIMEOUT_MS,
      });
      undo.push(() => worker.kill('SIGKILL'));
      spawned.push(worker);
    }
    const workers = spawned.map((s, i) => ({ name: names[i]!, pid: s.child.pid!, alive: s.alive, kill: s.kill }));
    const events = () => spawned.flatMap(peerEvents).sort((a, b) => a.at - b.at);
    const where = `127.0.0.1:${redis.port}${redis.started ? ' (started by the bench)' : ''}`;
    return await body({ sim, queue, workers, events, redis: where });
  } finally {
    while (undo.length) await undo.pop()!().catch(() => undefined);
  }
}

/** The peer's side of a scenario: its result, if it ran, and the BullMQ cell of a figure drawn from it. */
export interface PeerColumn<T> {
  result: T | undefined;
  cell(value: (result: T) => string): string;
}

/**
 * Runs the peer's side of a scenario on the dev server's pass only (the peer uses no Temporal: a --cluster pass would
 * measure it twice). A peer that breaks costs its column ('failed', a note says why), never our figures.
 */
export async function peerColumn<T>(bench: Bench, rec: Recorder, run: () => Promise<T>): Promise<PeerColumn<T>> {
  if (bench.temporal.kind !== 'dev') return { result: undefined, cell: () => '-' };
  try {
    const result = await run();
    return { result, cell: (value) => value(result) };
  } catch (err) {
    rec.note(`BullMQ peer failed: ${err instanceof Error ? err.message : String(err)}`);
    return { result: undefined, cell: () => 'failed' };
  }
}
