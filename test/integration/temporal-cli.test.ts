/**
 * The dev server every test, the demo and the bench run: the CLI scripts/temporal-cli.sh builds must carry the
 * SQLite driver that does not break under load (v1.5.1's own, modernc.org/sqlite v1.34.1, ended the dev server's
 * shard with "interrupted (9)" while 3,000 ideas filled the line; v1.44.3 lost the whole in-memory database when a
 * cancelled request dropped its connection, at the cancel of 10,000 workflows; see the script).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { isPortOpen, keepTemporalServerUp, resolveTemporalCli, startTemporalServer } from '../../src/dev/temporal-server';
import { stopPid } from '../../src/dev/server-owner';
import { freePort, spawnEntry } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';

const run = promisify(execFile);

/** modernc.org/sqlite's version in a Go binary's build info (`go version -m`), e.g. [1, 44, 3]. */
async function sqliteVersion(binary: string): Promise<number[] | null> {
  const { stdout } = await run('go', ['version', '-m', binary], { maxBuffer: 16 * 1024 * 1024 });
  const m = /\bdep\s+modernc\.org\/sqlite\s+v(\d+)\.(\d+)\.(\d+)/.exec(stdout);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

describe('the Temporal CLI we build', () => {
  it('carries modernc.org/sqlite v1.51.0 or later, and still says it is CLI 1.5.1 on server 1.29.1', async () => {
    const cli = await resolveTemporalCli();
    const version = await sqliteVersion(cli);
    expect(version, `${cli} has no modernc.org/sqlite in its build info`).not.toBeNull();
    const [major, minor, patch] = version!;
    expect(major! * 1e6 + minor! * 1e3 + patch!, `${cli} carries modernc.org/sqlite v${version!.join('.')}`).toBeGreaterThanOrEqual(
      1 * 1e6 + 51 * 1e3 + 0,
    );
    const { stdout } = await run(cli, ['--version']);
    expect(stdout).toMatch(/temporal version 1\.5\.1 \(Server 1\.29\.1/);
  });
});

describe('the dev server we start', () => {
  /** Starts it from a process of its own group (a terminal's foreground job), Ctrl-Cs the whole group, and reports. */
  async function ctrlC(ownGroup: boolean) {
    const port = await freePort();
    const owner = await spawnEntry('test/fixtures/processes/dev-server-owner.ts', {
      args: [String(port), ...(ownGroup ? ['own-group'] : [])],
      ready: /^ready$/,
      what: 'the dev server owner',
      ownProcessGroup: true,
    });
    try {
      process.kill(-owner.child.pid!, 'SIGINT');
      const { code } = await owner.exited;
      return { code, out: owner.lines.join('\n'), openAfter: await isPortOpen(port) };
    } finally {
      if (owner.alive()) process.kill(-owner.child.pid!, 'SIGKILL');
    }
  }

  it('with ownProcessGroup (the demo), outlives a Ctrl-C to the terminal group until its owner stops it', async () => {
    const { code, out, openAfter } = await ctrlC(true);
    expect(code).toBe(0);
    expect(out).toContain('server answering during the stop: true');
    expect(openAfter).toBe(false);
  }, 90_000);

  it('without it (tests, the bench), ends with that Ctrl-C, so none is left running on its port', async () => {
    const { out, openAfter } = await ctrlC(false);
    expect(out).toContain('server answering during the stop: false');
    expect(openAfter).toBe(false);
  }, 90_000);

  it("left by an owner killed outright: adopted by the next start, stopped at its end; a live owner's is left alone", async () => {
    const port = await freePort();
    const ownerFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reelflow-owner-')), 'temporal.owner.json');
    const owner = await spawnEntry('test/fixtures/processes/dev-server-owner.ts', {
      args: [String(port), 'own-group', ownerFile],
      ready: /^ready$/,
      what: 'the dev server owner',
      ownProcessGroup: true,
    });
    const serverPid = (JSON.parse(fs.readFileSync(ownerFile, 'utf8')) as { serverPid: number }).serverPid;
    try {
      process.kill(owner.child.pid!, 'SIGKILL');
      await owner.exited;
      expect(await isPortOpen(port)).toBe(true);

      const adopted = await startTemporalServer({ port, uiPort: port + 1000, ownerFile });
      expect(adopted.origin).toBe('adopted');
      // Its owner now is this process, alive: a second start leaves the server to it.
      const second = await startTemporalServer({ port, uiPort: port + 1000, ownerFile });
      expect(second.origin).toBe('found');
      await second.stop();
      expect(await isPortOpen(port)).toBe(true);

      await adopted.stop();
      expect(await isPortOpen(port)).toBe(false);
      expect(fs.existsSync(ownerFile)).toBe(false);
    } finally {
      await stopPid(serverPid);
    }
  }, 90_000);

  it('adopted from an owner killed outright, then killed itself: started again all the same', async () => {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelflow-owner-'));
    const ownerFile = path.join(dir, 'temporal.owner.json');
    const opts = { port, uiPort: port + 1000, ownerFile, dbFile: path.join(dir, 'temporal.sqlite') };
    const owner = await spawnEntry('test/fixtures/processes/dev-server-owner.ts', {
      args: [String(port), 'own-group', ownerFile, opts.dbFile],
      ready: /^ready$/,
      what: 'the dev server owner',
      ownProcessGroup: true,
    });
    const serverPid = (JSON.parse(fs.readFileSync(ownerFile, 'utf8')) as { serverPid: number }).serverPid;
    process.kill(owner.child.pid!, 'SIGKILL');
    await owner.exited;
    const adopted = await startTemporalServer(opts);
    expect(adopted.origin).toBe('adopted');
    const said: string[] = [];
    let wanted = true;
    const kept = keepTemporalServerUp(adopted, opts, { wanted: () => wanted, say: (line) => said.push(line) });
    try {
      process.kill(serverPid, 'SIGKILL');
      const again = await waitUntil(() => (kept.current() !== adopted ? kept.current() : null), {
        timeoutMs: 60_000,
        what: 'the dev server started again',
      });
      expect(again.origin).toBe('started');
      expect(said).toEqual([
        'warning: the Temporal dev server stopped (its process is gone); starting it again on the same store...',
        `  the Temporal dev server is back on 127.0.0.1:${port}`,
      ]);
      expect(await isPortOpen(port)).toBe(true);
    } finally {
      wanted = false;
      await kept.current().stop();
      await stopPid(serverPid);
    }
    expect(await isPortOpen(port)).toBe(false);
  }, 120_000);

  it('killed under its owner (the demo): started again on the same store, a workflow started before still there', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const opts = { port, uiPort, dbFile: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reelflow-kept-')), 'temporal.sqlite') };
    const first = await startTemporalServer(opts);
    let wanted = true;
    const said: string[] = [];
    const kept = keepTemporalServerUp(first, opts, { wanted: () => wanted, say: (line) => said.push(line) });
    const connection = await Connection.connect({ address: first.address });
    try {
      const client = new Client({ connection });
      // No worker serves its queue: it stays running, in the store.
      await client.workflow.start('nobodyRunsThis', { taskQueue: 'reelflow-kept-test', workflowId: 'kept-across-a-kill' });
      first.process!.kill('SIGKILL');
      const again = await waitUntil(() => (kept.current() !== first ? kept.current() : null), {
        timeoutMs: 60_000,
        what: 'the dev server started again',
      });
      expect(said).toEqual([
        'warning: the Temporal dev server stopped (SIGKILL); starting it again on the same store...',
        `  the Temporal dev server is back on ${first.address}`,
      ]);
      expect(again.origin).toBe('started');
      const described = await waitUntil(() => client.workflow.getHandle('kept-across-a-kill').describe(), { what: 'the workflow again' });
      expect(described.status.name).toBe('RUNNING');
      // Stopped when it is no longer wanted: not started again.
      wanted = false;
      await again.stop();
      await new Promise((r) => setTimeout(r, 500));
      expect(said).toHaveLength(2);
      expect(await isPortOpen(port)).toBe(false);
    } finally {
      await connection.close();
      await kept.current().stop();
    }
  }, 120_000);
});
