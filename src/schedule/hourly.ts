/**
 * The hourly Temporal Schedule that runs recommendationGenerationWorkflow
 * (shared behaviour, create-or-update and what happens if...: schedules.ts).
 * SKIP loses nothing here: the next run reads the same lookback window, and
 * one catch-up run after an outage covers the whole window.
 */
import type { Client, ScheduleDescription } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { type RecommendationGenerationInput } from '../workflows/recommendation-generation';
import { RECOMMENDATION_GENERATION_WORKFLOW } from '../shared/workflow-ids';
import { RECOMMENDATION_GENERATION_METADATA } from '../shared/workflow-metadata';
import { describeSchedule, ensureSchedule, pauseSchedule, triggerSchedule, unpauseSchedule } from './schedules';

export const HOURLY_SCHEDULE_ID = 'reelflow-recommendations-hourly';

export interface HourlyScheduleOptions {
  /** Task queue of the base worker (REELFLOW_TASK_QUEUE). */
  taskQueue: string;
  /** Default HOURLY_SCHEDULE_ID. Also the prefix of each run's workflow id. */
  scheduleId?: string;
  /** Default 7. */
  lookbackDays?: number;
  /** Default '1 hour'. */
  every?: Duration;
  /** Default '1 hour': at most one catch-up run after an outage. */
  catchupWindow?: Duration;
}

export function ensureHourlySchedule(client: Client, opts: HourlyScheduleOptions): Promise<{ scheduleId: string; created: boolean }> {
  const input: RecommendationGenerationInput = { lookbackDays: opts.lookbackDays ?? 7 };
  return ensureSchedule(client, {
    scheduleId: opts.scheduleId ?? HOURLY_SCHEDULE_ID,
    spec: { intervals: [{ every: opts.every ?? '1 hour' }] },
    workflowType: RECOMMENDATION_GENERATION_WORKFLOW,
    metadata: RECOMMENDATION_GENERATION_METADATA,
    taskQueue: opts.taskQueue,
    args: [input],
    catchupWindow: opts.catchupWindow ?? '1 hour',
  });
}

export const pauseHourlySchedule = (client: Client, note?: string, scheduleId = HOURLY_SCHEDULE_ID): Promise<void> =>
  pauseSchedule(client, scheduleId, note);

export const unpauseHourlySchedule = (client: Client, note?: string, scheduleId = HOURLY_SCHEDULE_ID): Promise<void> =>
  unpauseSchedule(client, scheduleId, note);

export const triggerHourlySchedule = (client: Client, scheduleId = HOURLY_SCHEDULE_ID): Promise<void> =>
  triggerSchedule(client, scheduleId);

export const describeHourlySchedule = (client: Client, scheduleId = HOURLY_SCHEDULE_ID): Promise<ScheduleDescription | null> =>
  describeSchedule(client, scheduleId);
