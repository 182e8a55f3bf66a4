/**
 * The Temporal worker runtime of a worker process: its own metrics on Prometheus, its log lines in ours (pino JSON).
 * Runtime.install is process-wide, which is fine here: vitest runs each test file in its own process.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { expect, inject, it } from 'vitest';
import pino from 'pino';
import { installTemporalRuntime } from '../../src/metrics/runtime';
import { freePort } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';
import { bundleWorkflowFile } from '../helpers/workflow-bundle';

it("exports worker metrics (pollers, task slots, latencies) at /metrics and logs the SDK's lines as JSON in ours", async () => {
  const port = await freePort();
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  installTemporalRuntime(log, `127.0.0.1:${port}`);
  const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  const worker = await Worker.create({
    connection,
    taskQueue: `runtime-metrics-${port}`,
    workflowBundle: await bundleWorkflowFile('notification.ts'),
    activities: {},
  });
  const running = worker.run();
  try {
    const text = await waitUntil(
      async () => {
        const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return body.includes('temporal_worker_task_slots_available') ? body : null;
      },
      { what: 'Temporal runtime metrics', timeoutMs: 15_000 },
    );
    expect(text).toMatch(/temporal_worker_task_slots_available\{[^}]*task_queue="runtime-metrics-\d+"/);
    expect(text).toContain('temporal_num_pollers');
    // An activities-only worker: the SDK's warning that it polls no workflows, as one of our JSON lines.
    const activitiesOnly = await Worker.create({
      connection,
      taskQueue: `runtime-logs-${port}`,
      activities: { noop: async () => undefined },
    });
    const second = activitiesOnly.run();
    await waitUntil(() => lines.find((l) => String(l.msg).startsWith('No workflows registered')), { what: 'the SDK line in pino' });
    activitiesOnly.shutdown();
    await second;
    expect(lines.find((l) => String(l.msg).startsWith('No workflows registered'))).toMatchObject({
      level: 40,
      component: 'temporal-sdk',
      sdkComponent: 'worker',
      taskQueue: `runtime-logs-${port}`,
    });
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
});
