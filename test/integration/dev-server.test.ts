/**
 * `npm run temporal` as a real process: when its dev server dies, it says so
 * (how, and where the log is) and exits non-zero instead of going quiet.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, spawnEntry, type SpawnedProcess } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';

const run = promisify(execFile);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelflow-temporal-main-'));
let main: SpawnedProcess | undefined;
const childrenOf = async (pid: number, commandLine?: string) =>
  (await run('pgrep', ['-P', String(pid), ...(commandLine ? ['-f', commandLine] : [])]).catch(() => ({ stdout: '' }))).stdout
    .split('\n')
    .filter(Boolean)
    .map(Number);
afterAll(async () => {
  // A failed run must not leave its dev server behind: a SIGKILLed parent does not take it along.
  if (main?.alive()) for (const pid of await childrenOf(main.child.pid!)) process.kill(pid, 'SIGKILL');
  await main?.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run temporal', () => {
  it('exits 1 naming the signal and the log file when its server is killed', { timeout: 180_000 }, async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    main = await spawnEntry('src/dev/temporal-main.ts', {
      env: { TEMPORAL_PORT: String(port), TEMPORAL_UI_PORT: String(uiPort), TEMPORAL_DATA_DIR: dataDir },
      ready: /^Temporal dev server on /,
      what: 'npm run temporal',
      timeoutMs: 120_000,
    });
    const logFile = path.join(dataDir, 'temporal.log');
    expect(main.lines.join('\n')).toContain(`log ${logFile}`);
    // Found by its command line: tsx's esbuild service is a child of temporal-main too.
    const server = await waitUntil(async () => (await childrenOf(main!.child.pid!, 'server start-dev'))[0], {
      what: 'the dev server process',
    });
    process.kill(server, 'SIGKILL');
    const { code } = await main.exited;
    expect(code).toBe(1);
    expect(main.lines.join('\n')).toContain(`temporal: the dev server exited (signal SIGKILL); log: ${logFile}`);
  });
});
