/**
 * One demo at a time (src/demo/instance.ts): a second `npm start` while one runs says which one, or which ports are
 * taken, before starting anything. It failed with `listen EADDRINUSE` after taking the first one's Temporal server for
 * one "not started by the demo".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoInstanceProblem, recordDemoEnv, recordRunningDemo, runningDemo, runningDemoEnv, takenPorts } from '../../src/demo/instance';

const ROOT = path.resolve(__dirname, '../..');
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelflow-instance-'));
});
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A live process whose command line reads like the demo's, or like anything else. */
function idle(...args: string[]) {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ...args], { stdio: 'ignore' });
  children.push(child);
  return child;
}
const exited = (c: ChildProcess) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve)));
const listening = (port = 0) =>
  new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;
const writePid = (pid: number) => fs.writeFileSync(path.join(dataDir, 'demo.pid'), `${pid}\n`);

describe('one demo at a time', () => {
  it("names the running demo's pid; a killed one's leftover pid, or a pid reused by another program, is no demo", async () => {
    expect(runningDemo(dataDir)).toBeNull();
    const demo = idle('src/demo/start.ts');
    writePid(demo.pid!);
    expect(runningDemo(dataDir)).toBe(demo.pid);
    const problem = await demoInstanceProblem(dataDir, {});
    expect(problem).toContain(`another \`npm start\` of this checkout is running (pid ${demo.pid})`);
    expect(problem).toContain(`\`kill ${demo.pid}\``);

    demo.kill('SIGKILL');
    await exited(demo);
    expect(runningDemo(dataDir)).toBeNull();
    const other = idle('something-else');
    writePid(other.pid!);
    expect(runningDemo(dataDir)).toBeNull();
    expect(await demoInstanceProblem(dataDir, {})).toBeNull();
  });

  it('writes this process down and removes only its own record', () => {
    const release = recordRunningDemo(dataDir);
    const file = path.join(dataDir, 'demo.pid');
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    // Our own pid is never "another demo" (this process is not one anyway).
    expect(runningDemo(dataDir)).toBeNull();
    release();
    expect(fs.existsSync(file)).toBe(false);
    const again = recordRunningDemo(dataDir);
    writePid(1);
    again();
    expect(fs.readFileSync(file, 'utf8').trim()).toBe('1');
    fs.unlinkSync(file);
  });

  it("hands the running demo's simulator URLs to the CLI and API beside it, and only while it runs", async () => {
    const env = { KIE_BASE_URL: 'http://127.0.0.1:7301', TIKTOK_BASE_URL: 'http://127.0.0.1:7304' };
    recordDemoEnv(dataDir, env);
    expect(runningDemoEnv(dataDir)).toEqual({}); // no demo runs: the real providers, as configured
    const demo = idle('src/demo/start.ts');
    writePid(demo.pid!);
    expect(runningDemoEnv(dataDir)).toEqual(env);
    demo.kill('SIGKILL');
    await exited(demo);
    expect(runningDemoEnv(dataDir)).toEqual({}); // killed outright: its leftover file is not read
    // A demo that stops removes both records.
    const release = recordRunningDemo(dataDir);
    recordDemoEnv(dataDir, env);
    release();
    expect(fs.readdirSync(dataDir).filter((f) => f.startsWith('demo'))).toEqual([]);
  });

  it('names the fixed ports another process listens on', async () => {
    const held = await listening();
    const free = await listening();
    const freePort = portOf(free);
    await new Promise((r) => free.close(r));
    try {
      expect(await takenPorts({ kie: portOf(held), media: freePort })).toEqual([{ name: 'kie', port: portOf(held) }]);
      expect(await demoInstanceProblem(dataDir, { kie: portOf(held), media: freePort })).toBe(
        `the demo's ports are taken: 127.0.0.1:${portOf(held)} (kie); another demo is probably running from another ` +
          'checkout: stop it first (`ss -ltnp` names the process)',
      );
    } finally {
      await new Promise((r) => held.close(r));
    }
  });

  it('`npm start` with the media port taken refuses before starting anything', async () => {
    // Taken here, or already by a demo running on this machine: refused either way.
    const held = await listening(7307).catch(() => null);
    try {
      const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'src/demo/start.ts', '--exit'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (err += d));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(err).toMatch(/^demo: (the demo's ports are taken: .*127\.0\.0\.1:7307 \(media\)|another `npm start` of this checkout)/m);
      // Refused before the database (unreachable here) or the Temporal server were asked anything.
      expect(err).not.toMatch(/cannot reach PostgreSQL/);
      expect(out).not.toContain('Starting the Temporal dev server');
    } finally {
      await new Promise((r) => (held ? held.close(r) : r(null)));
    }
  }, 60_000);
});
