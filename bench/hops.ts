/**
 * What one hop between two processes costs on this machine, measured in the utilisation scenario's sitting: the
 * floor under any hand-over. Each probe waits 50 ms before it asks, as a hand-over finds its processes (asleep
 * since the last one): on our firecracker VMs an idle vCPU halts at once (cpuidle haltpoll with
 * guest_halt_poll_ns=0 on the kernel's command line), and waking it is most of what a hop costs. Back to back, the
 * same PostgreSQL round trip is about ten times cheaper.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { sleep } from '../src/shared/sleep';

const PROBES = 60;
const IDLE_MS = 50;

/** A plain HTTP server in a process of its own (no tsx, nothing of ours): it prints its port. */
const ECHO_SERVER = `
  const http = require('node:http');
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('{}')); });
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

export interface HopCosts {
  /** POST and its answer, to another process, after IDLE_MS idle. */
  http: number[];
  /** SELECT 1 on an open session, after IDLE_MS idle. */
  pg: number[];
  /** The same, back to back: the round trip without the wake. */
  pgBusy: number[];
  /** pg_notify (autocommit) until another session's client hears it, after IDLE_MS idle. */
  notify: number[];
}

async function timeEach(fn: () => Promise<unknown>, idleMs: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    if (idleMs) await sleep(idleMs);
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

export async function measureHops(databaseUrl: string): Promise<HopCosts> {
  const server = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const talker = new pg.Client({ connectionString: databaseUrl });
  const listener = new pg.Client({ connectionString: databaseUrl });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    });
    const url = `http://127.0.0.1:${port}/`;
    const http = await timeEach(async () => (await fetch(url, { method: 'POST', body: '{}' })).text(), IDLE_MS);

    await Promise.all([talker.connect(), listener.connect()]);
    await listener.query('LISTEN reelflow_bench_hop');
    const pgIdle = await timeEach(() => talker.query('SELECT 1'), IDLE_MS);
    const pgBusy = await timeEach(() => talker.query('SELECT 1'), 0);
    const notify = await timeEach(async () => {
      const heard = new Promise<void>((resolve) => listener.once('notification', () => resolve()));
      await talker.query(`SELECT pg_notify('reelflow_bench_hop', 'x')`);
      await heard;
    }, IDLE_MS);
    return { http, pg: pgIdle, pgBusy, notify };
  } finally {
    server.kill();
    await Promise.allSettled([talker.end(), listener.end()]);
  }
}
