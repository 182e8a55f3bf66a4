/**
 * Starting the media executables from a small helper process, not from the worker itself.
 *
 * Node starts a child with fork() + exec(), and fork() copies the page tables of the whole process while the event
 * loop waits: measured here, 1 ms from a 50 MB process and 42 ms from a 680 MB one (a worker that runs workflows is
 * 0.7-1 GB). Every archived video runs ffprobe: 200 workflows at once blocked each worker's event loop for 7-9 s in
 * all (bench throughput, CPU profile), holding up workflow tasks, heartbeats and hand-overs behind them. The relay is
 * a bare `node -e` process, started on the first tool run (the one fork from the big process), that starts every tool
 * for about a millisecond each and sends back what it printed.
 *
 * It dies with its parent (the IPC channel closes: it kills the tools it started and exits), never keeps its parent
 * alive when idle, and is started again if it dies. A terminal's Ctrl-C reaches the whole process group: the relay
 * lets its parent's shutdown decide, as it ignores SIGINT. No Temporal here.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** What one run sends back: its exit code and everything it printed, or why it could not start. */
export type RelayResult = { code: number | null; stdout: string; stderr: string } | { startError: { code?: string; message: string } };

type Reply = { id: number } & RelayResult;

/**
 * The relay's program: plain JavaScript with Node's own modules only, so the same text runs under tsx, vitest and
 * the compiled build, on any Node version the project supports.
 */
const RELAY_SOURCE = `
const { spawn } = require('node:child_process');
const running = new Map();
process.on('message', (m) => {
  if (m.kill !== undefined) { running.get(m.kill)?.kill('SIGTERM'); return; }
  const out = [], err = [];
  let settled = false;
  const reply = (r) => { if (settled) return; settled = true; running.delete(m.id); process.send({ id: m.id, ...r }); };
  let child;
  try {
    child = spawn(m.binary, m.args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: m.cwd });
  } catch (e) {
    reply({ startError: { code: e.code, message: e.message } });
    return;
  }
  running.set(m.id, child);
  child.stdout.on('data', (b) => out.push(b));
  child.stderr.on('data', (b) => err.push(b));
  child.on('error', (e) => reply({ startError: { code: e.code, message: e.message } }));
  child.on('close', (code) => reply({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
});
process.on('disconnect', () => { for (const c of running.values()) c.kill('SIGKILL'); process.exit(0); });
process.on('SIGINT', () => {});
`;

interface Pending {
  resolve: (r: RelayResult) => void;
  reject: (err: Error) => void;
}

class SpawnRelay {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /**
   * Runs `binary` to its exit through the relay. An abort of `signal` ends the tool (SIGTERM) and rejects with the
   * signal's reason at once, as `spawn`'s own `signal` option does.
   */
  run(binary: string, args: readonly string[], cwd: string | undefined, signal?: AbortSignal): Promise<RelayResult> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const child = this.relay();
    const id = this.nextId++;
    return new Promise<RelayResult>((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        this.unrefWhenIdle();
        if (this.child === child && child.connected) child.send({ kill: id });
        reject(signal!.reason as Error);
      };
      const settle = (finish: () => void) => {
        signal?.removeEventListener('abort', onAbort);
        finish();
      };
      this.pending.set(id, {
        resolve: (r) => settle(() => resolve(r)),
        reject: (err) => settle(() => reject(err)),
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.ref();
      child.send({ id, binary, args, cwd });
    });
  }

  /** The pid of the running relay (tests), or null. */
  pid(): number | null {
    return this.child?.pid ?? null;
  }

  private relay(): ChildProcess {
    if (this.child?.connected) return this.child;
    const child = spawn(process.execPath, ['-e', RELAY_SOURCE], {
      // Its own stderr shows on ours (a crash); it prints nothing else.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
      // The tools get our environment; the relay itself none of our Node flags (loaders, profilers): it is plain JavaScript.
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.unref();
    child.on('message', (m: Reply) => {
      const waiting = this.pending.get(m.id);
      if (!waiting) return; // stopped meanwhile
      this.pending.delete(m.id);
      this.unrefWhenIdle();
      const { id: _id, ...result } = m;
      waiting.resolve(result);
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      const lost = [...this.pending.values()];
      this.pending.clear();
      for (const p of lost) p.reject(new Error(`the media spawn relay exited (${signal ?? `code ${code}`}) while a tool ran`));
    });
    child.on('error', () => undefined); // 'exit' follows and rejects what was waiting
    this.child = child;
    this.unrefWhenIdle();
    return child;
  }

  // The IPC channel keeps the parent alive: only while a run waits for its answer.
  private ref(): void {
    (this.child?.channel as { ref?: () => void } | undefined)?.ref?.();
  }

  private unrefWhenIdle(): void {
    if (this.pending.size === 0) (this.child?.channel as { unref?: () => void } | undefined)?.unref?.();
  }
}

/** One relay per process. */
export const spawnRelay = new SpawnRelay();
