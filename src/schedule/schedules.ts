/**
 * What every Reelflow Schedule shares: one workflow per action, SKIP on
 * overlap, a run timeout well under the spacing of its runs, and a
 * create-or-update that is safe on every deploy and never touches the paused
 * state (an operator's pause survives a redeploy).
 *
 * What happens if...
 * - a run is still going when the next one is due: SKIP; every run reads the
 *   current data anyway and its ideas carry dedupe keys.
 * - the Temporal server was down: on restart it takes the missed run if it is
 *   less than catchupWindow late; older missed runs are dropped.
 * - a run hangs: workflowRunTimeout ends it, so SKIP does not drop every
 *   later run behind it.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleOptions, type ScheduleSpec } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { WorkflowMetadata } from '../shared/workflow-metadata';

export type ScheduleShape = Omit<ScheduleOptions, 'scheduleId' | 'state' | 'memo'>;

export interface ScheduledWorkflow {
  /** Also the prefix of each run's workflow id (Temporal appends the scheduled time). */
  scheduleId: string;
  spec: ScheduleSpec;
  workflowType: string;
  taskQueue: string;
  args: unknown[];
  catchupWindow: Duration;
  /** Default '30 minutes': well under the spacing of the runs, so a stuck run cannot make SKIP swallow the next ones. */
  workflowRunTimeout?: Duration;
  /** What the Web UI shows for each run besides its id (src/shared/workflow-metadata.ts). */
  metadata?: WorkflowMetadata;
}

export function scheduleShape(s: ScheduledWorkflow): ScheduleShape {
  return {
    spec: s.spec,
    action: {
      type: 'startWorkflow',
      workflowType: s.workflowType,
      taskQueue: s.taskQueue,
      workflowId: s.scheduleId,
      args: s.args,
      workflowRunTimeout: s.workflowRunTimeout ?? '30 minutes',
      ...s.metadata,
    },
    policies: { overlap: 'SKIP', catchupWindow: s.catchupWindow, pauseOnFailure: false },
  };
}

/** Creates the schedule, or brings spec, action and policies up to date and keeps its paused state and note. */
export async function ensureSchedule(client: Client, schedule: ScheduledWorkflow): Promise<{ scheduleId: string; created: boolean }> {
  const { scheduleId } = schedule;
  const shape = scheduleShape(schedule);
  try {
    await client.schedule.create({ scheduleId, ...shape, state: { note: 'created by reelflow' } });
    return { scheduleId, created: true };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...shape, state: { paused: previous.state.paused, note: previous.state.note } }));
  return { scheduleId, created: false };
}

export async function pauseSchedule(client: Client, scheduleId: string, note = 'paused by operator'): Promise<void> {
  await client.schedule.getHandle(scheduleId).pause(note);
}

export async function unpauseSchedule(client: Client, scheduleId: string, note = 'unpaused by operator'): Promise<void> {
  await client.schedule.getHandle(scheduleId).unpause(note);
}

/** Runs it now (also while paused). Under SKIP, a run already in progress means this one is skipped. */
export async function triggerSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).trigger();
}

/** Null when the schedule does not exist. */
export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleDescription | null> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}
