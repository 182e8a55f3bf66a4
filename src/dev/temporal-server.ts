/**
 * Starts (or finds) a Temporal CLI dev server. Used by the demo, the tests and
 * the bench so all three run the same server with the same settings.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { SEARCH_ATTRIBUTES } from '../shared/messages';
import { sleep } from '../shared/sleep';
import { adoptOrphan, forgetOwner, recordOwner, signalPid, stopPid, whenGone } from './server-owner';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * The CLI's path. The script's stderr (build progress, only when it builds) goes
 * to ours: captured, a first run sat silent for minutes.
 */
export async function resolveTemporalCli(): Promise<string> {
  const cli = (await scriptOutput('scripts/temporal-cli.sh', 15 * 60_000)).split('\n').pop() ?? '';
  if (!cli) throw new Error('scripts/temporal-cli.sh printed no path');
  return cli;
}

/** What a build-or-find script of ours prints on stdout (its progress goes to our stderr). */
export async function scriptOutput(script: string, timeoutMs: number): Promise<string> {
  const child = spawn('bash', [path.join(REPO_ROOT, script)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  // 'close', not 'exit': 'exit' can come before stdout is drained, and the output would be read as empty.
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${script} failed (${signal ?? `exit ${code}`}); its message is above`);
  return stdout.trim();
}

/** The last `lines` lines of a log file ('' when it cannot be read), to say why a server died. */
export function tailFile(file: string, lines = 20): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, size - length);
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

export interface TemporalServerOptions {
  port: number;
  uiPort: number;
  /** SQLite file so a restart keeps every workflow; omit for an in-memory server. */
  dbFile?: string;
  logFile?: string;
  namespace?: string;
  /** Port of Temporal's Prometheus /metrics (the CLI picks a random one when unset). */
  metricsPort?: number;
  /**
   * Run the server in a process group of its own, out of reach of a terminal's Ctrl-C, for a caller that handles
   * Ctrl-C itself and stops the server last (the demo: its workers' graceful stop needs the server). Others leave it
   * in theirs, so a Ctrl-C that ends them (vitest) ends it too instead of leaving it running on its port.
   */
  ownProcessGroup?: boolean;
  /**
   * With ownProcessGroup: where the started server's pid and ours are recorded (src/dev/server-owner.ts). A later
   * start that finds the server answering after its owner was killed adopts it, and stops it at its own end.
   */
  ownerFile?: string;
}

/** started: by this call; adopted: left running by an owner that was killed; found: someone else's, left alone. */
export type ServerOrigin = 'started' | 'adopted' | 'found';

export interface TemporalServer {
  address: string;
  uiUrl: string;
  process: ChildProcess | null;
  origin: ServerOrigin;
  /** Resolves when the server we started exits, for whatever reason; never for a server found running or adopted. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logFile?: string;
  stop(): Promise<void>;
}

export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForHealth(cli: string, address: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    try {
      await run(cli, ['operator', 'cluster', 'health', '--address', address], { timeout: 5_000 });
      return;
    } catch (err) {
      // The command line alone says nothing: keep what the CLI said (its last line of stderr) for the error below.
      const said = String((err as { stderr?: unknown }).stderr ?? '')
        .trim()
        .split('\n')
        .pop();
      last = `${String((err as Error).message).split('\n')[0] ?? ''}${said ? `: ${said}` : ''}`;
      await sleep(250);
    }
  }
  throw new Error(`Temporal server at ${address} not healthy after ${timeoutMs} ms: ${last}`);
}

/**
 * Dev-server flags that matter: one task-queue partition so priorityKey orders
 * strictly, the new matcher with fairness, and our search attributes registered.
 */
export function devServerArgs(opts: TemporalServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--namespace',
    opts.namespace ?? 'default',
    '--log-level',
    'warn',
  ];
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  if (opts.metricsPort) args.push('--metrics-port', String(opts.metricsPort));
  for (const value of [
    'matching.numTaskqueueReadPartitions=1',
    'matching.numTaskqueueWritePartitions=1',
    'matching.useNewMatcher=true',
    'matching.enableFairness=true',
  ])
    args.push('--dynamic-config-value', value);
  for (const sa of Object.values(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${sa.name}=Keyword`);
  return args;
}

/** Starts a dev server unless one already answers on the port; waits until healthy. */
export async function startTemporalServer(opts: TemporalServerOptions): Promise<TemporalServer> {
  const cli = await resolveTemporalCli();
  const address = `127.0.0.1:${opts.port}`;
  const uiUrl = `http://127.0.0.1:${opts.uiPort}`;
  if (await isPortOpen(opts.port)) {
    await waitForHealth(cli, address);
    const found = { address, uiUrl, process: null, exited: new Promise<never>(() => undefined), logFile: opts.logFile };
    const orphan = opts.ownerFile ? adoptOrphan(opts.ownerFile, opts.port) : null;
    if (orphan === null) return { ...found, origin: 'found', stop: async () => undefined };
    const ownerFile = opts.ownerFile!;
    const orphanGuard = () => signalPid(orphan, 'SIGTERM');
    process.once('exit', orphanGuard);
    return {
      ...found,
      origin: 'adopted',
      // Ours now, so watched as one we started (keepTemporalServerUp), though no exit event reaches us.
      exited: whenGone(orphan),
      stop: async () => {
        process.removeListener('exit', orphanGuard);
        await stopPid(orphan);
        forgetOwner(ownerFile, orphan);
      },
    };
  }
  if (opts.dbFile) fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  // A terminal's Ctrl-C goes to the whole foreground group: in it, the server was gone at once and the demo's workers
  // spent their graceful stop retrying every call (72 warnings, their jobs not handed back). See ownProcessGroup.
  const child = spawn(cli, devServerArgs(opts), { stdio: ['ignore', out, out], detached: opts.ownProcessGroup ?? false });
  let exited = false;
  // A server we started never outlives us, however we end (process.exit, an uncaught error, tsx's exit on a signal
  // nobody handles): the demo once left one running on its port after a Ctrl-C during its seeding.
  const orphanGuard = () => child.kill('SIGTERM');
  process.once('exit', orphanGuard);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      process.removeListener('exit', orphanGuard);
      resolve({ code, signal });
    }),
  );
  try {
    // A server that dies on start (port taken, bad flag, corrupt database) says so now, not after the health timeout.
    await Promise.race([
      waitForHealth(cli, address),
      exit.then(({ code, signal }) => {
        const tail = opts.logFile ? tailFile(opts.logFile) : '';
        const lastLines = tail ? `; last lines of ${opts.logFile}:\n${tail}` : '';
        throw new Error(`Temporal dev server exited on start (${signal ?? `exit code ${code}`})${lastLines}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  if (opts.ownerFile) recordOwner(opts.ownerFile, child.pid!, opts.port);
  return {
    address,
    uiUrl,
    process: child,
    origin: 'started',
    exited: exit,
    logFile: opts.logFile,
    stop: async () => {
      await new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      });
      if (opts.ownerFile) forgetOwner(opts.ownerFile, child.pid!);
    },
  };
}

/**
 * Keeps a dev server this process started or adopted running: one that exits while it is `wanted()` (killed, out of
 * memory) is started again with the same options, on the same SQLite store, so every workflow is still there, and
 * `say` tells how. A server found running (someone else's) is not watched (its `exited` never resolves). `current()`
 * is the one to stop.
 */
export function keepTemporalServerUp(
  first: TemporalServer,
  opts: TemporalServerOptions,
  hooks: { wanted: () => boolean; say: (line: string) => void },
): { current: () => TemporalServer } {
  let current = first;
  const watch = (server: TemporalServer): void => {
    void server.exited.then(async ({ code, signal }) => {
      if (!hooks.wanted()) return;
      // An adopted server is not our child: how it ended is not ours to know.
      const how = signal ?? (code === null ? 'its process is gone' : `exit code ${code}`);
      hooks.say(`warning: the Temporal dev server stopped (${how}); starting it again on the same store...`);
      try {
        current = await startTemporalServer(opts);
        hooks.say(`  the Temporal dev server is back on ${current.address}`);
        watch(current);
      } catch (err) {
        hooks.say(`error: the Temporal dev server did not start again: ${(err as Error).message}`);
      }
    });
  };
  watch(first);
  return { current: () => current };
}

/**
 * The foreground life of `npm run temporal` and `npm run temporal:cluster`:
 * Ctrl-C or SIGTERM stops the server and exits 0; a server that dies on its
 * own is reported (how, and the end of its log) with exit code 1, so a dead
 * server never looks like a quiet one.
 */
export async function runInForeground(server: {
  label: string;
  stop(): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logFile: string;
}): Promise<number | undefined> {
  let stopping = false;
  const stop = () => {
    stopping = true;
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const { code, signal } = await server.exited;
  if (stopping) return undefined;
  const tail = tailFile(server.logFile);
  console.error(`${server.label} exited (${signal ? `signal ${signal}` : `exit code ${code}`}); log: ${server.logFile}`);
  if (tail) console.error(`last lines of the log:\n${tail}`);
  return 1;
}
