/**
 * A workflow whose task fails at every try makes no progress and never ends, and no job of it runs long enough to be
 * stuck: the worker reads core's "Failing workflow task" lines and raises it once, naming the workflow and the
 * failure. Runtime.install is process-wide: vitest runs each test file in its own process.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type LogEntry } from '@temporalio/worker';
import { expect, inject, it } from 'vitest';
import pino from 'pino';
import { installTemporalRuntime } from '../../src/metrics/runtime';
import { failureMessage, watchWorkflowTaskFailures, type FailingWorkflow } from '../../src/workers/task-failure-watch';
import { waitUntil } from '../helpers/wait';
import { bundleWorkflowFile } from '../helpers/workflow-bundle';

it("reports a workflow whose task keeps failing, once, with its id and core's message", async () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const late: { watch?: ReturnType<typeof watchWorkflowTaskFailures> } = {};
  const failed: LogEntry[] = [];
  installTemporalRuntime(log, undefined, (entry) => {
    if (entry.message === 'Failing workflow task') failed.push(entry);
    late.watch?.observe(entry);
  });
  const address = inject('temporalAddress');
  const client = new Client({ connection: await Connection.connect({ address }) });
  const reports: FailingWorkflow[] = [];
  const watch = (late.watch = watchWorkflowTaskFailures({
    client,
    log,
    confirmEveryMs: 1_000,
    onFailing: async (f) => void reports.push(f),
  }));
  const connection = await NativeConnection.connect({ address });
  const taskQueue = `task-failures-${Date.now()}`;
  const worker = await Worker.create({ connection, taskQueue, workflowBundle: await bundleWorkflowFile('recommendation.ts') });
  const running = worker.run();
  try {
    // Started by hand without its input (`temporal workflow start` with no --input): the code throws on every try.
    const handle = await client.workflow.start('recommendationWorkflow', { taskQueue, workflowId: `broken-${taskQueue}`, args: [] });
    await waitUntil(() => reports.length > 0, { what: 'the report', timeoutMs: 30_000 });
    // Core logs a run's first failed try only; another process's line for it, or the same line again, reports nothing more.
    expect(failed.filter((e) => e.meta?.runId === handle.firstExecutionRunId).length).toBeGreaterThan(0);
    watch.observe(failed[0]!);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      workflowId: handle.workflowId,
      runId: handle.firstExecutionRunId,
      workflowType: 'recommendationWorkflow',
    });
    // Reported once two tries have failed, the third under way.
    expect(reports[0]!.attempt).toBeGreaterThanOrEqual(3);
    expect(reports[0]!.failure).toMatch(/recommendationId/);
    expect(lines.find((l) => l.level === 50 && l.workflowId === handle.workflowId)).toMatchObject({
      msg: expect.stringMatching(/^workflow task fails at every try/),
    });
    await handle.terminate('test over');
  } finally {
    watch.stop();
    worker.shutdown();
    await running;
    await connection.close();
    await client.connection.close();
  }
}, 60_000);

it("reads the message out of core's failure text", () => {
  expect(failureMessage('Failure { failure: Some(Failure { message: "[TMPRL1100] Change id \\"a\\" does not match", source: "" }) }')).toBe(
    '[TMPRL1100] Change id "a" does not match',
  );
  expect(failureMessage('plain text')).toBe('plain text');
});
