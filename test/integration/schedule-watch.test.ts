/**
 * The schedule watch on the real Temporal server: a Schedule's run that failed is found and told with its root cause,
 * under a key that makes a day's streak of failures one message; a run that succeeded, and a failed workflow that is
 * no schedule's, are not told.
 */
import { expect, it } from 'vitest';
import pino from 'pino';
import { DAILY_BARGAINS_SCHEDULE_ID } from '../../src/schedule/daily-bargains';
import { DAILY_BARGAINS_WORKFLOW } from '../../src/shared/workflow-ids';
import { scheduleFailureKey, startScheduleWatch, type FailedScheduledRun } from '../../src/workers/schedule-watch';
import { harnessForFile } from '../helpers/harness';
import { waitUntil } from '../helpers/wait';

const { h } = harnessForFile();

it("tells a schedule's failed run with its root cause, once a day per schedule; not a success, not another workflow", async () => {
  // Temporal names a scheduled run `<schedule id>-<time>`; a limit the bargains refuse fails it for good.
  const run = (workflowId: string, limit: number) =>
    h.client.workflow.execute(DAILY_BARGAINS_WORKFLOW, { taskQueue: h.taskQueue, workflowId, args: [{ limit }] }).then(
      () => 'ok',
      () => 'failed',
    );
  const failedId = `${DAILY_BARGAINS_SCHEDULE_ID}-2026-12-07T06:00:00Z`;
  expect(await run(failedId, -1)).toBe('failed');
  expect(await run(`${DAILY_BARGAINS_SCHEDULE_ID}-2026-12-07T07:00:00Z`, 1)).toBe('ok');
  expect(await run('not-a-schedule-run', -1)).toBe('failed');

  const told: FailedScheduledRun[] = [];
  const watch = startScheduleWatch(
    { env: h.env, log: pino({ level: 'silent' }) },
    { client: h.client, scheduleIds: [DAILY_BARGAINS_SCHEDULE_ID], everyMs: 300, onFailed: async (r) => void told.push(r) },
  );
  try {
    await waitUntil(() => told.length > 0, { what: 'the failed run told', timeoutMs: 30_000 });
  } finally {
    watch.stop();
  }
  const ids = [...new Set(told.map((r) => r.workflowId))];
  expect(ids).toEqual([failedId]);
  const failed = told[0]!;
  expect(failed).toMatchObject({ scheduleId: DAILY_BARGAINS_SCHEDULE_ID, workflowType: DAILY_BARGAINS_WORKFLOW });
  expect(failed.reason).toMatch(/^its workflow failed: .*limit/);
  // A later failure the same day is the same message; the next day's is a new one.
  const at = (iso: string) => scheduleFailureKey({ scheduleId: failed.scheduleId, closedAt: new Date(iso) });
  expect(at('2026-12-07T01:00:00Z')).toBe(at('2026-12-07T23:00:00Z'));
  expect(at('2026-12-08T01:00:00Z')).not.toBe(at('2026-12-07T23:00:00Z'));
});
