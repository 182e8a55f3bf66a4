/**
 * The `competitors` Temporal Schedule: competitorDiscoveryWorkflow every 15
 * minutes (shared behaviour, create-or-update and what happens if...:
 * schedules.ts). SKIP loses nothing: the next run reads the same feeds, and a
 * video found late is still found once.
 */
import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { CompetitorDiscoveryInput } from '../workflows/competitor-discovery';
import { COMPETITOR_DISCOVERY_WORKFLOW } from '../shared/workflow-ids';
import { COMPETITOR_DISCOVERY_METADATA } from '../shared/workflow-metadata';
import { ensureSchedule } from './schedules';

export const COMPETITORS_SCHEDULE_ID = 'reelflow-competitors';

export interface CompetitorsScheduleOptions {
  /** Task queue of the base worker (REELFLOW_TASK_QUEUE). */
  taskQueue: string;
  /** Default COMPETITORS_SCHEDULE_ID. Also the prefix of each run's workflow id. */
  scheduleId?: string;
  /** Default '15 minutes'. */
  every?: Duration;
  /** Default '15 minutes': one catch-up run after an outage, not a burst. */
  catchupWindow?: Duration;
  /** Default '14 minutes': a stuck run ends before the next is due, so SKIP cannot drop every later run. */
  workflowRunTimeout?: Duration;
}

export function ensureCompetitorsSchedule(
  client: Client,
  opts: CompetitorsScheduleOptions,
): Promise<{ scheduleId: string; created: boolean }> {
  const input: CompetitorDiscoveryInput = {};
  return ensureSchedule(client, {
    scheduleId: opts.scheduleId ?? COMPETITORS_SCHEDULE_ID,
    spec: { intervals: [{ every: opts.every ?? '15 minutes' }] },
    workflowType: COMPETITOR_DISCOVERY_WORKFLOW,
    metadata: COMPETITOR_DISCOVERY_METADATA,
    taskQueue: opts.taskQueue,
    args: [input],
    catchupWindow: opts.catchupWindow ?? '15 minutes',
    workflowRunTimeout: opts.workflowRunTimeout ?? '14 minutes',
  });
}
