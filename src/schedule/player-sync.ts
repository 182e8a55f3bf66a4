/**
 * The daily Temporal Schedule that runs playerSyncWorkflow at 06:00 in Madrid:
 * API-Football updates player statistics after the night's matches and its
 * injuries every 4 hours, and the bargains run at 08:00 (daily-bargains.ts)
 * should read this morning's minutes and injuries. Shared behaviour
 * (create-or-update, SKIP, what happens if...): schedules.ts. A missed morning
 * still runs if it is less than a day late; one sync costs ~35 of the free plan's
 * 100 requests a day, so the schedule never runs it twice in a day on its own.
 */
import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { BARGAIN_TIME_ZONE } from '../recommendations/bargains';
import type { PlayerSyncInput } from '../workflows/player-sync';
import { PLAYER_SYNC_WORKFLOW } from '../shared/workflow-ids';
import { PLAYER_SYNC_METADATA } from '../shared/workflow-metadata';
import { ensureSchedule } from './schedules';

export const PLAYER_SYNC_SCHEDULE_ID = 'reelflow-players-daily';

export interface PlayerSyncScheduleOptions {
  /** Task queue of the base worker (REELFLOW_TASK_QUEUE). */
  taskQueue: string;
  /** Default PLAYER_SYNC_SCHEDULE_ID. Also the prefix of each run's workflow id. */
  scheduleId?: string;
  /** Default 6 (06:00 Europe/Madrid), two hours before the bargains. */
  hour?: number;
  /** Default '1 day': a morning missed during an outage still runs, once. */
  catchupWindow?: Duration;
}

export function ensurePlayerSyncSchedule(
  client: Client,
  opts: PlayerSyncScheduleOptions,
): Promise<{ scheduleId: string; created: boolean }> {
  const hour = opts.hour ?? 6;
  const input: PlayerSyncInput = {};
  return ensureSchedule(client, {
    scheduleId: opts.scheduleId ?? PLAYER_SYNC_SCHEDULE_ID,
    spec: { calendars: [{ hour, minute: 0, comment: `every day at ${hour}:00 in ${BARGAIN_TIME_ZONE}` }], timezone: BARGAIN_TIME_ZONE },
    workflowType: PLAYER_SYNC_WORKFLOW,
    metadata: PLAYER_SYNC_METADATA,
    taskQueue: opts.taskQueue,
    args: [input],
    catchupWindow: opts.catchupWindow ?? '1 day',
    // ~35 requests 6 s apart is 4 minutes; a few per-minute 429s add a minute each.
    workflowRunTimeout: '1 hour',
  });
}
