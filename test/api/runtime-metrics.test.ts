/**
 * The Temporal worker runtime's own metrics on Prometheus. Runtime.install is
 * process-wide, which is fine here: vitest runs each test file in its own process.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { expect, inject, it } from 'vitest';
import { installTemporalRuntimeTelemetry } from '../../src/metrics/runtime';
import { freePort } from '../helpers/processes';
import { waitUntil } from '../helpers/wait';
import { bundleWorkflowFile } from '../helpers/workflow-bundle';

it('exports worker metrics (pollers, task slots, latencies) at /metrics', async () => {
  const port = await freePort();
  installTemporalRuntimeTelemetry(`127.0.0.1:${port}`);
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
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
});
