/**
 * The npm scripts that start a long-running process (the demo, workers, API, simulators, Temporal, the bench) run
 * their TypeScript inside node (`node -r tsx/cjs`), as the tests' processes do, not under the `tsx` command. tsx's
 * wrapper process relays a Ctrl-C to its child unless the child confirms it got it within 30 ms, so a busy child
 * (the demo runs every worker) gets it twice, and it SIGKILLs a child that stays silent 30 ms more: the workers'
 * hand-back of their running jobs cut short. Seen on 2026-12-04: one Ctrl-C of the demo read as two ("still stopping").
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { scripts: Record<string, string> };
const LONG_RUNNING = ['start', 'worker', 'api', 'simulators', 'temporal', 'temporal:cluster', 'bench'];

describe('npm scripts', () => {
  it.each(LONG_RUNNING)('%s runs in node with the tsx loader, with no wrapper process between it and a signal', (name) => {
    const script = pkg.scripts[name];
    expect(script).toMatch(/^node -r tsx\/cjs \S+\.ts$/);
    expect(fs.existsSync(path.resolve(__dirname, '../..', script!.split(' ').at(-1)!))).toBe(true);
  });
});
