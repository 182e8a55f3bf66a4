/** Real processes for tests: worker processes (2+ of them, or a kill -9) and other entry points. */
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitUntil } from './wait';

const ROOT = path.resolve(__dirname, '../..');

export interface SpawnedProcess {
  child: ChildProcess;
  /** Lines the process printed (stdout and stderr), for assertions about who did what. */
  lines: string[];
  /** Resolves with how it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** Sends `signal` (SIGKILL after 10 s) and resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}
export type WorkerProcess = SpawnedProcess;

/**
 * An entry point of this repository as one real process (a TypeScript one
 * through `node -r tsx/cjs`, so a kill -9 hits it, not a tsx wrapper), its output
 * collected line by line; resolves once a line matches `ready`.
 */
export async function spawnEntry(
  entry: string,
  opts: {
    args?: string[];
    env?: Record<string, string>;
    /** A line that says it is ready, or a check of its own (the bench asks Temporal for the worker's pollers). */
    ready: RegExp | ((spawned: SpawnedProcess) => Promise<boolean>);
    what?: string;
    /** Default 90 000. */
    timeoutMs?: number;
    /** Keep only the last N lines (a long run at info would fill memory); default all. */
    keepLines?: number;
    /** Also write the whole output to this file (named from the process id), for a trace longer than keepLines. */
    logFile?: (pid: number) => string;
    /** In a process group of its own, as a terminal's foreground job: `process.kill(-pid)` reaches the whole group. */
    ownProcessGroup?: boolean;
  },
): Promise<SpawnedProcess> {
  const what = opts.what ?? entry;
  // Compiled JavaScript (dist/) runs as the image runs it: plain node, no tsx loader.
  const loader = entry.endsWith('.js') ? [] : ['-r', 'tsx/cjs'];
  const child = spawn(process.execPath, [...loader, path.join(ROOT, entry), ...(opts.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.ownProcessGroup ?? false,
  });
  const lines: string[] = [];
  const split = () => {
    let buffer = '';
    return (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      lines.push(...parts.filter((l) => l.trim() !== ''));
      if (opts.keepLines !== undefined && lines.length > opts.keepLines) lines.splice(0, lines.length - opts.keepLines);
    };
  };
  child.stdout!.on('data', split());
  child.stderr!.on('data', split());
  if (opts.logFile) {
    const out = createWriteStream(opts.logFile(child.pid!), { flags: 'a' });
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => out.write(chunk));
    child.once('exit', () => out.end());
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  const spawned: SpawnedProcess = {
    child,
    lines,
    exited,
    alive,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (!alive()) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  const { ready } = opts;
  const isReady = typeof ready === 'function' ? () => ready(spawned) : async () => lines.some((l) => ready.test(l));
  try {
    await waitUntil(async () => (!alive() ? 'exited' : await isReady()), {
      timeoutMs: opts.timeoutMs ?? 90_000,
      intervalMs: 100,
      what: `${what} to start${typeof ready === 'function' ? '' : ` (${ready})`}`,
    }).then((state) => {
      if (state === 'exited') throw new Error(`${what} exited with ${child.exitCode ?? child.signalCode}`);
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}:\n${lines.slice(-20).join('\n')}`, { cause: err });
  }
  return spawned;
}

/** A worker process (`npm run worker`) at log level info, ready once it says its workers run. */
export function spawnWorker(env: Record<string, string>, queues: string[] = []): Promise<WorkerProcess> {
  return spawnEntry('src/workers/main.ts', {
    args: queues.flatMap((q) => ['--queue', q]),
    env: { ...env, LOG_LEVEL: 'info' },
    ready: /workers running/,
    what: 'worker',
  });
}

/**
 * A port nothing listens on right now (for a server that must be named before it starts), drawn from 20000-29999:
 * below the kernel's ephemeral range (32768-60999), where a port from listen(0) came from. Between its close and
 * the server's bind, an outgoing connection of a test running beside it could take such a port (a CI run's dev
 * server failed on "bind: address already in use").
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
}
