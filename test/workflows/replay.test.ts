/**
 * Recorded histories of recommendationWorkflow replay on today's code
 * (scripts/replay-histories.ts, `npm run replay`): a change that would make
 * a running workflow replay differently fails here until it is behind
 * wf.patched(). The fixture from before the one-transaction start proves
 * that guard.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);

it('replays every recorded history on the current workflow code', async () => {
  const { stdout } = await run(process.execPath, ['-r', 'tsx/cjs', path.resolve(__dirname, '../../scripts/replay-histories.ts')], {
    cwd: path.resolve(__dirname, '../..'),
  }).catch((err: { stdout?: string; message: string }) => {
    throw new Error(`replay failed:\n${err.stdout ?? err.message}`);
  });
  expect(stdout.split('\n').filter((l) => l.startsWith('ok'))).toEqual([
    'ok      recommendation-before-one-transaction-start.json',
    'ok      recommendation-one-transaction-start.json',
  ]);
}, 120_000);
