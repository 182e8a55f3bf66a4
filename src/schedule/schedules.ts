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
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { WorkflowMetadata } from '../shared/workflow-metadata';
import { sleep } from '../shared/sleep';

/** Every Reelflow schedule's overlap policy, manual triggers included (see the header). */
const OVERLAP = 'SKIP';

type ScheduleShape = Omit<ScheduleOptions, 'scheduleId' | 'state' | 'memo'>;

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

function scheduleShape(s: ScheduledWorkflow): ScheduleShape {
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
    policies: { overlap: OVERLAP, catchupWindow: s.catchupWindow, pauseOnFailure: false },
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
  await client.schedule
    .getHandle(scheduleId)
    .update((previous) => ({ ...shape, state: { paused: previous.state.paused, note: previous.state.note } }));
  return { scheduleId, created: false };
}

export async function pauseSchedule(client: Client, scheduleId: string, note = 'paused by operator'): Promise<void> {
  await client.schedule.getHandle(scheduleId).pause(note);
}

export async function unpauseSchedule(client: Client, scheduleId: string, note = 'unpaused by operator'): Promise<void> {
  await client.schedule.getHandle(scheduleId).unpause(note);
}

/**
 * Runs it now (also while paused). Under SKIP, a run already in progress means this one is skipped:
 * the SDK's trigger() defaults to ALLOW_ALL, which ran a second generation beside the first.
 */
export async function triggerSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).trigger(OVERLAP);
}

/** What one trigger did: the workflow it started, or why it started none. */
export type TriggerOutcome =
  | { outcome: 'started'; workflowId: string; runId: string }
  /** Under SKIP a run still going swallows the trigger. */
  | { outcome: 'skipped'; runningWorkflowId: string }
  /** The server took the trigger but had not acted on it within the wait. */
  | { outcome: 'pending' };

/**
 * Triggers the schedule and waits (up to waitMs) to see what came of it.
 * Temporal's trigger answers before the schedule acts, with nothing about
 * the run, so operators were told nothing they could look up; the schedule's
 * own counters say whether it started a workflow or skipped.
 */
export async function triggerScheduleRun(client: Client, scheduleId: string, waitMs = 10_000): Promise<TriggerOutcome> {
  const handle = client.schedule.getHandle(scheduleId);
  const before = await handle.describe();
  const earlier = new Set(before.info.recentActions.map((a) => a.action.workflow.firstExecutionRunId));
  const skipped = before.info.numActionsSkippedOverlap;
  await handle.trigger(OVERLAP);
  const until = Date.now() + waitMs;
  for (;;) {
    const now = await handle.describe();
    const started = now.info.recentActions.find((a) => !earlier.has(a.action.workflow.firstExecutionRunId));
    if (started)
      return { outcome: 'started', workflowId: started.action.workflow.workflowId, runId: started.action.workflow.firstExecutionRunId };
    const running = now.info.runningActions[0];
    if (now.info.numActionsSkippedOverlap > skipped && running)
      return { outcome: 'skipped', runningWorkflowId: running.workflow.workflowId };
    if (Date.now() > until) return { outcome: 'pending' };
    await sleep(200);
  }
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
