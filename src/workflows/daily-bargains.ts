/**
 * dailyBargainsWorkflow: what the daily bargains Schedule starts. One
 * activity: the day's best-value players become P1 `bargain` recommendations
 * (one per player and Madrid day) and their workflows start. The day comes
 * from this workflow's start time, so a retry late in the night still works
 * on the day the Schedule meant.
 */
import * as wf from '@temporalio/workflow';
import type { createBargainActivities, DailyBargainsSummary } from '../activities/bargains';

/** The budget of recommendation generation: a roster read, a few inserts and one workflow start per bargain. */
const activityOptions: wf.ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
};
const { generateDailyBargains } = wf.proxyActivities<ReturnType<typeof createBargainActivities>>(activityOptions);

export interface DailyBargainsInput {
  /** Default 3 bargains a day. */
  limit?: number;
}

export async function dailyBargainsWorkflow({ limit = 3 }: DailyBargainsInput = {}): Promise<DailyBargainsSummary> {
  return generateDailyBargains({ limit, at: wf.workflowInfo().startTime.toISOString() });
}
