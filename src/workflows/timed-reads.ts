/**
 * What the timed-read workflows share (competitor-views.ts, post-metrics.ts):
 * P3 reads through the gate at offsets after a moment, on durable timers.
 */
import * as wf from '@temporalio/workflow';
import type { Provider } from '../config/providers';
import { providerActivityOptions } from '../shared/activity-options';

/** Their database activities: short, retried until PostgreSQL answers. */
export const READS_BASE_OPTIONS: wf.ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
};

/** The provider's read activities, P3: a read may wait `waitBudgetMs` for a slot, after which the next timer makes it stale. */
export function readActivities<T>(provider: Provider, estimateSeconds: number, waitBudgetMs: number) {
  return wf.proxyActivities<T>(
    providerActivityOptions({
      provider,
      baseTaskQueue: wf.workflowInfo().taskQueue,
      estimateSeconds,
      waitBudgetMs,
      priority: 'P3',
    }),
  );
}

/**
 * Yields each offset (seconds after `from`, ascending) once its durable timer fired; a timer already past when
 * the workflow (re)starts fires at once. `msPerSecond` compresses the clock (REELFLOW_METRICS_HOUR_MS).
 */
export async function* atOffsets(from: string, offsetsSeconds: readonly number[], msPerSecond = 1_000): AsyncGenerator<number> {
  const start = Date.parse(from);
  for (const offset of offsetsSeconds) {
    const wait = start + offset * msPerSecond - Date.now();
    if (wait > 0) await wf.sleep(wait);
    yield offset;
  }
}
