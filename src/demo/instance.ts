/**
 * One demo at a time. A second `npm start` while one runs cannot serve its simulators and media on the same fixed
 * ports, and failed there with `listen EADDRINUSE: address already in use 127.0.0.1:7301`, after it had told the user
 * the running demo's Temporal server was "not started by the demo". It now says which demo holds them, before
 * starting anything: the running one writes its pid in `.data/demo.pid`, removed when it stops (one killed outright
 * leaves it, and the next run finds that process gone).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const PID_FILE = 'demo.pid';
const ENV_FILE = 'demo-env.json';

/** Where `npm start` keeps its state (simulators, archive, pid): the checkout's .data/. */
export const DEMO_DATA_DIR = path.resolve(__dirname, '../../.data');

/** The pid of the demo running on `dataDir`, or null: none wrote one, or that process is gone (killed outright). */
export function runningDemo(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dataDir, PID_FILE), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    // Signal 0 only asks whether the process exists; EPERM: it does, under another user.
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  // A pid reused since by an unrelated process is not a demo (Linux names its command line).
  try {
    if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('demo/start')) return null;
  } catch {
    // No /proc (not Linux): trust the live pid.
  }
  return pid;
}

/** Writes this process down as the running demo; returns the function that removes it (only if still ours). */
export function recordRunningDemo(dataDir: string): () => void {
  const file = path.join(dataDir, PID_FILE);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${process.pid}\n`);
  return () => {
    try {
      if (fs.readFileSync(file, 'utf8').trim() !== String(process.pid)) return;
      fs.unlinkSync(file);
      fs.rmSync(path.join(dataDir, ENV_FILE), { force: true });
    } catch {
      // Gone already.
    }
  };
}

/** Writes down the running demo's provider variables (its simulators' URLs) for runningDemoEnv. */
export function recordDemoEnv(dataDir: string, env: Record<string, string>): void {
  fs.writeFileSync(path.join(dataDir, ENV_FILE), `${JSON.stringify(env, null, 2)}\n`);
}

/**
 * The provider variables of the demo running on `dataDir`, for the CLI and the API started beside it: they already
 * use its database and Temporal server (the defaults), and with these its simulators too, as its workers do, so
 * what asks a provider there (`retry --task` asks KIE, `republish --post` the platform; the dashboard's buttons for
 * them) does not turn to the real providers. Empty when no demo runs; the process's own variables win over them.
 */
export function runningDemoEnv(dataDir = DEMO_DATA_DIR): Record<string, string> {
  if (runningDemo(dataDir) === null) return {};
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, ENV_FILE), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/** Of `ports` (a name for each), those another process listens on at 127.0.0.1. */
export async function takenPorts(ports: Record<string, number>): Promise<Array<{ name: string; port: number }>> {
  const taken = await Promise.all(
    Object.entries(ports).map(
      ([name, port]) =>
        new Promise<{ name: string; port: number } | null>((resolve) => {
          const probe = net.createServer();
          probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? { name, port } : null));
          probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(null)));
        }),
    ),
  );
  return taken.filter((t) => t !== null);
}

/** Why this demo cannot start beside what already runs, or null. */
export async function demoInstanceProblem(dataDir: string, ports: Record<string, number>): Promise<string | null> {
  const pid = runningDemo(dataDir);
  if (pid !== null) {
    return (
      `another \`npm start\` of this checkout is running (pid ${pid}): stop it with Ctrl-C in its terminal ` +
      `(or \`kill ${pid}\`) before starting it again`
    );
  }
  const taken = await takenPorts(ports);
  if (taken.length === 0) return null;
  return (
    `the demo's ports are taken: ${taken.map((t) => `127.0.0.1:${t.port} (${t.name})`).join(', ')}; ` +
    'another demo is probably running from another checkout: stop it first (`ss -ltnp` names the process)'
  );
}
