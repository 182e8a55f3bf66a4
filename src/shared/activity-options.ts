/**
 * The options of a provider activity, built once from the limits table for
 * every workflow that runs provider jobs (recommendation, competitor video).
 * No Node imports (workflow sandbox).
 */
import type { ActivityOptions } from '@temporalio/common';
import { temporalPriorityKey, type Priority } from '../config/priorities';
import { PROVIDER_LIMITS, providerTaskQueue, type Provider } from '../config/providers';

export interface ProviderActivityOptionsInput {
  provider: Provider;
  /** The workflow's own (base) task queue; the provider's queue is derived from it. */
  baseTaskQueue: string;
  /** How long this step may run once it has its slot (the activity itself stops it at twice this). */
  estimateSeconds: number;
  /** How long the step may wait in its provider's line for a slot. */
  waitBudgetMs: number;
  priority: Priority;
}

export function providerActivityOptions(input: ProviderActivityOptionsInput): ActivityOptions {
  const limits = PROVIDER_LIMITS[input.provider];
  return {
    taskQueue: providerTaskQueue(input.baseTaskQueue, input.provider),
    // Time in the provider's line plus the 2x-estimate run bound the activity enforces itself.
    startToCloseTimeout: input.waitBudgetMs + 2 * input.estimateSeconds * 1_000,
    heartbeatTimeout: limits.heartbeatTimeoutMs,
    // The first retry soon: after a heartbeat timeout (a dead worker) the job should run again at once.
    retry: { maximumAttempts: limits.maxAttempts, initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '1 minute' },
    priority: { priorityKey: temporalPriorityKey(input.priority) },
  };
}
