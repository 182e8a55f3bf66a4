/**
 * The daily Temporal Schedule that runs dailyBargainsWorkflow every morning
 * at 08:00 in Madrid (the time zone makes it 08:00 in summer and winter
 * alike), so the chollos are out before the day's market moves. Shared
 * behaviour (create-or-update, SKIP, what happens if...): schedules.ts.
 * After an outage the missed morning still runs if it is less than a day
 * late; two runs the same day create nothing twice (dedupe per player and day).
 */
import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { BARGAIN_TIME_ZONE } from '../recommendations/bargains';
import { type DailyBargainsInput } from '../workflows/daily-bargains';
import { DAILY_BARGAINS_WORKFLOW } from '../shared/workflow-ids';
import { DAILY_BARGAINS_METADATA } from '../shared/workflow-metadata';
import { ensureSchedule } from './schedules';

export const DAILY_BARGAINS_SCHEDULE_ID = 'reelflow-bargains-daily';

export interface DailyBargainsScheduleOptions {
  /** Task queue of the base worker (REELFLOW_TASK_QUEUE). */
  taskQueue: string;
  /** Default DAILY_BARGAINS_SCHEDULE_ID. Also the prefix of each run's workflow id. */
  scheduleId?: string;
  /** Bargains per day. Default 3. */
  limit?: number;
  /** Default 8 (08:00 Europe/Madrid). */
  hour?: number;
  /** Default '1 day': a morning missed during an outage still runs, once. */
  catchupWindow?: Duration;
}

export function ensureDailyBargainsSchedule(
  client: Client,
  opts: DailyBargainsScheduleOptions,
): Promise<{ scheduleId: string; created: boolean }> {
  const hour = opts.hour ?? 8;
  const input: DailyBargainsInput = { limit: opts.limit ?? 3 };
  return ensureSchedule(client, {
    scheduleId: opts.scheduleId ?? DAILY_BARGAINS_SCHEDULE_ID,
    spec: { calendars: [{ hour, minute: 0, comment: `every day at ${hour}:00 in ${BARGAIN_TIME_ZONE}` }], timezone: BARGAIN_TIME_ZONE },
    workflowType: DAILY_BARGAINS_WORKFLOW,
    metadata: DAILY_BARGAINS_METADATA,
    taskQueue: opts.taskQueue,
    args: [input],
    catchupWindow: opts.catchupWindow ?? '1 day',
  });
}
