/**
 * The hourly Temporal Schedule that runs recommendationGenerationWorkflow.
 * ensureHourlySchedule is safe to call on every deploy: it creates the
 * schedule or brings spec, action and policies up to date, and never touches
 * its paused state (an operator's pause survives a redeploy).
 *
 * What happens if...
 * - a run is still going when the next hour comes: SKIP; the next run reads
 *   the same window anyway.
 * - the Temporal server was down: on restart it takes the missed run if it is
 *   less than catchupWindow late; older missed runs are dropped because one
 *   run covers the whole lookback window.
 * - a run hangs: workflowRunTimeout ends it, so SKIP does not drop every
 *   later hour behind it.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { ExtraCommandContext } from '../cli/extra-commands';
import { connectTemporal } from '../temporal/client';
import { RECOMMENDATION_GENERATION_WORKFLOW, type RecommendationGenerationInput } from '../workflows/recommendation-generation';

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

function scheduleShape(opts: HourlyScheduleOptions): Omit<ScheduleOptions, 'scheduleId' | 'state' | 'memo'> {
  const scheduleId = opts.scheduleId ?? HOURLY_SCHEDULE_ID;
  const args: [RecommendationGenerationInput] = [{ lookbackDays: opts.lookbackDays ?? 7 }];
  return {
    spec: { intervals: [{ every: opts.every ?? '1 hour' }] },
    action: {
      type: 'startWorkflow',
      workflowType: RECOMMENDATION_GENERATION_WORKFLOW,
      taskQueue: opts.taskQueue,
      workflowId: scheduleId,
      args,
      // Well under the interval, so a stuck run cannot make SKIP swallow the next hours.
      workflowRunTimeout: '30 minutes',
    },
    policies: { overlap: 'SKIP', catchupWindow: opts.catchupWindow ?? '1 hour', pauseOnFailure: false },
  };
}

export async function ensureHourlySchedule(client: Client, opts: HourlyScheduleOptions): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = opts.scheduleId ?? HOURLY_SCHEDULE_ID;
  const shape = scheduleShape(opts);
  try {
    await client.schedule.create({ scheduleId, ...shape, state: { note: 'created by reelflow' } });
    return { scheduleId, created: true };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...shape, state: { paused: previous.state.paused, note: previous.state.note } }));
  return { scheduleId, created: false };
}

export async function pauseHourlySchedule(client: Client, note = 'paused by operator', scheduleId = HOURLY_SCHEDULE_ID): Promise<void> {
  await client.schedule.getHandle(scheduleId).pause(note);
}

export async function unpauseHourlySchedule(client: Client, note = 'unpaused by operator', scheduleId = HOURLY_SCHEDULE_ID): Promise<void> {
  await client.schedule.getHandle(scheduleId).unpause(note);
}

/** Runs it now (also while paused). Under SKIP, a run already in progress means this one is skipped. */
export async function triggerHourlySchedule(client: Client, scheduleId = HOURLY_SCHEDULE_ID): Promise<void> {
  await client.schedule.getHandle(scheduleId).trigger();
}

export async function describeHourlySchedule(client: Client, scheduleId = HOURLY_SCHEDULE_ID): Promise<ScheduleDescription | null> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

const SUBCOMMANDS = ['create', 'pause', 'unpause', 'trigger', 'describe'] as const;

/**
 * `reelflow schedule create|pause|unpause|trigger|describe [note]`, for
 * src/cli/extra-commands.ts. `create` is create-or-update.
 */
export async function scheduleCommand(ctx: ExtraCommandContext): Promise<number> {
  const [sub, ...rest] = ctx.args;
  if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
    console.error(`schedule needs one of ${SUBCOMMANDS.join(', ')}`);
    return 2;
  }
  const note = rest.join(' ') || undefined;
  const client = await connectTemporal(ctx.env.TEMPORAL_ADDRESS, ctx.env.TEMPORAL_NAMESPACE);
  try {
    switch (sub) {
      case 'create': {
        const result = await ensureHourlySchedule(client, { taskQueue: ctx.env.REELFLOW_TASK_QUEUE });
        ctx.out(result, () => console.log(`${result.created ? 'created' : 'updated'} schedule ${result.scheduleId}`));
        break;
      }
      case 'pause':
        await pauseHourlySchedule(client, note);
        ctx.out({ paused: true }, () => console.log(`paused ${HOURLY_SCHEDULE_ID}`));
        break;
      case 'unpause':
        await unpauseHourlySchedule(client, note);
        ctx.out({ paused: false }, () => console.log(`unpaused ${HOURLY_SCHEDULE_ID}`));
        break;
      case 'trigger':
        await triggerHourlySchedule(client);
        ctx.out({ triggered: true }, () => console.log(`triggered ${HOURLY_SCHEDULE_ID}`));
        break;
      case 'describe': {
        const d = await describeHourlySchedule(client);
        if (!d) {
          console.error(`schedule ${HOURLY_SCHEDULE_ID} does not exist; run \`reelflow schedule create\``);
          return 1;
        }
        const summary = {
          scheduleId: d.scheduleId,
          paused: d.state.paused,
          note: d.state.note ?? null,
          overlap: d.policies.overlap,
          catchupWindowMs: d.policies.catchupWindow,
          nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
          recentRuns: d.info.recentActions.map((a) => ({ at: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId })),
        };
        ctx.out(summary, () => console.log(JSON.stringify(summary, null, 2)));
        break;
      }
    }
    return 0;
  } finally {
    await client.connection.close();
  }
}
