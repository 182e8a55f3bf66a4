/**
 * Recorded histories replay on today's workflow code (scripts/replay-histories.ts,
 * `npm run replay`): a change that would make a running workflow replay
 * differently fails here until it is behind wf.patched(). The fixture from
 * before the one-transaction start proves that guard; the others cover every
 * workflow type, including the signal, update and cancel paths.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import * as workflows from '../../src/workflows';

const run = promisify(execFile);
const FIXTURES = path.resolve(__dirname, '../fixtures/histories');
const fixtures = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort();

interface RecordedHistory {
  events: Array<{ eventType: string; workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }>;
}
const historyOf = (file: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as RecordedHistory;

it('has a recorded history of every workflow type the workers run', () => {
  const recorded = new Set(fixtures.map((f) => historyOf(f).events[0]?.workflowExecutionStartedEventAttributes?.workflowType.name));
  expect([...recorded].sort()).toEqual(Object.keys(workflows).sort());
});

it('has histories that exercise signals, updates and cancellation of a recommendation', () => {
  const types = new Set(fixtures.flatMap((f) => historyOf(f).events.map((e) => e.eventType)));
  for (const t of [
    'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
    'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
    'EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED',
  ]) {
    expect(types).toContain(t);
  }
});

it('replays every recorded history on the current workflow code', async () => {
  const { stdout } = await run(process.execPath, ['-r', 'tsx/cjs', path.resolve(__dirname, '../../scripts/replay-histories.ts')], {
    cwd: path.resolve(__dirname, '../..'),
  }).catch((err: { stdout?: string; message: string }) => {
    throw new Error(`replay failed:\n${err.stdout ?? err.message}`);
  });
  expect(stdout.split('\n').filter((l) => l.startsWith('ok'))).toEqual(fixtures.map((f) => `ok      ${f}`));
  expect(fixtures).toContain('recommendation-before-one-transaction-start.json');
}, 120_000);
